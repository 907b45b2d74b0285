/* replay.c: a main() for the harnesses outside libFuzzer.
 *
 *   replay-fuzz-X FILE|DIR...
 *
 * Runs LLVMFuzzerTestOneInput() once on each file (a directory: on each
 * file in it, sorted), the way libFuzzer replays a corpus: this is how the
 * ordinary (gcc, and gcc + ASan/UBSan) builds check the seeds and every
 * regression input in `meson test` without clang.  A failed check aborts,
 * as under libFuzzer. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned n_run;

static int run_file(const char *path) {
        FILE *f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "replay: cannot open '%s': %s\n", path, strerror(errno));
                return -1;
        }
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
                if (len == cap && !(buf = realloc(buf, cap = cap ? cap * 2 : 4096)))
                        abort();
                size_t n = fread(buf + len, 1, cap - len, f);
                if (n == 0)
                        break;
                len += n;
        }
        fclose(f);
        /* like libFuzzer: the data is a heap block of exactly its size */
        uint8_t *exact = malloc(len ? len : 1);
        if (!exact)
                abort();
        memcpy(exact, buf, len);
        free(buf);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
        n_run++;
        return 0;
}

static int cmp(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

static int run_path(const char *path) {
        struct stat st;
        if (stat(path, &st) < 0) {
                fprintf(stderr, "replay: '%s': %s\n", path, strerror(errno));
                return -1;
        }
        if (!S_ISDIR(st.st_mode))
                return run_file(path);
        DIR *d = opendir(path);
        if (!d)
                return -1;
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (!(names = realloc(names, (n + 1) * sizeof *names)) ||
                    asprintf(&names[n++], "%s/%s", path, de->d_name) < 0)
                        abort();
        }
        closedir(d);
        if (n)
                qsort(names, n, sizeof *names, cmp);
        int r = 0;
        for (size_t i = 0; i < n; i++) {
                if (run_path(names[i]) < 0)
                        r = -1;
                free(names[i]);
        }
        free(names);
        return r;
}

int main(int argc, char **argv) {
        LLVMFuzzerInitialize(&argc, &argv);
        int r = 0;
        for (int i = 1; i < argc; i++)
                if (run_path(argv[i]) < 0)
                        r = 1;
        printf("1..1\n%s 1 - %u inputs replayed\n", r ? "not ok" : "ok", n_run);
        return r;
}
