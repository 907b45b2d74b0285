/* gunicorn.c: gunicorn command lines read as gunicorn reads them
 * (gunicorn.h).
 *
 * The option table is gunicorn 20.1's (Debian's python3-gunicorn,
 * gunicorn/config.py: every setting with a `cli`), plus argparse's -v and
 * -h and the options unitcorn has of its own; tests/generator/
 * check-gunicorn-options.py compares it with the installed gunicorn.  The
 * parser follows argparse (allow_abbrev, "--opt=value", "-w4", bundled
 * flags, "--", a value may not look like an option) and the address rules
 * follow gunicorn.util.parse_address().  Deliberately not done: Python
 * interpreter options before "-m gunicorn" (the command is then not
 * recognised, and kept as it is). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gunicorn.h"
#include "unit.h"
#include "strbuf.h"

/* gunicorn.util.parse_address()'s default_port */
#define GUNICORN_DEFAULT_PORT 8000

#define O(setting, sh, l1, l2, val, sup) { setting, sh, { l1, l2 }, val, GUNICORN_##sup, false }
#define U(setting, sh, l1, val) { setting, sh, { l1, NULL }, val, GUNICORN_PASS, true }
const GunicornOption gunicorn_options[] = {
        O("access_log_format",          0,   "access-logformat", NULL, true, PASS),
        O("accesslog",                  0,   "access-logfile", NULL, true, PASS),
        O("backlog",                    0,   "backlog", NULL, true, PASS),
        O("bind",                       'b', "bind", NULL, true, BIND),
        O("ca_certs",                   0,   "ca-certs", NULL, true, UNSUPPORTED),
        O("capture_output",             0,   "capture-output", NULL, false, UNSUPPORTED),
        O("cert_reqs",                  0,   "cert-reqs", NULL, true, UNSUPPORTED),
        O("certfile",                   0,   "certfile", NULL, true, UNSUPPORTED),
        O("chdir",                      0,   "chdir", NULL, true, PASS),
        O("check_config",               0,   "check-config", NULL, false, PASS),
        O("ciphers",                    0,   "ciphers", NULL, true, UNSUPPORTED),
        O("config",                     'c', "config", NULL, true, CONFIG),
        O("daemon",                     'D', "daemon", NULL, false, UNSUPPORTED),
        O("disable_redirect_access_to_syslog", 0, "disable-redirect-access-to-syslog", NULL, false, UNSUPPORTED),
        O("do_handshake_on_connect",    0,   "do-handshake-on-connect", NULL, false, UNSUPPORTED),
        O("dogstatsd_tags",             0,   "dogstatsd-tags", NULL, true, UNSUPPORTED),
        O("enable_stdio_inheritance",   'R', "enable-stdio-inheritance", NULL, false, UNSUPPORTED),
        O("errorlog",                   0,   "error-logfile", "log-file", true, PASS),
        O("forwarded_allow_ips",        0,   "forwarded-allow-ips", NULL, true, PASS),
        O("graceful_timeout",           0,   "graceful-timeout", NULL, true, PASS),
        O("group",                      'g', "group", NULL, true, UNSUPPORTED),
        O("initgroups",                 0,   "initgroups", NULL, false, UNSUPPORTED),
        O("keepalive",                  0,   "keep-alive", NULL, true, PASS),
        O("keyfile",                    0,   "keyfile", NULL, true, UNSUPPORTED),
        O("limit_request_field_size",   0,   "limit-request-field_size", NULL, true, PASS),
        O("limit_request_fields",       0,   "limit-request-fields", NULL, true, PASS),
        O("limit_request_line",         0,   "limit-request-line", NULL, true, PASS),
        O("logconfig",                  0,   "log-config", NULL, true, UNSUPPORTED),
        O("logger_class",               0,   "logger-class", NULL, true, UNSUPPORTED),
        O("loglevel",                   0,   "log-level", NULL, true, PASS),
        O("max_requests",               0,   "max-requests", NULL, true, PASS),
        O("max_requests_jitter",        0,   "max-requests-jitter", NULL, true, PASS),
        O("paste",                      0,   "paste", "paster", true, UNSUPPORTED),
        O("pidfile",                    'p', "pid", NULL, true, PASS),
        O("preload_app",                0,   "preload", NULL, false, PASS),
        O("print_config",               0,   "print-config", NULL, false, PASS),
        O("proc_name",                  'n', "name", NULL, true, PASS),
        O("proxy_allow_ips",            0,   "proxy-allow-from", NULL, true, UNSUPPORTED),
        O("proxy_protocol",             0,   "proxy-protocol", NULL, false, UNSUPPORTED),
        O("pythonpath",                 0,   "pythonpath", NULL, true, PASS),
        O("raw_env",                    'e', "env", NULL, true, PASS),
        O("raw_paste_global_conf",      0,   "paste-global", NULL, true, UNSUPPORTED),
        O("reload",                     0,   "reload", NULL, false, UNSUPPORTED),
        O("reload_engine",              0,   "reload-engine", NULL, true, UNSUPPORTED),
        O("reload_extra_files",         0,   "reload-extra-file", NULL, true, UNSUPPORTED),
        O("reuse_port",                 0,   "reuse-port", NULL, false, UNSUPPORTED),
        O("sendfile",                   0,   "no-sendfile", NULL, false, UNSUPPORTED),
        O("spew",                       0,   "spew", NULL, false, UNSUPPORTED),
        O("ssl_version",                0,   "ssl-version", NULL, true, UNSUPPORTED),
        O("statsd_host",                0,   "statsd-host", NULL, true, UNSUPPORTED),
        O("statsd_prefix",              0,   "statsd-prefix", NULL, true, UNSUPPORTED),
        O("strip_header_spaces",        0,   "strip-header-spaces", NULL, false, UNSUPPORTED),
        O("suppress_ragged_eofs",       0,   "suppress-ragged-eofs", NULL, false, UNSUPPORTED),
        O("syslog",                     0,   "log-syslog", NULL, false, UNSUPPORTED),
        O("syslog_addr",                0,   "log-syslog-to", NULL, true, UNSUPPORTED),
        O("syslog_facility",            0,   "log-syslog-facility", NULL, true, UNSUPPORTED),
        O("syslog_prefix",              0,   "log-syslog-prefix", NULL, true, UNSUPPORTED),
        O("threads",                    0,   "threads", NULL, true, PASS),
        O("timeout",                    't', "timeout", NULL, true, PASS),
        O("tolerate_dangerous_framing", 0,   "tolerate-dangerous-framing", NULL, false, UNSUPPORTED),
        O("umask",                      'm', "umask", NULL, true, UNSUPPORTED),
        O("user",                       'u', "user", NULL, true, UNSUPPORTED),
        O("worker_class",               'k', "worker-class", NULL, true, WORKER_CLASS),
        O("worker_connections",         0,   "worker-connections", NULL, true, UNSUPPORTED),
        O("worker_tmp_dir",             0,   "worker-tmp-dir", NULL, true, UNSUPPORTED),
        O("workers",                    'w', "workers", NULL, true, PASS),
        /* argparse's own */
        O("",                           'v', "version", NULL, false, EXIT),
        O("",                           'h', "help", NULL, false, EXIT),
        /* unitcorn's own (server/config.c) */
        U("limit_request_body",         0,   "limit-request-body", true),
        U("header_timeout",             0,   "header-timeout", true),
        U("virtualenv",                 0,   "virtualenv", true),
};
#undef O
#undef U
const size_t gunicorn_n_options = ELEMENTSOF(gunicorn_options);

