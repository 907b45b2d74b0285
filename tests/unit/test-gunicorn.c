/* test-gunicorn.c: gunicorn command lines as gunicorn reads them.
 *
 * `parse_vectors` reproduce gunicorn 20.1's argparse (Debian's
 * python3-gunicorn) with /usr/bin/python3 (3.11):
 *     ns = gunicorn.config.Config().parser().parse_args(argv)
 * (an error: the message's last line, argparse's words); the options
 * unitcorn gets are the settings argparse set, under their first long name.
 * `bind_vectors` reproduce gunicorn.util.parse_address(bind) (an error:
 * the RuntimeError), written as systemd's ListenStream=. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gunicorn.h"
#include "strbuf.h"
#include "tap.h"

#define MAX_WORDS 16

/* words separated by single spaces (vectors hold no spaces in words) */
static char **split_words(const char *s) {
        char **v = NULL;
        _cleanup_free_ char *copy = xstrdup(s);
        char *save = NULL;
        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
                v = strv_push(v, xstrdup(w));
        return v ? v : xcalloc(1, sizeof(char *));
}

static char *join(char **v) {
        _cleanup_sb_ StrBuf b = {0};
        for (size_t i = 0; v && v[i]; i++) {
                if (i)
                        sb_addc(&b, ' ');
                sb_add(&b, v[i]);
        }
        return sb_take(&b);
}

static const struct {
        const char *argv;
        bool unitcorn;
        const char *error;        /* NULL: parses */
        const char *pass, *binds, *config, *positionals, *unsupported;
} parse_vectors[] = {
        { "gunicorn -w4 app:x", false, NULL, "--workers 4", "", NULL, "app:x", NULL },
        { "gunicorn -w 4 app:x", false, NULL, "--workers 4", "", NULL, "app:x", NULL },
        { "gunicorn -w=4 app:x", false, NULL, "--workers 4", "", NULL, "app:x", NULL },
        { "gunicorn --workers=4 app:x", false, NULL, "--workers 4", "", NULL, "app:x", NULL },
        { "gunicorn --work 4 app:x", false, "ambiguous option: --work", NULL, NULL, NULL, NULL, NULL },
        { "gunicorn --max-requests-j 5 app:x", false, NULL, "--max-requests-jitter 5", "", NULL, "app:x", NULL },
        { "gunicorn -b a -b b app:x", false, NULL, "", "a b", NULL, "app:x", NULL },
        { "gunicorn --bind=a app:x", false, NULL, "", "a", NULL, "app:x", NULL },
        { "gunicorn -b127.0.0.1:80 app:x", false, NULL, "", "127.0.0.1:80", NULL, "app:x", NULL },
        { "gunicorn -- -app", false, NULL, "", "", NULL, "-app", NULL },
        { "gunicorn app:x -w", false, "argument -w: expected one argument", NULL, NULL, NULL, NULL, NULL },
        { "gunicorn -w -1 app:x", false, NULL, "--workers -1", "", NULL, "app:x", NULL },
        { "gunicorn -w --preload app:x", false, "argument -w: expected one argument", NULL, NULL, NULL, NULL, NULL },
        { "gunicorn --preload=1 app:x", false, "argument --preload: ignored explicit argument '1'", NULL, NULL, NULL, NULL, NULL },
        { "gunicorn -DR app:x", false, NULL, "", "", NULL, "app:x", "-D" },
        { "gunicorn -Dw4 app:x", false, NULL, "--workers 4", "", NULL, "app:x", "-D" },
        { "gunicorn -k sync app:x", false, NULL, "", "", NULL, "app:x", NULL },
        { "gunicorn -k gevent app:x", false, NULL, "", "", NULL, "app:x", "-k gevent" },
        { "gunicorn --threads=1 app:x", false, NULL, "--threads 1", "", NULL, "app:x", NULL },
        { "gunicorn --threads 8 app:x", false, NULL, "--threads 8", "", NULL, "app:x", NULL },
        { "gunicorn -k gthread --threads 8 app:x", false, NULL, "--threads 8", "", NULL, "app:x", NULL },
        { "gunicorn -k eventlet app:x", false, NULL, "", "", NULL, "app:x", "-k eventlet" },
        { "gunicorn -n - app:x", false, NULL, "--name -", "", NULL, "app:x", NULL },
        { "gunicorn a b", false, NULL, "", "", NULL, "a b", NULL },
        { "gunicorn --log debug", false, "ambiguous option: --log", NULL, NULL, NULL, NULL, NULL },
        { "gunicorn --log-file=- app:x", false, NULL, "--error-logfile -", "", NULL, "app:x", NULL },
        { "gunicorn --paster x", false, NULL, "", "", NULL, "", "--paster" },
        { "gunicorn --pas x", false, "ambiguous option: --pas", NULL, NULL, NULL, NULL, NULL },
        { "gunicorn -x", false, "unrecognized arguments: -x", NULL, NULL, NULL, NULL, NULL },
        { "gunicorn --access-logfile - app:x", false, NULL, "--access-logfile -", "", NULL, "app:x", NULL },
        { "gunicorn -", false, NULL, "", "", NULL, "-", NULL },
        { "gunicorn -c pygun.py -c other.py", false, NULL, "--config pygun.py --config other.py", "", "other.py", "", NULL },
        { "gunicorn --certfile=c.pem --reload app:x", false, NULL, "", "", NULL, "app:x", "--certfile" },
        /* unitcorn's own options exist only on a unitcorn command line */
        { "gunicorn --header-timeout 5 app:x", false, "unrecognized arguments: --header-timeout", NULL, NULL, NULL, NULL, NULL },
        { "unitcorn --header-timeout 5 --virtualenv /v app:x", true, NULL, "--header-timeout 5 --virtualenv /v", "", NULL, "app:x", NULL },
        { "unitcorn --reload app:x", true, "unrecognized arguments: --reload", NULL, NULL, NULL, NULL, NULL },
        { "unitcorn -k sync app:x", true, "unrecognized arguments: -k", NULL, NULL, NULL, NULL, NULL },
        /* getopt takes the next word as the value, whatever it is */
        { "unitcorn -w --preload app:x", true, NULL, "--workers --preload", "", NULL, "app:x", NULL },
        /* python -m gunicorn */
        { "/usr/bin/python3 -m gunicorn -t 5 app:x", false, NULL, "--timeout 5", "", NULL, "app:x", NULL },
        { "/usr/bin/python3.11 -mgunicorn app:x", false, NULL, "", "", NULL, "app:x", NULL },
};

