/* unitcorn-generator: supervisor programs as systemd units.
 *
 *   unitcorn-generator NORMAL_DIR [EARLY_DIR LATE_DIR]   (systemd.generator(7))
 *   unitcorn-generator --dry-run [FILE|DIR...]
 *
 * Reads every *.ini and *.conf file of the supervisor config directories
 * (UNITCORN_CONFIG_DIRS, colon-separated; default /etc/supervisor.d, or
 * ~/.config/supervisor.d for a user manager), in sorted order, each followed
 * by the files its [include] names, into one configuration as supervisord
 * would, and writes units into the late directory.  No IPC, no network. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "config.h"
#include "expand.h"
#include "inifile.h"
#include "log.h"
#include "program.h"
#include "strbuf.h"
#include "unit.h"

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

static bool has_suffix(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && streq(s + n - m, suffix);
}

typedef struct Reading {
        IniConfig config;
        char **seen;       /* real paths of files read */
} Reading;

static void read_one(Reading *rd, const char *path, bool top_level);

/* supervisor's read_include_config(): [include] files= is a list of globs
 * relative to the including file, each expanded and read in sorted order. */
static void read_includes(Reading *rd, const char *file) {
        IniSection *inc = ini_config_find(&rd->config, "include");
        const IniKey *k = inc ? ini_section_lookup(&rd->config, inc, "files") : NULL;
        if (!inc)
                return;
        if (!k) {
                log_error_at(inc->file, inc->line, "[include] has no files= setting, ignoring.");
                return;
        }
        if (k->file != file && !streq(k->file, file))
                return;
        _cleanup_free_ char *dir = ini_file_dir(file);
        Expansions e = {0};
        expansions_add_environ(&e);
        expansions_set_str(&e, "here", dir);
        _cleanup_free_ char *files = NULL, *error = NULL;
        int r = expand_format(k->value, &e, &files, &error);
        expansions_done(&e);
        if (r < 0) {
                log_error_at(k->file, k->line, "files: %s (in [include]), ignoring.", error);
                return;
        }
        const char *kfile = k->file;
        unsigned kline = k->line;
        char *save = NULL;
        for (char *pat = strtok_r(files, " \t\n", &save); pat; pat = strtok_r(NULL, " \t\n", &save)) {
                _cleanup_free_ char *full = pat[0] == '/' ? xstrdup(pat) : xasprintf("%s/%s", dir, pat);
                glob_t g = {0};
                if (glob(full, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
                        log_warning_at(kfile, kline, "No file matches via include \"%s\".", full);
                        globfree(&g);
                        continue;
                }
                /* glob() sorts already, by the collation of the locale; Python sorts by code point. */
                qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), cmp_str);
                for (size_t i = 0; i < g.gl_pathc; i++) {
                        log_debug_at(kfile, kline, "Including \"%s\".", g.gl_pathv[i]);
                        read_one(rd, g.gl_pathv[i], false);
                }
                globfree(&g);
        }
}

/* Python's os.path.abspath(): absolute and lexically normalised, symlinks
 * kept (supervisor's %(here)s of /etc/supervisor.d/x.ini is that directory
 * even when x.ini links elsewhere). */
static char *abspath(const char *path) {
        _cleanup_free_ char *joined = NULL;
        if (path[0] == '/')
                joined = xstrdup(path);
        else {
                char cwd[PATH_MAX];
                if (!getcwd(cwd, sizeof cwd))
                        return xstrdup(path);
                joined = xasprintf("%s/%s", cwd, path);
        }
        _cleanup_strv_free_ char **parts = NULL;
        char *save = NULL;
        for (char *c = strtok_r(joined, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (streq(c, "."))
                        continue;
                if (streq(c, "..")) {
                        size_t n = strv_length(parts);
                        if (n > 0) {
                                free(parts[n - 1]);
                                parts[n - 1] = NULL;
                        }
                        continue;
                }
                parts = strv_push(parts, xstrdup(c));
        }
        StrBuf b = {0};
        for (size_t i = 0; parts && parts[i]; i++)
                sb_addf(&b, "/%s", parts[i]);
        return b.s ? sb_take(&b) : xstrdup("/");
}

static void read_one(Reading *rd, const char *given, bool top_level) {
        _cleanup_free_ char *path = abspath(given);
        char real[PATH_MAX];
        if (!realpath(path, real)) {
                log_error_at(path, 0, "Failed to open: %s, skipping file.", strerror(errno));
                return;
        }
        if (strv_contains(rd->seen, real)) {
                log_debug_at(path, 0, "Already read, skipping.");
                return;
        }
        rd->seen = strv_push(rd->seen, xstrdup(real));
        const char *bad = unit_unquoted_problem(path);
        if (bad)
                log_warning_at(path, 0, "the file name %s: its units get no SourcePath=.", bad);
        /* messages name the file as given (absolute when found in a directory) */
        if (ini_config_read_file(&rd->config, path) < 0)
                return;
        if (top_level)
                read_includes(rd, path);
        else {
                IniSection *inc = ini_config_find(&rd->config, "include");
                const IniKey *k = inc ? ini_section_lookup(&rd->config, inc, "files") : NULL;
                if (k && streq(k->file, path))
                        log_warning_at(k->file, k->line,
                                       "[include] in an included file is not followed (supervisor does not either).");
        }
}

static void read_dir(Reading *rd, const char *dir, bool explicit) {
        DIR *d = opendir(dir);
        if (!d) {
                if (errno != ENOENT || explicit)
                        log_error_at(dir, 0, "Failed to open directory: %s, skipping.", strerror(errno));
                else
                        log_debug_at(dir, 0, "No such directory.");
                return;
        }
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && (has_suffix(de->d_name, ".ini") || has_suffix(de->d_name, ".conf")))
                        names = strv_push(names, xasprintf("%s/%s", dir, de->d_name));
        closedir(d);
        size_t n = strv_length(names);
        if (n)
                qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++)
                read_one(rd, names[i], true);
}

