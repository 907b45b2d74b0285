/* spool.c: see spool.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "spool.h"

#define SPOOL_DEFAULT_DIR "/var/tmp"

static const char *spool_dir(void) {
        const char *d = getenv("TMPDIR");
        return d && d[0] == '/' ? d : SPOOL_DEFAULT_DIR;
}

int spool_open(void) {
        static bool fallback_logged;
        const char *dir = spool_dir();
        int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0)
                return fd;
        int e = errno;
        fd = memfd_create("unitcorn-body", MFD_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create a file for a request body in '%s' (%s) or in memory: %s",
                                       dir, STRERROR(e), STRERROR(errno));
        if (!fallback_logged) {
                log_warning("Failed to create a file for a request body in '%s': %s; large bodies go to memory-backed files (memfd) instead.",
                            dir, STRERROR(e));
                fallback_logged = true;
        }
        return fd;
}

int spool_write(int fd, const char *a, size_t a_len, const char *b, size_t b_len) {
        struct iovec iov[2] = {
                { .iov_base = (void *) a, .iov_len = a_len },
                { .iov_base = (void *) b, .iov_len = b_len },
        };
        struct iovec *v = iov;
        int n = 2;
        while (n > 0) {
                if (v->iov_len == 0) {
                        v++;
                        n--;
                        continue;
                }
                ssize_t w = writev(fd, v, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "Failed to write a request body to its spool file: %s", STRERROR(errno));
                }
                size_t left = (size_t) w;
                while (n > 0 && left >= v->iov_len) {
                        left -= v->iov_len;
                        v++;
                        n--;
                }
                if (n > 0) {
                        v->iov_base = (char *) v->iov_base + left;
                        v->iov_len -= left;
                }
        }
        return 0;
}
