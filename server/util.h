/* util.h: allocation that aborts on failure, string vectors and a growable
 * byte buffer.  Out-of-memory in a worker has no better answer than dying:
 * the master replaces it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* NULL-terminated string vectors. */
size_t strv_length(char * const *v);
char **strv_push(char **v, char *s);          /* takes s */
char **strv_free(char **v);
static inline void strv_freep(char ***v) { strv_free(*v); }
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* A growable byte buffer; NUL-terminated after every append. */
typedef struct Buf {
        char *s;
        size_t len;
        size_t cap;
} Buf;

void buf_reserve(Buf *b, size_t extra);
void buf_add(Buf *b, const void *p, size_t n);
static inline void buf_adds(Buf *b, const char *s) { buf_add(b, s, strlen(s)); }
void buf_addf(Buf *b, const char *fmt, ...) _printf_(2, 3);
void buf_done(Buf *b);
static inline void buf_donep(Buf *b) { buf_done(b); }
#define _cleanup_buf_ _cleanup_(buf_donep)