static void read_path(Reading *rd, const char *path, bool explicit) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                read_dir(rd, path, explicit);
        else if (explicit)
                read_one(rd, path, true);
        else
                log_debug_at(path, 0, "No such directory.");
}

static char *default_config_dirs(void) {
        const char *e = getenv("UNITCORN_CONFIG_DIRS");
        if (e)
                return xstrdup(e);
        const char *scope = getenv("SYSTEMD_SCOPE");
        if (scope && streq(scope, "user")) {
                const char *xdg = getenv("XDG_CONFIG_HOME");
                const char *home = getenv("HOME");
                if (xdg && *xdg)
                        return xasprintf("%s/supervisor.d", xdg);
                if (home && *home)
                        return xasprintf("%s/.config/supervisor.d", home);
        }
        return xstrdup(DEFAULT_CONFIG_DIRS);
}

static void help(void) {
        printf("Usage: unitcorn-generator NORMAL_DIR [EARLY_DIR LATE_DIR]\n"
               "       unitcorn-generator --dry-run [FILE|DIR...]\n\n"
               "Turns supervisor program configurations into systemd units (app@NAME.service).\n"
               "Reads %s (UNITCORN_CONFIG_DIRS overrides, colon-separated).\n"
               "--dry-run prints the units instead of writing them and exits 1 if any\n"
               "program had to be skipped.\n",
               DEFAULT_CONFIG_DIRS);
}

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
        double t0 = now_ms();
        log_setup();

        bool dry_run = false;
        int first = 1;
        if (argc > 1 && streq(argv[1], "--help")) {
                help();
                return 0;
        }
        if (argc > 1 && streq(argv[1], "--version")) {
                printf("unitcorn-generator %s\n", UNITCORN_VERSION);
                return 0;
        }
        if (argc > 1 && streq(argv[1], "--dry-run")) {
                dry_run = true;
                first = 2;
        } else if (argc != 2 && argc != 4) {
                log_error("Expected one or three directory arguments (see --help).");
                return 1;
        }

        Reading rd = {0};
        if (dry_run && argc > first)
                for (int i = first; i < argc; i++)
                        read_path(&rd, argv[i], true);
        else {
                _cleanup_free_ char *dirs = default_config_dirs();
                char *save = NULL;
                for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save))
                        read_path(&rd, d, false);
        }

        double t1 = now_ms();
        Model m = {0};
        model_build(&rd.config, &m);
        double t2 = now_ms();

        const char *unitdir = getenv("UNITCORN_UNITDIR");
        const char *scope = getenv("SYSTEMD_SCOPE");
        bool user_scope = scope && streq(scope, "user");
        Output o = {
                .dry_run = dry_run,
                .dry = stdout,
                .dir = dry_run ? NULL : argv[argc == 4 ? 3 : 1],
                .unitdir = unitdir && *unitdir ? unitdir : user_scope ? UNITCORN_USERUNITDIR : UNITCORN_UNITDIR,
                .user_scope = user_scope,
        };
        int r = unit_write_model(&o, &m);
        double t3 = now_ms();
        log_debug("%zu process(es) generated, %u program(s) skipped.", m.n_procs, m.n_skipped);
        /* UNITCORN_TIMING=1: phase times, for tests/bench (debug logging itself costs time) */
        if (getenv("UNITCORN_TIMING"))
                log_notice("Time: reading %.2f ms, model %.2f ms, writing %.2f ms.", t1 - t0, t2 - t1, t3 - t2);

        unsigned errors = log_n_errors();
        model_done(&m);
        ini_config_done(&rd.config);
        strv_free(rd.seen);

        if (r < 0)
                return 1;
        if (dry_run)
                return errors > 0 ? 1 : 0;
        return 0;
}
