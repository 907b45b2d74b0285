/* gunplan.c: a gunicorn command line to unitcorn and a socket unit
 * (gunplan.h).
 *
 * What gunicorn would listen on is decided as gunicorn decides it: the -b
 * options of the command line, else `bind` of the -c file (or of
 * ./gunicorn.conf.py in directory=, gunicorn's default config file), else
 * 0.0.0.0:$PORT when the program's environment sets PORT, else
 * 127.0.0.1:8000.  Every case where we cannot be sure keeps what would
 * have happened under supervisor, with a notice saying why. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "gunconf.h"
#include "gunicorn.h"
#include "gunplan.h"
#include "unit.h"
#include "log.h"
#include "program.h"
#include "strbuf.h"

/* gunicorn's graceful_timeout default */
#define GUNICORN_GRACEFUL_TIMEOUT 30
/* A config file larger than this is not read (it is not a config file). */
#define GUNCONF_MAX_SIZE (1024 * 1024)

GunicornPlan *gunicorn_plan_free(GunicornPlan *g) {
        if (!g)
                return NULL;
        strv_free(g->argv);
        strv_free(g->listen);
        free(g->chdir);
        free(g);
        return NULL;
}

static const char *bindir(void) {
        const char *e = getenv("UNITCORN_BINDIR");   /* tests: the build tree */
        return e && *e ? e : UNITCORN_BINDIR;
}

/* path as the program sees it: relative to directory= */
static char *program_path(const Process *p, const char *path) {
        if (path[0] == '/')
                return xstrdup(path);
        if (!p->directory || p->directory[0] != '/')
                return NULL;
        size_t n = strlen(p->directory);
        return xasprintf("%s%s%s", p->directory, p->directory[n - 1] == '/' ? "" : "/", path);
}

