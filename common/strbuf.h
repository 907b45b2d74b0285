/* strbuf.h: a growable byte string, NULL-terminated string vectors, and
 * allocation that aborts on failure, for both programs.  Also the few
 * Python string rules (isspace, strip, repr) the generator reproduces. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"

typedef struct StrBuf {
        char *s;       /* always NUL-terminated once anything was added */
        size_t len;
        size_t cap;
} StrBuf;

void sb_grow(StrBuf *b, size_t extra);
void sb_addn(StrBuf *b, const char *s, size_t n);
void sb_add(StrBuf *b, const char *s);
static inline void sb_addc(StrBuf *b, char c) {
        if (b->len + 2 > b->cap)
                sb_grow(b, 1);
        b->s[b->len++] = c;
        b->s[b->len] = 0;
}
void sb_addf(StrBuf *b, const char *fmt, ...) _printf_(2, 3);
void sb_vaddf(StrBuf *b, const char *fmt, va_list ap) _printf_(2, 0);
/* Appends each string up to a NULL: the cheap form of sb_addf("%s%s..."). */
void sb_addv(StrBuf *b, ...) __attribute__((sentinel));
void sb_addi(StrBuf *b, long long v);
/* Python's repr() of a str (ascii(): with non-ASCII escaped too), as
 * supervisor's messages quote values. */
void sb_add_repr(StrBuf *b, const char *s, bool ascii);
char *sb_take(StrBuf *b);          /* returns "" rather than NULL when empty */
void sb_done(StrBuf *b);
static inline void sb_donep(StrBuf *b) { sb_done(b); }
#define _cleanup_sb_ _cleanup_(sb_donep)

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
/* The strings up to a NULL, concatenated. */
char *xstrjoin(const char *first, ...) __attribute__((sentinel));

/* String vectors: char **, NULL-terminated. */
size_t strv_length(char * const *v);
char **strv_push(char **v, char *s);          /* takes s */
char **strv_free(char **v);
bool strv_contains(char * const *v, const char *s);
static inline void strv_freep(char ***v) { strv_free(*v); }
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* Python's str.isspace() for ASCII, which is what configparser's strip()
 * and shlex agree on after we reject non-ASCII whitespace up front. */
static inline bool py_isspace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
               c == '\x1c' || c == '\x1d' || c == '\x1e' || c == '\x1f';
}
char *py_strip(char *s);                 /* in place, returns start */

/* FNV-1a, for the generator's small open-addressing tables. */
static inline size_t str_hash(const char *s) {
        size_t h = 14695981039346656037u;
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211u;
        return h;
}
