/* command.c: see command.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "command.h"
#include "shlex.h"
#include "strbuf.h"

/* Used to look up a bare command name when neither the program's nor
 * [supervisord]'s environment sets PATH and we have none either. */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


/* Bare command names, looked up once per (PATH, name). */
typedef struct Lookup {
        char *path, *name, *found;
} Lookup;
static Lookup *lookups;
static size_t n_lookups;

static char *lookup_cached(const char *path, const char *name) {
        for (size_t i = 0; i < n_lookups; i++)
                if (streq(lookups[i].name, name) && streq(lookups[i].path, path))
                        return xstrdup(lookups[i].found);
        return NULL;
}

static void remember_lookup(const char *path, const char *name, const char *found) {
        for (size_t i = 0; i < n_lookups; i++)
                if (streq(lookups[i].name, name) && streq(lookups[i].path, path))
                        return;
        lookups = xrealloc(lookups, (n_lookups + 1) * sizeof *lookups);
        lookups[n_lookups++] = (Lookup) { xstrdup(path), xstrdup(name), xstrdup(found) };
}

/* supervisor's get_execv_args(): the first PATH entry where the name exists
 * (we also want a regular file: a directory cannot be executed). */
static char *path_lookup(const char *search, const char *prog) {
        _cleanup_free_ char *path = xstrdup(search);
        char *save = NULL;
        for (char *dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *cand = xstrjoin(dir, "/", prog, NULL);
                struct stat st;
                if (cand[0] == '/' && stat(cand, &st) == 0)
                        return TAKE_PTR(cand);   /* the first that exists, even if it cannot run */
        }
        return NULL;
}

/* Splits command= and makes argv[0] a path systemd can execute, doing at
 * generation time what supervisor does when it spawns. */
int command_resolve(const KeyCtx *x, const IniKey *k, Process *p, const char *path_env) {
        char *error = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        if (shlex_split(p->command, &argv, &error) < 0)
                return key_fail(x, k, "command", xasprintf("can't parse command '%s': %s", p->command, error)),
                       free(error), -EINVAL;
        if (!argv[0])
                return key_fail(x, k, "command", xasprintf("command is empty: '%s'", p->command));

        const char *prog = argv[0];
        if (!strchr(prog, '/')) {
                const char *search = path_env && *path_env ? path_env : DEFAULT_PATH;
                char *found = lookup_cached(search, prog);
                if (!found)
                        found = path_lookup(search, prog);
                if (found)
                        remember_lookup(search, prog, found);
                if (!found)
                        return key_fail(x, k, "command",
                                        xasprintf("can't find command '%s' in PATH=%s", prog,
                                                  path_env && *path_env ? path_env : DEFAULT_PATH));
                /* check_execv_args() */
                struct stat st;
                if (stat(found, &st) == 0 && S_ISDIR(st.st_mode)) {
                        _cleanup_free_ char *f = found;
                        return key_fail(x, k, "command", xasprintf("command at '%s' is a directory", f));
                }
                if (stat(found, &st) == 0 && !(st.st_mode & 0111)) {
                        _cleanup_free_ char *f = found;
                        return key_fail(x, k, "command", xasprintf("command at '%s' is not executable", f));
                }
                free(argv[0]);
                argv[0] = found;
        } else if (prog[0] != '/') {
                /* supervisor's child chdir()s to directory= before execve(). */
                if (!p->directory || p->directory[0] != '/')
                        return key_fail(x, k, "command",
                                        xasprintf("relative command '%s' needs an absolute directory=", prog));
                char *abs = xasprintf("%s%s%s", p->directory,
                                      p->directory[strlen(p->directory) - 1] == '/' ? "" : "/", prog);
                free(argv[0]);
                argv[0] = abs;
        }
        p->argv = TAKE_PTR(argv);
        return 0;
}
