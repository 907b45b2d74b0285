/* cleanup.h: scope-bound cleanup for both programs (GCC/clang
 * __attribute__((cleanup))), in the manner of systemd's macro headers, and
 * the handful of macros everything uses.  Deliberately tiny: free(),
 * fclose(), close() and a module's own *_free()s.  Not here: anything
 * touching Python objects (server/python.h). */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _fallthrough_ __attribute__((fallthrough))

static inline void freep(void *p) {
        free(*(void **) p);
}
static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
static inline void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership over: returns the value and clears the variable. */
#define TAKE_PTR(p)                              \
        __extension__ ({                         \
                __typeof__(p) _take_ = (p);      \
                (p) = NULL;                      \
                _take_;                          \
        })
#define TAKE_FD(fd)                              \
        __extension__ ({                         \
                int _take_ = (fd);               \
                (fd) = -1;                       \
                _take_;                          \
        })

#define DEFINE_FREE_FUNC(type, func)              \
        static inline void func##p(type **p) {    \
                if (*p)                           \
                        func(*p);                 \
        }

/* The message of an errno value, either sign ("%m" is not ISO C, and the
 * build is -Wpedantic). */
#define STRERROR(e) strerror((e) < 0 ? -(e) : (e))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define streq(a, b) (strcmp((a), (b)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
