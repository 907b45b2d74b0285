/* gunicorn.h: recognising gunicorn (and unitcorn) command lines, reading
 * them as gunicorn's argparse would, and turning their bind addresses into
 * systemd ListenStream= values (DESIGN §3.2).
 *
 * Pure functions on strings: no logging, no file access except where a
 * function says so.  Deciding what to write for a program is
 * gunicorn_plan()'s business (gunplan.c); reading `bind` out of a config
 * file is gunconf.h's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum GunicornSupport {
        GUNICORN_PASS,          /* unitcorn takes it under the same name */
        GUNICORN_BIND,          /* -b: becomes the socket */
        GUNICORN_CONFIG,        /* -c: passed on, and read for `bind` */
        GUNICORN_WORKER_CLASS,  /* -k: only sync and gthread (dropped: --threads decides) */
        GUNICORN_UNSUPPORTED,   /* unitcorn has no such option: gunicorn is kept */
        GUNICORN_EXIT,          /* -v, -h: the program prints and exits */
} GunicornSupport;

typedef struct GunicornOption {
        const char *setting;          /* gunicorn's setting name ("" for argparse's own) */
        char short_name;              /* 0: none */
        const char *long_names[2];    /* without "--"; second may be NULL */
        bool takes_value;
        GunicornSupport support;
        bool unitcorn_only;           /* not gunicorn's: only on unitcorn command lines */
} GunicornOption;

extern const GunicornOption gunicorn_options[];
extern const size_t gunicorn_n_options;

typedef enum GunicornKind {
        GUNICORN_KIND_NONE,
        GUNICORN_KIND_GUNICORN,
        GUNICORN_KIND_UNITCORN,
} GunicornKind;

/* Whether argv (argv[0] absolute) runs gunicorn or unitcorn: `gunicorn`,
 * `gunicorn3`, `python[3[.N]] -m gunicorn`, `unitcorn`.  *ret_first is the
 * index of the first argument for gunicorn's own parser.  Cheap: looks at
 * argv[0]'s last component first. */
GunicornKind gunicorn_detect(char *const *argv, size_t *ret_first);

/* The virtualenv argv[0] lives in: DIR when argv[0] is DIR/bin/NAME and
 * DIR/pyvenv.cfg exists (stat()s it), else NULL. */
char *gunicorn_venv_of(const char *argv0);

typedef struct GunicornArgs {
        char **pass;            /* options for unitcorn, each as "--long" [+ value] words */
        char **binds;           /* -b values, in order */
        char *config;           /* the last -c value, NULL: none */
        char *chdir;            /* the last --chdir value */
        char **positionals;     /* the app spec(s) */
        char *unsupported;      /* the first option unitcorn lacks, as written, NULL: none */
        char *exits;            /* -v/-h as written: the program prints and exits */
        bool has_virtualenv;    /* unitcorn's --virtualenv given */
        long long graceful_timeout;  /* -1: not given */
        long long backlog;           /* -1: not given */
} GunicornArgs;

void gunicorn_args_done(GunicornArgs *a);

/* Parses argv[first..] as gunicorn's argparse (or unitcorn's getopt, with
 * its own options too) would: exact long names, else a unique prefix
 * ("--work"), "--opt=value", "-w4", "-w 4", bundled flags ("-DR"), "--"
 * ending the options.  Returns 0, or -EINVAL with *ret_error the reason
 * the real parser would refuse the line (an unknown or ambiguous option,
 * a missing value). */
int gunicorn_parse(char *const *argv, size_t first, bool unitcorn, GunicornArgs *ret, char **ret_error);

/* One gunicorn bind address as systemd's ListenStream=: "HOST:PORT",
 * "[V6]:PORT", "HOST" (port 8000), "tcp://...", "unix:PATH" (a relative
 * PATH is taken from base_dir, which may be NULL).  Returns 1 with
 * *ret_listen, *ret_unix; 0 when systemd cannot listen there for gunicorn
 * (a host name, fd://N) with *ret_error saying why; -EINVAL for an address
 * gunicorn itself refuses, with *ret_error. */
int gunicorn_bind_to_listen(const char *bind, const char *base_dir, char **ret_listen, bool *ret_unix,
                            char **ret_error);
