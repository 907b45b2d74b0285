/* cleanup.h: scope-bound cleanup for the generator (GCC/clang
 * __attribute__((cleanup))), in the manner of systemd's macro headers.
 * Deliberately tiny: free(), fclose(), close() and our own *_free()s. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

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

/* Hand ownership over: returns the pointer and clears the variable. */
#define TAKE_PTR(p)                              \
        __extension__ ({                         \
                __typeof__(p) _take_ = (p);      \
                (p) = NULL;                      \
                _take_;                          \
        })

#define DEFINE_FREE_FUNC(type, func)              \
        static inline void func##p(type **p) {    \
                if (*p)                           \
                        func(*p);                 \
        }

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define streq(a, b) (strcmp((a), (b)) == 0)
