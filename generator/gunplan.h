/* gunplan.h: what the generator writes for a program whose command runs
 * gunicorn or unitcorn (DESIGN §3.2, generator/README.md "gunicorn
 * commands").  The decision is made once per process, when the program is
 * read (program.c), and logged there with file and line; unit.c only
 * writes what the plan says. */
#pragma once

#include <stdbool.h>

struct Process;
struct IniKey;

typedef struct GunicornPlan {
        bool unitcorn;            /* ExecStart= is argv (unitcorn); else the command is kept as it is */
        char **argv;              /* unitcorn's command line */
        char **listen;            /* ListenStream= of app@INSTANCE.socket; NULL: no socket */
        bool unix_socket;         /* a listener is a UNIX socket: SocketUser=, SocketMode= */
        long long graceful_timeout;  /* --graceful-timeout, or gunicorn's default */
        long long backlog;        /* --backlog: the socket's Backlog=; -1: not given */
        char *chdir;              /* --chdir, absolute (relative to directory=); NULL: not given */
} GunicornPlan;

GunicornPlan *gunicorn_plan_free(GunicornPlan *g);
static inline void gunicorn_plan_freep(GunicornPlan **g) {
        gunicorn_plan_free(*g);
}

/* Sets p->gun when p->argv runs gunicorn or unitcorn and there is
 * something to do; logs a notice (at k's line) for every command that is
 * recognised but kept (report: else at debug level, for the second and
 * later processes of a program).  Never fails the program: a command we do not
 * rewrite runs as supervisor would run it. */
void gunicorn_plan(struct Process *p, const struct IniKey *k, bool report);
