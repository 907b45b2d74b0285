/* config.c: the command line, with gunicorn's names and defaults.
 *
 * gunicorn parses with argparse: options and the app spec may come in any
 * order, "--opt=value" and "--opt value" both work, and an unknown option is
 * an error that names it (exit status 2).  getopt_long() in its default
 * permuting mode gives the same.  Not done: abbreviations of long options
 * (argparse accepts unique prefixes; getopt_long does too, by luck of
 * design), $GUNICORN_CMD_ARGS, and the gunicorn settings DESIGN §4.5 does
 * not list.
 *
 * -c FILE (or gunicorn's default, ./gunicorn.conf.py, when there is no -c)
 * is found in a first pass and run (pyconfig.c) before the second pass
 * applies the command line over it: gunicorn's precedence, command line
 * over config file over the environment ($WEB_CONCURRENCY,
 * $FORWARDED_ALLOW_IPS) over defaults.  --virtualenv is taken in the first
 * pass too: the interpreter the file runs in must already have it. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "forwarded.h"
#include "pyconfig.h"
#include "python.h"
#include "server-config.h"
#include "strbuf.h"

#define DEFAULT_BIND "127.0.0.1:8000"
#define SHORTOPTS "b:w:t:c:e:n:p:vh"
/* gunicorn's default config file, read when no -c is given. */
#define DEFAULT_CONFIG_FILE "gunicorn.conf.py"
/* gunicorn 22's default for --forwarded-allow-ips (when $FORWARDED_ALLOW_IPS is unset). */
#define DEFAULT_FORWARDED_ALLOW_IPS "127.0.0.1,::1"

enum {
        OPT_CHDIR = 0x100,
        OPT_PYTHONPATH,
        OPT_CHECK_CONFIG,
        OPT_GRACEFUL_TIMEOUT,
        OPT_BACKLOG,
        OPT_LIMIT_LINE,
        OPT_LIMIT_FIELDS,
        OPT_LIMIT_FIELD_SIZE,
        OPT_LIMIT_BODY,
        OPT_KEEP_ALIVE,
        OPT_HEADER_TIMEOUT,
        OPT_MAX_REQUESTS,
        OPT_MAX_REQUESTS_JITTER,
        OPT_PRELOAD,
        OPT_LOG_LEVEL,
        OPT_ERROR_LOGFILE,
        OPT_ACCESS_LOGFILE,
        OPT_ACCESS_LOGFORMAT,
        OPT_FORWARDED_ALLOW_IPS,
        OPT_VIRTUALENV,
        OPT_PRINT_CONFIG,
        OPT_THREADS,
};

