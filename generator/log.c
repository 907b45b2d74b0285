/* log.c: see log.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "strbuf.h"

static int max_level = LOG_INFO;
static int kmsg_fd = -1;
static unsigned n_errors, n_warnings;

static int level_from_string(const char *s) {
        static const char *const names[] = { "emerg", "alert", "crit", "err",
                                             "warning", "notice", "info", "debug" };
        for (int i = 0; i < (int) ELEMENTSOF(names); i++)
                if (strcasecmp(s, names[i]) == 0)
                        return i;
        if (strcasecmp(s, "error") == 0)
                return LOG_ERR;
        char *end;
        long l = strtol(s, &end, 10);
        if (*s && !*end && l >= 0 && l <= 7)
                return (int) l;
        return -1;
}

void log_setup(void) {
        const char *e = getenv("SYSTEMD_LOG_LEVEL");
        if (e && level_from_string(e) >= 0)
                max_level = level_from_string(e);

        /* Run by the service manager: our stderr is not connected to anything
         * an operator will read, the kernel log is (and the journal picks it up). */
        /* ... except in a container, where /dev/kmsg is the host's (or
         * absent) and the manager collects our stderr itself. */
        const char *target = getenv("SYSTEMD_LOG_TARGET");
        bool want_kmsg = target ? strcmp(target, "kmsg") == 0 : getppid() == 1 && !getenv("container");
        if (want_kmsg)
                kmsg_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
}

void log_set_level(int level) {
        max_level = level;
}

int log_get_level(void) {
        return max_level;
}

unsigned log_n_errors(void) {
        return n_errors;
}

unsigned log_n_warnings(void) {
        return n_warnings;
}

int log_at(int prio, const char *file, unsigned line, const char *fmt, ...) {
        /* counted atomically: unit writing may run on two threads */
        if (prio <= LOG_ERR)
                __atomic_fetch_add(&n_errors, 1, __ATOMIC_RELAXED);
        else if (prio == LOG_WARNING)
                __atomic_fetch_add(&n_warnings, 1, __ATOMIC_RELAXED);
        if (prio > max_level)
                return -EINVAL;

        int saved_errno = errno;
        _cleanup_sb_ StrBuf b = {0};
        if (kmsg_fd >= 0)
                sb_addf(&b, "<%d>", LOG_DAEMON | prio);
        sb_addf(&b, "unitcorn-generator[%d]: ", (int) getpid());
        if (file && line > 0)
                sb_addf(&b, "%s:%u: ", file, line);
        else if (file)
                sb_addf(&b, "%s: ", file);
        errno = saved_errno;
        va_list ap;
        va_start(ap, fmt);
        sb_vaddf(&b, fmt, ap);
        va_end(ap);
        sb_addc(&b, '\n');

        ssize_t r = -1;
        if (kmsg_fd >= 0)
                r = write(kmsg_fd, b.s, b.len);
        if (r < 0)
                /* A message for stderr does not carry the kmsg prefix. */
                r = write(STDERR_FILENO, kmsg_fd >= 0 ? strchr(b.s, '>') + 1 : b.s,
                          kmsg_fd >= 0 ? b.len - (size_t) (strchr(b.s, '>') + 1 - b.s) : b.len);
        (void) r;
        return -EINVAL;
}
