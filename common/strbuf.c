/* strbuf.c: growable strings and string vectors (see strbuf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "strbuf.h"

/* Out of memory: no better answer than dying (a worker is replaced by the
 * master; the generator is a short-lived boot-time program). */
static void oom(void) {
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

void *xcalloc(size_t n, size_t m) {
        void *p = calloc(n ? n : 1, m ? m : 1);
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
        return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n) {
        char *p = xmalloc(n + 1);
        memcpy(p, s, n);
        p[n] = 0;
        return p;
}

char *xasprintf(const char *fmt, ...) {
        _cleanup_sb_ StrBuf b = {0};
        va_list ap;
        va_start(ap, fmt);
        sb_vaddf(&b, fmt, ap);
        va_end(ap);
        return sb_take(&b);
}

void sb_grow(StrBuf *b, size_t extra) {
        if (b->len + extra + 1 <= b->cap)
                return;
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + extra + 1)
                cap *= 2;
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
        b->s[b->len] = 0;   /* a grown buffer is a string, even an empty one */
}

void sb_addn(StrBuf *b, const char *s, size_t n) {
        sb_grow(b, n);
        if (n)
                memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = 0;
}

void sb_add(StrBuf *b, const char *s) {
        sb_addn(b, s, strlen(s));
}

void sb_vaddf(StrBuf *b, const char *fmt, va_list ap) {
        /* Format into the room there is; only when that is too small grow
         * and format again (most calls fit: one vsnprintf, not two). */
        sb_grow(b, 64);
        va_list aq;
        va_copy(aq, ap);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->s + b->len, room, fmt, aq);
        va_end(aq);
        if (n < 0)
                abort();
        if ((size_t) n >= room) {
                sb_grow(b, (size_t) n);
                vsnprintf(b->s + b->len, (size_t) n + 1, fmt, ap);
        }
        b->len += (size_t) n;
}

void sb_addf(StrBuf *b, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        sb_vaddf(b, fmt, ap);
        va_end(ap);
}

void sb_addv(StrBuf *b, ...) {
        va_list ap;
        va_start(ap, b);
        for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
                sb_add(b, s);
        va_end(ap);
}

void sb_addi(StrBuf *b, long long v) {
        char buf[24], *p = buf + sizeof buf;
        unsigned long long u = v < 0 ? 0ull - (unsigned long long) v : (unsigned long long) v;
        do
                *--p = (char) ('0' + u % 10);
        while (u /= 10);
        if (v < 0)
                *--p = '-';
        sb_addn(b, p, (size_t) (buf + sizeof buf - p));
}

char *xstrjoin(const char *first, ...) {
        StrBuf b = {0};
        sb_add(&b, first);
        va_list ap;
        va_start(ap, first);
        for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
                sb_add(&b, s);
        va_end(ap);
        return sb_take(&b);
}

char *sb_take(StrBuf *b) {
        char *s = b->s ? b->s : xstrdup("");
        *b = (StrBuf) {0};
        return s;
}

void sb_done(StrBuf *b) {
        free(b->s);
        *b = (StrBuf) {0};
}

size_t strv_length(char * const *v) {
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

char **strv_push(char **v, char *s) {
        size_t n = strv_length(v);
        v = xrealloc(v, (n + 2) * sizeof(char *));
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

bool strv_contains(char * const *v, const char *s) {
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

char *py_strip(char *s) {
        while (py_isspace(*s))
                s++;
        size_t n = strlen(s);
        while (n > 0 && py_isspace(s[n - 1]))
                s[--n] = 0;
        return s;
}

/* Python's repr() (and ascii(), which also escapes what is not ASCII) of a
 * str: single quotes unless the text has a single quote and no double quote;
 * backslash escapes for the quote, backslash and control characters. */
void sb_add_repr(StrBuf *b, const char *s, bool ascii) {
        char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
        sb_addc(b, q);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == (unsigned char) q || *p == '\\') {
                        sb_addc(b, '\\');
                        sb_addc(b, (char) *p);
                } else if (*p == '\n')
                        sb_add(b, "\\n");
                else if (*p == '\t')
                        sb_add(b, "\\t");
                else if (*p == '\r')
                        sb_add(b, "\\r");
                else if (*p < 0x20 || *p == 0x7f)
                        sb_addf(b, "\\x%02x", *p);
                else if (*p >= 0x80 && ascii) {
                        size_t n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
                        uint32_t cp = *p & (0x3f >> (n - 1));
                        for (size_t i = 1; i < n && p[1]; i++)
                                cp = (cp << 6) | (*++p & 0x3f);
                        if (cp < 0x100)
                                sb_addf(b, "\\x%02x", (unsigned) cp);
                        else if (cp < 0x10000)
                                sb_addf(b, "\\u%04x", (unsigned) cp);
                        else
                                sb_addf(b, "\\U%08x", (unsigned) cp);
                } else
                        sb_addc(b, (char) *p);
        }
        sb_addc(b, q);
}