static int read_small_file(const char *path, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EISDIR;
        if (st.st_size > GUNCONF_MAX_SIZE)
                return -EFBIG;
        _cleanup_free_ char *buf = xmalloc((size_t) st.st_size + 1);
        size_t len = 0;
        for (;;) {
                ssize_t n = read(fd, buf + len, (size_t) st.st_size - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0 || (len += (size_t) n) == (size_t) st.st_size)
                        break;
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

typedef enum BindSource {
        BINDS_KNOWN,        /* binds holds what gunicorn would listen on */
        BINDS_UNKNOWN,      /* left to the server (config file not recognised) */
} BindSource;

/* The addresses from the config file, or gunicorn's defaults. */
static BindSource binds_from_config(const Process *p, const IniKey *k, int prio, const GunicornArgs *a, char ***ret) {
        _cleanup_free_ char *path = NULL;
        if (a->config) {
                if (strncmp(a->config, "python:", 7) == 0) {
                        log_at(prio, k->file, k->line, "[%s] command: -c %s is a Python module: its bind is left to "
                                      "the server (no socket unit).", p->section->name, a->config);
                        return BINDS_UNKNOWN;
                }
                path = program_path(p, a->config);
                if (!path) {
                        log_at(prio, k->file, k->line, "[%s] command: -c %s is relative and directory= is not set: "
                                      "its bind is left to the server (no socket unit).", p->section->name, a->config);
                        return BINDS_UNKNOWN;
                }
        } else {
                path = program_path(p, "gunicorn.conf.py");
                if (path && access(path, F_OK) < 0) {
                        free(path);
                        path = NULL;
                }
        }
        if (path) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                int r = read_small_file(path, &text, &len);
                if (r < 0) {
                        log_at(prio, k->file, k->line, "[%s] command: cannot read the config file '%s' (%s): its bind "
                                      "is left to the server (no socket unit).", p->section->name, path, strerror(-r));
                        return BINDS_UNKNOWN;
                }
                char **binds = NULL, *error = NULL;
                unsigned line = 0;
                r = gunconf_find_bind(text, len, &binds, &line, &error);
                if (r < 0) {
                        log_at(prio, path, line, "%s: the generator does not evaluate it; binding is left to the "
                                      "server (no socket unit) for [%s].", error, p->section->name);
                        free(error);
                        return BINDS_UNKNOWN;
                }
                if (r > 0) {
                        *ret = binds;
                        return BINDS_KNOWN;
                }
        }
        const char *port = env_pairs_get(&p->environment, "PORT");
        *ret = strv_push(NULL, port ? xasprintf("0.0.0.0:%s", port) : xstrdup("127.0.0.1:8000"));
        return BINDS_KNOWN;
}

void gunicorn_plan(Process *p, const IniKey *k, bool report) {
        size_t first = 0;
        GunicornKind kind = gunicorn_detect(p->argv, &first);
        if (kind == GUNICORN_KIND_NONE || p->fcgi)
                return;
        /* the same notice for each of numprocs processes says nothing new */
        int prio = report ? LOG_NOTICE : LOG_DEBUG;
        const char *name = p->section->name;
        bool is_unitcorn = kind == GUNICORN_KIND_UNITCORN;

        if (!is_unitcorn && env_pairs_get(&p->environment, "GUNICORN_CMD_ARGS")) {
                log_at(prio, k->file, k->line, "[%s] command: GUNICORN_CMD_ARGS is set in environment= and unitcorn "
                              "does not read it; the gunicorn command is kept as it is.", name);
                return;
        }
        _cleanup_(gunicorn_args_done) GunicornArgs a = {0};
        _cleanup_free_ char *error = NULL;
        if (gunicorn_parse(p->argv, first, is_unitcorn, &a, &error) < 0) {
                log_at(prio, k->file, k->line, "[%s] command: %s would refuse its arguments (%s); the command is kept "
                              "as it is.", name, is_unitcorn ? "unitcorn" : "gunicorn", error);
                return;
        }
        if (a.exits) {
                log_at(prio, k->file, k->line, "[%s] command: %s only prints and exits; the command is kept as it is.",
                              name, a.exits);
                return;
        }
        if (strv_length(a.positionals) > 1) {
                log_at(prio, k->file, k->line, "[%s] command: %s takes only one application, '%s', and this command "
                              "gives also '%s'; the command is kept as it is.", name,
                              is_unitcorn ? "unitcorn" : "gunicorn", a.positionals[0], a.positionals[1]);
                return;
        }

        _cleanup_strv_free_ char **binds = NULL;
        BindSource source = BINDS_KNOWN;
        bool cli_binds = a.binds != NULL;
        if (a.binds)
                binds = TAKE_PTR(a.binds);
        else
                source = binds_from_config(p, k, prio, &a, &binds);

        _cleanup_strv_free_ char **listen = NULL;
        bool unix_socket = false, socketless = source != BINDS_KNOWN;
        _cleanup_free_ char *base = a.chdir ? program_path(p, a.chdir) : p->directory ? xstrdup(p->directory) : NULL;
        for (size_t i = 0; !socketless && binds && binds[i]; i++) {
                char *l = NULL, *why = NULL;
                bool is_unix = false;
                int r = gunicorn_bind_to_listen(binds[i], base, &l, &is_unix, &why);
                if (r < 0 || strncmp(binds[i], "fd://", 5) == 0) {
                        log_at(prio, k->file, k->line, "[%s] command: bind %s; the command is kept as it is.", name, why);
                        free(why);
                        return;
                }
                const char *bad = r > 0 ? unit_unquoted_problem(l) : NULL;
                if (bad) {
                        log_at(prio, k->file, k->line, "[%s] command: bind '%s': the socket path %s, which a unit "
                                      "file cannot hold; the command is kept as it is.", name, binds[i], bad);
                        free(l);
                        return;
                }
                if (r == 0) {
                        log_at(prio, k->file, k->line, "[%s] command: bind %s; no socket unit, the server binds "
                                      "itself.", name, why);
                        free(why);
                        socketless = true;
                        break;
                }
                if (!strv_contains(listen, l))
                        listen = strv_push(listen, l);
                else
                        free(l);
                unix_socket = unix_socket || is_unix;
        }
        if (socketless)
                listen = strv_free(listen);

        _cleanup_(gunicorn_plan_freep) GunicornPlan *g = xcalloc(1, sizeof *g);
        g->graceful_timeout = a.graceful_timeout >= 0 ? a.graceful_timeout : GUNICORN_GRACEFUL_TIMEOUT;
        g->backlog = a.backlog;
        g->unix_socket = unix_socket && listen;
        if (a.unsupported) {
                if (!listen) {
                        log_at(prio, k->file, k->line, "[%s] command: %s: unitcorn does not support it; the "
                                      "command is kept as it is.", name, a.unsupported);
                        return;
                }
                log_at(prio, k->file, k->line, "[%s] command: %s: unitcorn does not support it; the command is kept, "
                              "socket-activated (app@%s.socket).", name, a.unsupported, p->instance);
                g->listen = TAKE_PTR(listen);
                p->gun = TAKE_PTR(g);
                return;
        }

        char **argv = strv_push(NULL, is_unitcorn ? xstrdup(p->argv[0]) : xstrjoin(bindir(), "/unitcorn", NULL));
        if (!is_unitcorn && !a.has_virtualenv) {
                char *venv = gunicorn_venv_of(p->argv[0]);
                if (venv) {
                        argv = strv_push(argv, xstrdup("--virtualenv"));
                        argv = strv_push(argv, venv);
                }
        }
        for (size_t i = 0; a.pass && a.pass[i]; i++)
                argv = strv_push(argv, xstrdup(a.pass[i]));
        /* without a socket unit the server binds what gunicorn would have bound */
        for (size_t i = 0; !listen && cli_binds && binds[i]; i++) {
                argv = strv_push(argv, xstrdup("--bind"));
                argv = strv_push(argv, xstrdup(binds[i]));
        }
        if (a.positionals) {
                if (a.positionals[0][0] == '-')
                        argv = strv_push(argv, xstrdup("--"));
                argv = strv_push(argv, xstrdup(a.positionals[0]));
        }
        g->unitcorn = true;
        g->argv = argv;
        g->chdir = a.chdir ? program_path(p, a.chdir) : NULL;
        g->listen = TAKE_PTR(listen);
        log_debug_at(k->file, k->line, "[%s] command: %s runs as unitcorn%s.", name,
                    is_unitcorn ? "unitcorn" : "gunicorn", g->listen ? ", socket-activated" : "");
        p->gun = TAKE_PTR(g);
}