static const struct option options[] = {
        { "bind",                      required_argument, NULL, 'b' },
        { "workers",                   required_argument, NULL, 'w' },
        { "threads",                   required_argument, NULL, OPT_THREADS },
        { "timeout",                   required_argument, NULL, 't' },
        { "graceful-timeout",          required_argument, NULL, OPT_GRACEFUL_TIMEOUT },
        { "backlog",                   required_argument, NULL, OPT_BACKLOG },
        { "chdir",                     required_argument, NULL, OPT_CHDIR },
        { "pythonpath",                required_argument, NULL, OPT_PYTHONPATH },
        { "limit-request-line",        required_argument, NULL, OPT_LIMIT_LINE },
        { "limit-request-fields",      required_argument, NULL, OPT_LIMIT_FIELDS },
        { "limit-request-field_size",  required_argument, NULL, OPT_LIMIT_FIELD_SIZE },
        { "limit-request-body",        required_argument, NULL, OPT_LIMIT_BODY },
        { "keep-alive",                required_argument, NULL, OPT_KEEP_ALIVE },
        { "header-timeout",            required_argument, NULL, OPT_HEADER_TIMEOUT },
        { "max-requests",              required_argument, NULL, OPT_MAX_REQUESTS },
        { "max-requests-jitter",       required_argument, NULL, OPT_MAX_REQUESTS_JITTER },
        { "preload",                   no_argument,       NULL, OPT_PRELOAD },
        { "check-config",              no_argument,       NULL, OPT_CHECK_CONFIG },
        { "log-level",                 required_argument, NULL, OPT_LOG_LEVEL },
        { "error-logfile",             required_argument, NULL, OPT_ERROR_LOGFILE },
        { "log-file",                  required_argument, NULL, OPT_ERROR_LOGFILE },
        { "access-logfile",            required_argument, NULL, OPT_ACCESS_LOGFILE },
        { "access-logformat",          required_argument, NULL, OPT_ACCESS_LOGFORMAT },
        { "print-config",              no_argument,       NULL, OPT_PRINT_CONFIG },
        { "env",                       required_argument, NULL, 'e' },
        { "name",                      required_argument, NULL, 'n' },
        { "pid",                       required_argument, NULL, 'p' },
        { "forwarded-allow-ips",       required_argument, NULL, OPT_FORWARDED_ALLOW_IPS },
        { "virtualenv",                required_argument, NULL, OPT_VIRTUALENV },
        { "config",                    required_argument, NULL, 'c' },
        { "version",                   no_argument,       NULL, 'v' },
        { "help",                      no_argument,       NULL, 'h' },
        { NULL }
};

static void help(void) {
        printf("usage: unitcorn [OPTIONS] [MODULE:CALLABLE]\n"
               "\n"
               "A WSGI HTTP server for systemd, with gunicorn's options.\n"
               "\n"
               "  -c, --config FILE           a gunicorn Python config file; the command line\n"
               "                              overrides its settings (default: ./" DEFAULT_CONFIG_FILE "\n"
               "                              if it exists)\n"
               "  -b, --bind ADDRESS          HOST:PORT, [V6ADDR]:PORT or unix:PATH; repeatable\n"
               "                              (default: 0.0.0.0:$PORT if set, else " DEFAULT_BIND ";\n"
               "                              ignored when socket-activated)\n"
               "  -w, --workers INT           worker processes (default: $WEB_CONCURRENCY or 1)\n"
               "      --threads INT           Python threads per worker, for apps that block\n"
               "                              on I/O (default 1)\n"
               "  -t, --timeout INT           a worker silent this long is killed and replaced,\n"
               "                              its Python stack dumped first; 0: off (default 30)\n"
               "      --graceful-timeout INT  seconds workers get to finish on SIGTERM (default 30)\n"
               "      --backlog INT           listen() backlog (default 2048)\n"
               "      --chdir DIR             change to DIR before loading the app\n"
               "      --pythonpath DIRS       comma-separated directories to add to sys.path\n"
               "      --limit-request-line INT         (default 4094)\n"
               "      --limit-request-fields INT       (default 100)\n"
               "      --limit-request-field_size INT   (default 8190)\n"
               "      --limit-request-body INT         request body bytes, 413 beyond; 0: no limit\n"
               "                                       (default 0, as gunicorn: large bodies are\n"
               "                                       spooled to $TMPDIR or /var/tmp)\n"
               "      --keep-alive INT        seconds an idle keep-alive connection stays open;\n"
               "                              0: close after each response (default 2)\n"
               "      --header-timeout INT    seconds a client has to send a request's head, and\n"
               "                              the longest silence while reading its body or\n"
               "                              writing to it; 0: none (default 30)\n"
               "      --max-requests INT      a worker serving this many requests is replaced;\n"
               "                              0: never (default 0)\n"
               "      --max-requests-jitter INT  up to this many more, drawn per worker (default 0)\n"
               "      --preload               import the app in the master before forking\n"
               "  -e, --env KEY=VALUE         set an environment variable; repeatable\n"
               "  -n, --name NAME             the process titles' name (default: the app spec)\n"
               "  -p, --pid FILE              write the master's PID to FILE (removed at exit)\n"
               "      --forwarded-allow-ips IPS  comma-separated addresses or networks whose\n"
               "                              X-Forwarded-Proto & co are trusted; '*': all\n"
               "                              (default: $FORWARDED_ALLOW_IPS or " DEFAULT_FORWARDED_ALLOW_IPS ")\n"
               "      --virtualenv DIR        run the app in the virtualenv DIR (default: $VIRTUAL_ENV)\n"
               "      --check-config          import the app and exit (0: it loads)\n"
               "      --log-level LEVEL       debug, info, warning, error or critical (default info)\n"
               "      --error-logfile FILE, --log-file FILE\n"
               "                              the server's messages: '-' is stderr, or the journal\n"
               "                              when stderr is it (default '-')\n"
               "      --access-logfile FILE   the access log: '-' is stdout, or the journal when\n"
               "                              stdout is it (default: none)\n"
               "      --access-logformat STRING  gunicorn's access log format (default\n"
               "                              '%%(h)s %%(l)s %%(u)s %%(t)s \"%%(r)s\" %%(s)s %%(b)s \"%%(f)s\" \"%%(a)s\"')\n"
               "      --print-config          print the effective settings, import the app, exit\n"
               "  -v, --version               show the version and exit\n"
               "  -h, --help                  show this help and exit\n");
}

