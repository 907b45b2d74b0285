/* pidfile.c: see pidfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pidfile.h"
#include "strbuf.h"

/* The PID in path, 0 if none can be read. */
static pid_t pidfile_read(const char *path) {
        FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        long pid = 0;
        if (fscanf(f, "%ld", &pid) != 1 || pid <= 0 || pid > INT32_MAX)
                pid = 0;
        fclose(f);
        return (pid_t) pid;
}

int pidfile_create(const char *path) {
        pid_t old = pidfile_read(path);
        if (old > 0 && old != getpid() && (kill(old, 0) == 0 || errno == EPERM))
                return log_error_errno(EEXIST, "Already running on PID %d (or pid file '%s' is stale).",
                                       (int) old, path);

        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash)
                slash[slash == dir ? 1 : 0] = 0;
        _cleanup_free_ char *tmp = xasprintf("%s/.unitcorn-pid-XXXXXX", slash ? dir : ".");
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create pid file '%s': %s", path, STRERROR(errno));
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%d\n", (int) getpid());
        bool ok = write(fd, buf, (size_t) n) == n && fchmod(fd, 0644) == 0;
        int e = errno;
        if (close(fd) < 0 && ok) {
                ok = false;
                e = errno;
        }
        if (ok && rename(tmp, path) < 0) {
                ok = false;
                e = errno;
        }
        if (!ok) {
                (void) unlink(tmp);
                return log_error_errno(e ? e : EIO, "Failed to write pid file '%s': %s", path, STRERROR(e ? e : EIO));
        }
        return 0;
}

void pidfile_remove(const char *path) {
        if (pidfile_read(path) == getpid())
                (void) unlink(path);
}
