/* log.c: see log.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "log.h"

/* A message longer than this is truncated: log lines are built on the stack
 * and never sized from input. */
#define LOG_LINE_MAX 4096

static int max_level = LOG_INFO;
static bool journal_prefix;

void log_setup(void) {
        /* $JOURNAL_STREAM is "DEV:INODE" of the stream systemd connected;
         * it only counts if that is still our stderr (not redirected). */
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        if (e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0)
                journal_prefix = st.st_dev == (dev_t) dev && st.st_ino == (ino_t) ino;
}

void log_set_level(int level) {
        max_level = level;
}

int log_full(int prio, int errno_val, const char *fmt, ...) {
        int ret = errno_val == 0 ? -EINVAL : errno_val < 0 ? errno_val : -errno_val;
        if (prio > max_level)
                return ret;

        char line[LOG_LINE_MAX];
        int n = 0;
        if (journal_prefix)
                n = snprintf(line, sizeof line, "<%d>", prio);
        else
                n = snprintf(line, sizeof line, "unitcorn[%d]: ", (int) getpid());

        int saved_errno = errno;
        va_list ap;
        va_start(ap, fmt);
        n += vsnprintf(line + n, sizeof line - (size_t) n, fmt, ap);
        va_end(ap);
        errno = saved_errno;

        if (n > (int) sizeof line - 2)
                n = (int) sizeof line - 2;
        line[n++] = '\n';
        ssize_t r = write(STDERR_FILENO, line, (size_t) n);
        (void) r;
        return ret;
}