int config_set_log_level(Config *c, const char *what, const char *s) {
        if (log_parse_level(s, &c->log_level) < 0) {
                fprintf(stderr, "unitcorn: error: %s: invalid log level '%s' "
                        "(choose from debug, info, warning, error, critical)\n", what, s);
                return -EINVAL;
        }
        return 0;
}

static int parse_ull(const char *opt, const char *s, unsigned long long *ret) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || *end || errno) {
                fprintf(stderr, "unitcorn: error: argument %s: invalid value '%s'\n", opt, s);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

/* Appends the comma-separated entries of s to v, stripped of spaces,
 * empty ones dropped (gunicorn's validate_string_to_list). */
static char **strv_split_commas(char **v, const char *s) {
        _cleanup_free_ char *copy = xstrdup(s);
        char *save = NULL;
        for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                p = py_strip(p);
                if (*p)
                        v = strv_push(v, xstrdup(p));
        }
        return v;
}

static int parse_uint(const char *opt, const char *s, unsigned min, unsigned *ret) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (!*s || *end || errno || v > UINT_MAX || v < min || s[0] == '-' || s[0] == '+') {
                fprintf(stderr, "unitcorn: error: argument %s: invalid value '%s'\n", opt, s);
                return -EINVAL;
        }
        *ret = (unsigned) v;
        return 0;
}