static void test_parse(void) {
        for (size_t i = 0; i < ELEMENTSOF(parse_vectors); i++) {
                _cleanup_strv_free_ char **argv = split_words(parse_vectors[i].argv);
                size_t first = 0;
                GunicornKind kind = gunicorn_detect(argv, &first);
                tap_is_int(kind, parse_vectors[i].unitcorn ? GUNICORN_KIND_UNITCORN : GUNICORN_KIND_GUNICORN,
                           "detect %s", parse_vectors[i].argv);
                GunicornArgs a = {0};
                _cleanup_free_ char *error = NULL;
                int r = gunicorn_parse(argv, first, parse_vectors[i].unitcorn, &a, &error);
                if (parse_vectors[i].error) {
                        tap_is_int(r, -EINVAL, "parse %s fails", parse_vectors[i].argv);
                        tap_is_str(error, parse_vectors[i].error, "parse %s: message", parse_vectors[i].argv);
                        continue;
                }
                if (!tap_is_int(r, 0, "parse %s", parse_vectors[i].argv)) {
                        tap_diag("error: %s", error);
                        continue;
                }
                _cleanup_free_ char *pass = join(a.pass), *binds = join(a.binds), *pos = join(a.positionals);
                tap_is_str(pass, parse_vectors[i].pass, "parse %s: options for unitcorn", parse_vectors[i].argv);
                tap_is_str(binds, parse_vectors[i].binds, "parse %s: binds", parse_vectors[i].argv);
                tap_is_str(a.config, parse_vectors[i].config, "parse %s: config", parse_vectors[i].argv);
                tap_is_str(pos, parse_vectors[i].positionals, "parse %s: positionals", parse_vectors[i].argv);
                tap_is_str(a.unsupported, parse_vectors[i].unsupported, "parse %s: unsupported", parse_vectors[i].argv);
                gunicorn_args_done(&a);
        }
}

static const struct {
        const char *argv;
        GunicornKind kind;
        size_t first;
} detect_vectors[] = {
        { "/usr/bin/gunicorn", GUNICORN_KIND_GUNICORN, 1 },
        { "/usr/bin/gunicorn3 app:x", GUNICORN_KIND_GUNICORN, 1 },
        { "/srv/venv/bin/gunicorn app:x", GUNICORN_KIND_GUNICORN, 1 },
        { "/usr/local/bin/unitcorn app:x", GUNICORN_KIND_UNITCORN, 1 },
        { "/usr/bin/python -m gunicorn", GUNICORN_KIND_GUNICORN, 3 },
        { "/usr/bin/python3 -m gunicorn", GUNICORN_KIND_GUNICORN, 3 },
        { "/usr/bin/python3.12 -mgunicorn", GUNICORN_KIND_GUNICORN, 2 },
        { "/usr/bin/python3 -u -m gunicorn", GUNICORN_KIND_NONE, 0 },
        { "/usr/bin/python3 -m gunicornx", GUNICORN_KIND_NONE, 0 },
        { "/usr/bin/python2 -m gunicorn", GUNICORN_KIND_NONE, 0 },
        { "/usr/bin/python3. -m gunicorn", GUNICORN_KIND_NONE, 0 },
        { "/usr/bin/python3.x -m gunicorn", GUNICORN_KIND_NONE, 0 },
        { "/usr/bin/python3", GUNICORN_KIND_NONE, 0 },
        { "/usr/bin/gunicorn-foo", GUNICORN_KIND_NONE, 0 },
        { "/usr/bin/uwsgi", GUNICORN_KIND_NONE, 0 },
        { "/bin/sh -c gunicorn", GUNICORN_KIND_NONE, 0 },
};

