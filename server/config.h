/* config.h: unitcorn's settings, from the command line (gunicorn's option
 * names, short forms and defaults, DESIGN §4.5).
 *
 * -c FILE (a gunicorn Python config file) is run by pyconfig.c, under the
 * command line.  Not here yet: the options of §4.5
 * that are not listed in config.c's table, --print-config. */
#pragma once

#include <stdbool.h>

/* --limit-request-body's default: 100 MiB (bodies are held in memory). */
#define DEFAULT_LIMIT_REQUEST_BODY (100ULL * 1024 * 1024)

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
} Config;

/* Parses argv.  Returns 0 to run, 1 when the request was fully answered
 * (--help, --version), or a negative errno after printing the problem. */
int config_parse(Config *c, int argc, char **argv);
void config_done(Config *c);