int config_parse(Config *c, int argc, char **argv) {
        *c = (Config) {
                .workers = 1,
                .threads = 1,
                .timeout = 30,
                .graceful_timeout = 30,
                .backlog = 2048,
                .limit_request_line = 4094,
                .limit_request_fields = 100,
                .limit_request_field_size = 8190,
                .limit_request_body = DEFAULT_LIMIT_REQUEST_BODY,
                .keep_alive = 2,
                .header_timeout = 30,
                .log_level = LOG_INFO,
        };

        const char *wc = getenv("WEB_CONCURRENCY");
        if (wc && *wc && parse_uint("$WEB_CONCURRENCY", wc, 1, &c->workers) < 0)
                return -EINVAL;
        const char *fa = getenv("FORWARDED_ALLOW_IPS");
        c->forwarded_allow_ips = strv_split_commas(NULL, fa ? fa : DEFAULT_FORWARDED_ALLOW_IPS);
        const char *venv = getenv("VIRTUAL_ENV");
        if (venv && *venv)
                c->virtualenv = xstrdup(venv);

        /* First pass: -c FILE (the last one wins), and the app spec for the
         * interpreter's sys.argv.  --help, --version and errors are left to
         * the second pass, without running the file. */
        const char *file = NULL;
        bool skip_file = false;
        opterr = 0;
        optind = 0;
        for (int opt; (opt = getopt_long(argc, argv, SHORTOPTS, options, NULL)) >= 0; )
                if (opt == 'c')
                        file = optarg;
                else if (opt == OPT_VIRTUALENV) {
                        free(c->virtualenv);
                        c->virtualenv = xstrdup(optarg);
                } else if (opt == 'v' || opt == 'h' || opt == '?' || opt == ':')
                        skip_file = true;
        if (skip_file)
                file = NULL;
        else if (!file && access(DEFAULT_CONFIG_FILE, F_OK) == 0)
                file = DEFAULT_CONFIG_FILE;
        if (c->virtualenv && !skip_file) {
                int k = python_use_virtualenv(c->virtualenv);
                if (k < 0)
                        return k;
        }
        if (file) {
                int k = pyconfig_load(c, file, optind < argc ? argv[optind] : NULL);
                if (k < 0)
                        return k;
                c->config_file = xstrdup(file);
        }

        /* Second pass: the command line, over the file's settings.  A -b or
         * --pythonpath here replaces the file's list, as in gunicorn. */
        bool cmdline_bind = false, cmdline_pythonpath = false, cmdline_env = false;
        int r = 0;
        optind = 0;
        for (int opt; (opt = getopt_long(argc, argv, SHORTOPTS, options, NULL)) >= 0; ) {
                switch (opt) {
                case 'c':
                case OPT_VIRTUALENV:
                        break;
                case 'b':
                        if (!cmdline_bind)
                                c->binds = strv_free(c->binds);
                        cmdline_bind = true;
                        c->binds = strv_push(c->binds, xstrdup(optarg));
                        break;
                case 'w':
                        r = parse_uint("-w/--workers", optarg, 1, &c->workers);
                        break;
                case OPT_THREADS:
                        r = parse_uint("--threads", optarg, 1, &c->threads);
                        break;
                case 't':
                        r = parse_uint("-t/--timeout", optarg, 0, &c->timeout);
                        break;
                case OPT_GRACEFUL_TIMEOUT:
                        r = parse_uint("--graceful-timeout", optarg, 0, &c->graceful_timeout);
                        break;
                case OPT_BACKLOG:
                        r = parse_uint("--backlog", optarg, 1, &c->backlog);
                        break;
                case OPT_LIMIT_LINE:
                        r = parse_uint("--limit-request-line", optarg, 0, &c->limit_request_line);
                        break;
                case OPT_LIMIT_FIELDS:
                        r = parse_uint("--limit-request-fields", optarg, 0, &c->limit_request_fields);
                        break;
                case OPT_LIMIT_FIELD_SIZE:
                        r = parse_uint("--limit-request-field_size", optarg, 0, &c->limit_request_field_size);
                        break;
                case OPT_LIMIT_BODY:
                        r = parse_ull("--limit-request-body", optarg, &c->limit_request_body);
                        break;
                case OPT_KEEP_ALIVE:
                        r = parse_uint("--keep-alive", optarg, 0, &c->keep_alive);
                        break;
                case OPT_HEADER_TIMEOUT:
                        r = parse_uint("--header-timeout", optarg, 0, &c->header_timeout);
                        break;
                case OPT_MAX_REQUESTS:
                        r = parse_uint("--max-requests", optarg, 0, &c->max_requests);
                        break;
                case OPT_MAX_REQUESTS_JITTER:
                        r = parse_uint("--max-requests-jitter", optarg, 0, &c->max_requests_jitter);
                        break;
                case OPT_PRELOAD:
                        c->preload = true;
                        break;
                case OPT_CHDIR:
                        free(c->chdir);
                        c->chdir = xstrdup(optarg);
                        break;
                case OPT_PYTHONPATH:
                        if (!cmdline_pythonpath)
                                c->pythonpath = strv_free(c->pythonpath);
                        cmdline_pythonpath = true;
                        c->pythonpath = strv_split_commas(c->pythonpath, optarg);
                        break;
                case OPT_CHECK_CONFIG:
                        c->check_config = true;
                        break;
                case OPT_LOG_LEVEL:
                        r = config_set_log_level(c, "--log-level", optarg);
                        break;
                case OPT_ERROR_LOGFILE:
                        free(c->errorlog);
                        c->errorlog = xstrdup(optarg);
                        break;
                case OPT_ACCESS_LOGFILE:
                        free(c->accesslog);
                        c->accesslog = xstrdup(optarg);
                        break;
                case OPT_ACCESS_LOGFORMAT:
                        free(c->access_log_format);
                        c->access_log_format = xstrdup(optarg);
                        break;
                case OPT_PRINT_CONFIG:
                        c->print_config = true;
                        break;
                case 'e':
                        if (!strchr(optarg, '=')) {
                                fprintf(stderr, "unitcorn: error: argument -e/--env: '%s' is not KEY=VALUE\n", optarg);
                                return -EINVAL;
                        }
                        if (!cmdline_env)
                                c->raw_env = strv_free(c->raw_env);
                        cmdline_env = true;
                        c->raw_env = strv_push(c->raw_env, xstrdup(optarg));
                        break;
                case 'n':
                        free(c->proc_name);
                        c->proc_name = xstrdup(optarg);
                        break;
                case 'p':
                        free(c->pidfile);
                        c->pidfile = xstrdup(optarg);
                        break;
                case OPT_FORWARDED_ALLOW_IPS:
                        strv_free(c->forwarded_allow_ips);
                        c->forwarded_allow_ips = strv_split_commas(NULL, optarg);
                        break;
                case 'v':
                        printf("unitcorn (version %s)\n", UNITCORN_VERSION);
                        return 1;
                case 'h':
                        help();
                        return 1;
                case ':':
                        fprintf(stderr, "unitcorn: error: option '%s' expects an argument\n", argv[optind - 1]);
                        return -EINVAL;
                default:
                        /* For an unknown long option getopt leaves optopt 0 and the
                         * offending word at argv[optind-1]. */
                        if (optopt)
                                fprintf(stderr, "unitcorn: error: unrecognized option '-%c'\n", optopt);
                        else
                                fprintf(stderr, "unitcorn: error: unrecognized option '%s'\n", argv[optind - 1]);
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }

        /* the command line's app spec, else the file's wsgi_app */
        if (optind < argc) {
                free(c->app);
                c->app = xstrdup(argv[optind++]);
        }
        if (optind < argc) {
                fprintf(stderr, "unitcorn: error: unrecognized arguments: '%s'\n", argv[optind]);
                return -EINVAL;
        }
        if (!c->app) {
                fprintf(stderr, "unitcorn: error: No application module specified.\n");
                return -EINVAL;
        }
        if (forwarded_init(c->forwarded_allow_ips) < 0)
                return -EINVAL;

        if (!c->binds) {
                const char *port = getenv("PORT");
                c->binds = strv_push(c->binds, port && *port ? xstrdup("0.0.0.0:") : xstrdup(DEFAULT_BIND));
                if (port && *port) {
                        size_t n = strlen(c->binds[0]);
                        c->binds[0] = xrealloc(c->binds[0], n + strlen(port) + 1);
                        strcpy(c->binds[0] + n, port);
                }
        }
        return 0;
}

void config_done(Config *c) {
        strv_free(c->binds);
        strv_free(c->pythonpath);
        free(c->chdir);
        free(c->app);
        free(c->config_file);
        free(c->errorlog);
        free(c->accesslog);
        free(c->access_log_format);
        strv_free(c->raw_env);
        free(c->proc_name);
        free(c->pidfile);
        strv_free(c->forwarded_allow_ips);
        free(c->virtualenv);
        *c = (Config) {0};
}