static void test_detect(void) {
        for (size_t i = 0; i < ELEMENTSOF(detect_vectors); i++) {
                _cleanup_strv_free_ char **argv = split_words(detect_vectors[i].argv);
                size_t first = 0;
                GunicornKind k = gunicorn_detect(argv, &first);
                tap_is_int(k, detect_vectors[i].kind, "detect %s", detect_vectors[i].argv);
                if (k != GUNICORN_KIND_NONE)
                        tap_is_int((long long) first, (long long) detect_vectors[i].first, "detect %s: first argument",
                                   detect_vectors[i].argv);
        }
}

static const struct {
        const char *bind, *base;
        int ret;
        const char *listen;       /* ret 1: ListenStream=; else the message */
        bool is_unix;
} bind_vectors[] = {
        { "127.0.0.1:5000", NULL, 1, "127.0.0.1:5000", false },
        { "tcp://127.0.0.1:5000", NULL, 1, "127.0.0.1:5000", false },
        { "0.0.0.0", NULL, 1, "0.0.0.0:8000", false },
        { "", NULL, 1, "0.0.0.0:8000", false },
        { ":9000", NULL, 1, "0.0.0.0:9000", false },
        { "localhost:9000", NULL, 1, "127.0.0.1:9000", false },
        { "LocalHost", NULL, 1, "127.0.0.1:8000", false },
        { "[::1]:9000", NULL, 1, "[::1]:9000", false },
        { "[::]", NULL, 1, "[::]:8000", false },
        { "[2001:DB8::1]:80", NULL, 1, "[2001:db8::1]:80", false },
        { "unix:/run/app.sock", NULL, 1, "/run/app.sock", true },
        { "unix:///run/app.sock", NULL, 1, "/run/app.sock", true },
        { "unix:app.sock", "/srv/app", 1, "/srv/app/app.sock", true },
        { "unix:app.sock", "/srv/app/", 1, "/srv/app/app.sock", true },
        { "unix:app.sock", NULL, 0, "'unix:app.sock': a relative socket path needs an absolute directory= or --chdir", false },
        { "unix:", NULL, -EINVAL, "'unix:': no socket path", false },
        { "fd://3", NULL, 0, "'fd://3': an inherited file descriptor cannot become a socket unit", false },
        { "example.com:80", NULL, 0, "'example.com:80': host name 'example.com': systemd listens on addresses, and the generator does not resolve names", false },
        { "127.0.0.1:http", NULL, -EINVAL, "'127.0.0.1:http': 'http' is not a valid port number", false },
        { "127.0.0.1:", NULL, -EINVAL, "'127.0.0.1:': '' is not a valid port number", false },
        { "127.0.0.1:0", NULL, -EINVAL, "'127.0.0.1:0': port 0 is out of range 1-65535", false },
        { "127.0.0.1:65536", NULL, -EINVAL, "'127.0.0.1:65536': port 65536 is out of range 1-65535", false },
        { "127.0.0.1:65535", NULL, 1, "127.0.0.1:65535", false },
        /* parse_address() splits at every ':' and keeps the first two parts */
        { "127.0.0.1:80:90", NULL, 1, "127.0.0.1:80", false },
        /* an IPv6 address without brackets: the host is "" and the port ":" */
        { "::1", NULL, -EINVAL, "'::1': '' is not a valid port number", false },
        { "[::1]:x", NULL, -EINVAL, "'[::1]:x': 'x' is not a valid port number", false },
};

static void test_bind(void) {
        for (size_t i = 0; i < ELEMENTSOF(bind_vectors); i++) {
                _cleanup_free_ char *listen = NULL, *error = NULL;
                bool is_unix = false;
                int r = gunicorn_bind_to_listen(bind_vectors[i].bind, bind_vectors[i].base, &listen, &is_unix, &error);
                tap_is_int(r, bind_vectors[i].ret, "bind '%s': result", bind_vectors[i].bind);
                tap_is_str(r == 1 ? listen : error, bind_vectors[i].listen, "bind '%s': %s", bind_vectors[i].bind,
                           r == 1 ? "ListenStream=" : "message");
                if (r == 1)
                        tap_is_int(is_unix, bind_vectors[i].is_unix, "bind '%s': unix", bind_vectors[i].bind);
        }
}

int main(void) {
        test_detect();
        test_parse();
        test_bind();
        return tap_done();
}
