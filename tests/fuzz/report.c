/* report.c: see report.h. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "report.h"

static FILE *out;

void report_init(void) {
        int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        out = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (out)
                setvbuf(out, NULL, _IONBF, 0);
}

FILE *report_file(void) {
        return out ? out : stderr;
}

void report_fail(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("FAILED CHECK: ", report_file());
        vfprintf(report_file(), fmt, ap);
        fputc('\n', report_file());
        va_end(ap);
        abort();
}
