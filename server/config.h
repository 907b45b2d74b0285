/* config.h: unitcorn's settings, from the command line (gunicorn's option
 * names, short forms and defaults, DESIGN §4.5).
 *
 * -c FILE (a gunicorn Python config file, or ./gunicorn.conf.py when no -c
 * is given) is run by pyconfig.c, under the command line.  settings.c turns
 * a Config into gunicorn's settings (--print-config, the hooks' cfg). */
#pragma once

#include <stdbool.h>

/* --limit-request-body's default: none, as gunicorn (large bodies are
 * spooled to disk, not held in memory: server/README.md). */
#define DEFAULT_LIMIT_REQUEST_BODY 0ULL

typedef struct Config {
        char **binds;                   /* -b, in order; empty: $PORT or 127.0.0.1:8000 */
        unsigned workers;               /* -w, $WEB_CONCURRENCY, 1 */
        unsigned threads;               /* --threads: Python threads per worker (1: one request at a time) */
        unsigned timeout;               /* -t seconds without a heartbeat before a worker is killed; 0: off */
        unsigned graceful_timeout;      /* seconds the master waits for workers on SIGTERM */
        unsigned backlog;
        unsigned limit_request_line;    /* 414 beyond */
        unsigned limit_request_fields;  /* 431 beyond */
        unsigned limit_request_field_size;
        unsigned long long limit_request_body;  /* bytes, 413 beyond; 0: none */
        unsigned keep_alive;            /* seconds an idle keep-alive connection stays; 0: no keep-alive */
        unsigned header_timeout;        /* seconds for a request's head, and without progress reading a body or writing; 0: none */
        char *chdir;
        char **pythonpath;              /* --pythonpath, comma-separated, repeatable */
        unsigned max_requests;          /* a worker exits after this many requests (+ jitter); 0: never */
        unsigned max_requests_jitter;   /* up to this many more, drawn per worker */
        bool preload;                   /* --preload: the master imports the app before forking */
        char *app;                      /* MODULE:CALLABLE */
        bool check_config;
        char *config_file;              /* -c, the file that was run; NULL: none */
        /* logging (log.h, access.h) */
        int log_level;                  /* --log-level as a syslog priority; more verbose messages are dropped */
        char *errorlog;                 /* --error-logfile/--log-file: NULL or "-" (stderr, or the journal), or a path */
        char *accesslog;                /* --access-logfile: NULL (off), "-" (stdout, or the journal), or a path */
        char *access_log_format;        /* --access-logformat; NULL: gunicorn's default */
        bool print_config;              /* --print-config: print the settings, check the app, exit */
        char **raw_env;                 /* -e KEY=VALUE, in order (checked to contain '=') */
        char *proc_name;                /* -n; NULL: the app spec (gunicorn's default_proc_name) */
        char *pidfile;                  /* -p; NULL: none */
        char **forwarded_allow_ips;     /* addresses or networks trusted with X-Forwarded-Proto & co; "*": all */
        char *virtualenv;               /* --virtualenv or $VIRTUAL_ENV; NULL: none */
} Config;

/* Parses argv.  Returns 0 to run, 1 when the request was fully answered
 * (--help, --version), or a negative errno after printing the problem. */
int config_parse(Config *c, int argc, char **argv);
void config_done(Config *c);
/* --log-level and loglevel: gunicorn's names; a message naming what
 * (the option, or the config file's setting) for anything else. */
int config_set_log_level(Config *c, const char *what, const char *s);
