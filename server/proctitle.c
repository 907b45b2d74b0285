/* proctitle.c: see proctitle.h. */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "proctitle.h"

static char *area;
static size_t area_len;

void proctitle_init(int argc, char **argv) {
        if (argc < 1 || !argv[0])
                return;
        /* the strings must be contiguous, as the kernel lays them out */
        char *end = argv[0] + strlen(argv[0]) + 1;
        for (int i = 1; i < argc; i++) {
                if (argv[i] != end)
                        return;
                end += strlen(argv[i]) + 1;
        }
        area = argv[0];
        area_len = (size_t) (end - argv[0]);
}

void proctitle_set(const char *role, const char *name) {
        char title[256];
        snprintf(title, sizeof title, "unitcorn: %s [%s]", role, name);
        (void) prctl(PR_SET_NAME, title, 0, 0, 0);     /* truncated to 15 bytes by the kernel */
        if (!area || area_len < 2)
                return;
        size_t n = strlen(title);
        if (n > area_len - 1)
                n = area_len - 1;
        memcpy(area, title, n);
        memset(area + n, 0, area_len - n);
}