static const char *last_component(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

/* python, python3, python3.11 */
static bool is_python(const char *name) {
        if (strncmp(name, "python", 6) != 0)
                return false;
        name += 6;
        if (!*name)
                return true;
        if (*name != '3')
                return false;
        name++;
        if (!*name)
                return true;
        if (*name++ != '.' || !*name)
                return false;
        for (; *name; name++)
                if (*name < '0' || *name > '9')
                        return false;
        return true;
}

GunicornKind gunicorn_detect(char *const *argv, size_t *ret_first) {
        if (!argv || !argv[0])
                return GUNICORN_KIND_NONE;
        const char *name = last_component(argv[0]);
        /* the cheap test that keeps every other program off this path */
        if (name[0] != 'g' && name[0] != 'u' && name[0] != 'p')
                return GUNICORN_KIND_NONE;
        if (streq(name, "gunicorn") || streq(name, "gunicorn3")) {
                *ret_first = 1;
                return GUNICORN_KIND_GUNICORN;
        }
        if (streq(name, "unitcorn")) {
                *ret_first = 1;
                return GUNICORN_KIND_UNITCORN;
        }
        if (!is_python(name) || !argv[1])
                return GUNICORN_KIND_NONE;
        if (streq(argv[1], "-mgunicorn")) {
                *ret_first = 2;
                return GUNICORN_KIND_GUNICORN;
        }
        if (streq(argv[1], "-m") && argv[2] && streq(argv[2], "gunicorn")) {
                *ret_first = 3;
                return GUNICORN_KIND_GUNICORN;
        }
        return GUNICORN_KIND_NONE;
}

char *gunicorn_venv_of(const char *argv0) {
        const char *slash = strrchr(argv0, '/');
        if (!slash || slash == argv0)
                return NULL;
        /* DIR/bin/NAME */
        if (slash - argv0 < 4 || strncmp(slash - 4, "/bin", 4) != 0)
                return NULL;
        _cleanup_free_ char *dir = xstrndup(argv0, (size_t) (slash - 4 - argv0));
        if (!*dir)
                return NULL;
        _cleanup_free_ char *cfg = xstrjoin(dir, "/pyvenv.cfg", NULL);
        struct stat st;
        if (stat(cfg, &st) < 0 || !S_ISREG(st.st_mode))
                return NULL;
        return TAKE_PTR(dir);
}

void gunicorn_args_done(GunicornArgs *a) {
        a->pass = strv_free(a->pass);
        a->binds = strv_free(a->binds);
        a->positionals = strv_free(a->positionals);
        free(a->config);
        free(a->unsupported);
        free(a->exits);
        free(a->chdir);
        a->config = a->unsupported = a->exits = a->chdir = NULL;
}

/* argparse takes "-5" or "-.5" for a positional (the parser has no options
 * that look like negative numbers). */
static bool looks_negative_number(const char *s) {
        if (s[0] != '-' || !s[1])
                return false;
        bool dot = false, digit = false;
        for (s++; *s; s++) {
                if (*s == '.' && !dot)
                        dot = true;
                else if (*s >= '0' && *s <= '9')
                        digit = true;
                else
                        return false;
        }
        return digit;
}

/* A word argparse would not take as an option's value. */
static bool looks_like_option(const char *s) {
        return s[0] == '-' && s[1] && !looks_negative_number(s);
}

/* unitcorn's own command line has its options and gunicorn's that it
 * supports; gunicorn's has gunicorn's. */
static bool visible(const GunicornOption *o, bool unitcorn) {
        if (unitcorn)
                return o->support == GUNICORN_PASS || o->support == GUNICORN_BIND || o->support == GUNICORN_CONFIG ||
                       o->support == GUNICORN_EXIT;
        return !o->unitcorn_only;
}

/* The long option named name[0..len), exactly or by a unique prefix. */
static const GunicornOption *find_long(const char *name, size_t len, bool unitcorn, bool *ret_ambiguous) {
        const GunicornOption *found = NULL;
        unsigned n_prefix = 0;
        *ret_ambiguous = false;
        for (size_t i = 0; i < gunicorn_n_options; i++) {
                const GunicornOption *o = &gunicorn_options[i];
                if (!visible(o, unitcorn))
                        continue;
                for (size_t j = 0; j < 2 && o->long_names[j]; j++) {
                        const char *l = o->long_names[j];
                        if (strlen(l) == len && strncmp(l, name, len) == 0)
                                return o;
                        if (strncmp(l, name, len) == 0) {   /* argparse counts each name */
                                found = o;
                                n_prefix++;
                        }
                }
        }
        if (n_prefix > 1) {
                *ret_ambiguous = true;
                return NULL;
        }
        return found;
}

static const GunicornOption *find_short(char c, bool unitcorn) {
        for (size_t i = 0; i < gunicorn_n_options; i++)
                if (gunicorn_options[i].short_name == c && visible(&gunicorn_options[i], unitcorn))
                        return &gunicorn_options[i];
        return NULL;
}

/* gunicorn's sync and gthread workers are what unitcorn's are (--threads
 * decides between them, as in gunicorn).  gevent and eventlet are not:
 * unitcorn would serve them with --threads threads, one by default,
 * where gunicorn's gevent worker serves a thousand connections at once. */
static bool is_unitcorn_worker(const char *v) {
        return streq(v, "sync") || streq(v, "gunicorn.workers.sync.SyncWorker") || streq(v, "egg:gunicorn#sync") ||
               streq(v, "gthread") || streq(v, "gunicorn.workers.gthread.ThreadWorker") ||
               streq(v, "egg:gunicorn#gthread");
}

static void take_option(GunicornArgs *a, const GunicornOption *o, const char *written, const char *value) {
        switch (o->support) {
        case GUNICORN_BIND:
                a->binds = strv_push(a->binds, xstrdup(value));
                return;
        case GUNICORN_CONFIG:
                free(a->config);
                a->config = xstrdup(value);
                break;
        case GUNICORN_WORKER_CLASS:
                if (!is_unitcorn_worker(value) && !a->unsupported)
                        a->unsupported = xstrjoin(written, " ", value, NULL);
                return;
        case GUNICORN_UNSUPPORTED:
                if (!a->unsupported)
                        a->unsupported = xstrdup(written);
                return;
        case GUNICORN_EXIT:
                if (!a->exits)
                        a->exits = xstrdup(written);
                return;
        case GUNICORN_PASS:
                break;
        }
        if (streq(o->setting, "virtualenv"))
                a->has_virtualenv = true;
        if (streq(o->setting, "chdir")) {
                free(a->chdir);
                a->chdir = xstrdup(value);
        }
        if (streq(o->setting, "graceful_timeout") || streq(o->setting, "backlog")) {
                char *end;
                errno = 0;
                long long v = strtoll(value, &end, 10);
                if (!errno && end != value && !*end && v >= 0)
                        *(streq(o->setting, "backlog") ? &a->backlog : &a->graceful_timeout) = v;
        }
        a->pass = strv_push(a->pass, xstrjoin("--", o->long_names[0], NULL));
        if (o->takes_value)
                a->pass = strv_push(a->pass, xstrdup(value));
}

int gunicorn_parse(char *const *argv, size_t first, bool unitcorn, GunicornArgs *ret, char **ret_error) {
        _cleanup_(gunicorn_args_done) GunicornArgs a = { .graceful_timeout = -1, .backlog = -1 };
        bool options_done = false;
        for (size_t i = first; argv[i]; i++) {
                const char *w = argv[i];
                if (options_done || !looks_like_option(w)) {
                        a.positionals = strv_push(a.positionals, xstrdup(w));
                        continue;
                }
                if (streq(w, "--")) {
                        options_done = true;
                        continue;
                }
                if (w[1] == '-') {
                        const char *eq = strchr(w, '=');
                        size_t len = eq ? (size_t) (eq - w - 2) : strlen(w + 2);
                        bool ambiguous;
                        const GunicornOption *o = find_long(w + 2, len, unitcorn, &ambiguous);
                        _cleanup_free_ char *written = xstrndup(w, len + 2);
                        if (!o) {
                                *ret_error = xasprintf(ambiguous ? "ambiguous option: %s" : "unrecognized arguments: %s",
                                                       written);
                                return -EINVAL;
                        }
                        const char *value = NULL;
                        if (o->takes_value) {
                                if (eq)
                                        value = eq + 1;
                                else if (argv[i + 1] && (unitcorn || !looks_like_option(argv[i + 1])))
                                        value = argv[++i];
                                else {
                                        *ret_error = xasprintf("argument %s: expected one argument", written);
                                        return -EINVAL;
                                }
                        } else if (eq) {
                                *ret_error = xasprintf("argument %s: ignored explicit argument '%s'", written, eq + 1);
                                return -EINVAL;
                        }
                        take_option(&a, o, written, value);
                        continue;
                }
                /* short options: "-w4", "-w 4", "-w=4", "-DR" */
                for (const char *c = w + 1; *c; c++) {
                        const GunicornOption *o = find_short(*c, unitcorn);
                        char written[3] = { '-', *c, 0 };
                        if (!o) {
                                *ret_error = xasprintf("unrecognized arguments: %s", c == w + 1 ? w : written);
                                return -EINVAL;
                        }
                        if (!o->takes_value) {
                                take_option(&a, o, written, NULL);
                                continue;
                        }
                        const char *value;
                        if (c[1])
                                value = c[1] == '=' && !unitcorn ? c + 2 : c + 1;
                        else if (argv[i + 1] && (unitcorn || !looks_like_option(argv[i + 1])))
                                value = argv[++i];
                        else {
                                *ret_error = xasprintf("argument %s: expected one argument", written);
                                return -EINVAL;
                        }
                        take_option(&a, o, written, value);
                        break;
                }
        }
        *ret = a;
        a = (GunicornArgs) {0};
        return 0;
}

static bool all_digits(const char *s, size_t n) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

int gunicorn_bind_to_listen(const char *bind, const char *base_dir, char **ret_listen, bool *ret_unix,
                            char **ret_error) {
        if (strncmp(bind, "unix:", 5) == 0) {
                const char *path = bind + 5;
                if (strncmp(path, "//", 2) == 0)
                        path += 2;
                if (!*path) {
                        *ret_error = xasprintf("'%s': no socket path", bind);
                        return -EINVAL;
                }
                if (path[0] != '/') {
                        if (!base_dir || base_dir[0] != '/') {
                                *ret_error = xasprintf("'%s': a relative socket path needs an absolute directory= or --chdir",
                                                       bind);
                                return 0;
                        }
                        size_t n = strlen(base_dir);
                        *ret_listen = xasprintf("%s%s%s", base_dir, base_dir[n - 1] == '/' ? "" : "/", path);
                } else
                        *ret_listen = xstrdup(path);
                if (!unit_value_writable(*ret_listen)) {
                        *ret_error = xasprintf("'%s': the path holds a line break or control character or ends in a "
                                               "backslash, which a unit file cannot hold", bind);
                        free(*ret_listen);
                        *ret_listen = NULL;
                        return 0;
                }
                *ret_unix = true;
                return 1;
        }
        if (strncmp(bind, "fd://", 5) == 0) {
                *ret_error = xasprintf("'%s': an inherited file descriptor cannot become a socket unit", bind);
                return 0;
        }
        const char *netloc = strncmp(bind, "tcp://", 6) == 0 ? bind + 6 : bind;
        _cleanup_free_ char *host = NULL;
        const char *port = NULL;
        size_t port_len = 0;
        const char *lb = strchr(netloc, '['), *rb = strchr(netloc, ']');
        if (lb && rb) {
                /* as parse_address(): the host from after the first byte to the first ']' */
                host = rb > netloc ? xstrndup(netloc + 1, (size_t) (rb - netloc - 1)) : xstrdup("");
                const char *pm = strstr(netloc, "]:");
                if (pm) {
                        port = pm + 2;
                        const char *next = strstr(port, "]:");
                        port_len = next ? (size_t) (next - port) : strlen(port);
                }
        } else if (strchr(netloc, ':')) {
                const char *colon = strchr(netloc, ':');
                host = xstrndup(netloc, (size_t) (colon - netloc));
                port = colon + 1;
                const char *next = strchr(port, ':');
                port_len = next ? (size_t) (next - port) : strlen(port);
        } else
                host = xstrdup(*netloc ? netloc : "0.0.0.0");
        long portnum = GUNICORN_DEFAULT_PORT;
        if (port) {
                if (!all_digits(port, port_len) || port_len > 5) {
                        *ret_error = xasprintf("'%s': '%.*s' is not a valid port number", bind, (int) port_len, port);
                        return -EINVAL;
                }
                portnum = strtol(port, NULL, 10);
                if (portnum < 1 || portnum > 65535) {
                        *ret_error = xasprintf("'%s': port %ld is out of range 1-65535", bind, portnum);
                        return -EINVAL;
                }
        }
        for (char *h = host; *h; h++)
                if (*h >= 'A' && *h <= 'Z')
                        *h = (char) (*h - 'A' + 'a');
        unsigned char buf[sizeof(struct in6_addr)];
        if (!*host || streq(host, "localhost")) {
                /* "" binds every IPv4 address; gunicorn's "localhost" is IPv4 */
                *ret_listen = xasprintf("%s:%ld", *host ? "127.0.0.1" : "0.0.0.0", portnum);
        } else if (inet_pton(AF_INET, host, buf) == 1)
                *ret_listen = xasprintf("%s:%ld", host, portnum);
        else if (inet_pton(AF_INET6, host, buf) == 1)
                *ret_listen = xasprintf("[%s]:%ld", host, portnum);
        else {
                *ret_error = xasprintf("'%s': host name '%s': systemd listens on addresses, and the generator does not "
                                       "resolve names", bind, host);
                return 0;
        }
        *ret_unix = false;
        return 1;
}
