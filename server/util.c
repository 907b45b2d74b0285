/* util.c: see util.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void _noreturn_ oom(void) {
        static const char msg[] = "unitcorn: out of memory\n";
        ssize_t r = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void) r;
        abort();
}

void *xmalloc(size_t n) {
        void *p = malloc(n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *p, size_t n) {
        p = realloc(p, n ? n : 1);
        if (!p)
                oom();
        return p;
}

char *xstrdup(const char *s) {
        char *d = strdup(s);
        if (!d)
                oom();
        return d;
}

size_t strv_length(char * const *v) {
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

char **strv_push(char **v, char *s) {
        size_t n = strv_length(v);
        v = xrealloc(v, (n + 2) * sizeof *v);
        v[n] = s;
        v[n + 1] = NULL;
        return v;
}

char **strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
        return NULL;
}

void buf_reserve(Buf *b, size_t extra) {
        if (b->len + extra + 1 <= b->cap)
                return;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + extra + 1)
                cap *= 2;
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
}

void buf_add(Buf *b, const void *p, size_t n) {
        buf_reserve(b, n);
        if (n)
                memcpy(b->s + b->len, p, n);
        b->len += n;
        b->s[b->len] = 0;
}

void buf_addf(Buf *b, const char *fmt, ...) {
        /* most lines fit on the stack: format once */
        char tmp[256];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t) n < sizeof tmp) {
                buf_add(b, tmp, (size_t) n);
                return;
        }
        buf_reserve(b, (size_t) n);
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t) n;
}

void buf_done(Buf *b) {
        free(b->s);
        *b = (Buf) {0};
}
