/* test-overread.c: no parser reads past the end of its input.
 *
 * In the manner of picohttpparser's tests: every prefix of a few inputs is
 * copied so that it ends exactly at the end of a page whose successor is
 * mapped PROT_NONE.  A parser that looks one byte too far dies with SIGSEGV
 * (sanitizers do not watch mmap()ed memory; the guard page does).
 *
 * The NUL-terminated APIs (shlex, expand, datatypes, escaping) get the
 * prefix and its NUL as the last bytes of the page.  ini_config_read_buffer()
 * takes a size, so its prefix ends at the page boundary with no NUL at all;
 * it is also run on a heap copy followed by trailing garbage, and both
 * results must agree: a reader that depends on bytes past `size` differs
 * even where it does not crash.
 *
 * Nothing is compared with Python here; the other test files do that. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "datatypes.h"
#include "expand.h"
#include "inifile.h"
#include "log.h"
#include "shlex.h"
#include "strbuf.h"
#include "tap.h"
#include "unit.h"

typedef struct Guarded {
        char *map;
        size_t page;
} Guarded;

static int guarded_init(Guarded *g) {
        g->page = (size_t) sysconf(_SC_PAGESIZE);
        g->map = mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (g->map == MAP_FAILED)
                return -errno;
        if (mprotect(g->map + g->page, g->page, PROT_NONE) < 0)
                return -errno;
        return 0;
}

/* n bytes of s, ending at the guard page. */
static const char *guarded_bytes(const Guarded *g, const char *s, size_t n) {
        char *p = g->map + g->page - n;
        memcpy(p, s, n);
        return p;
}

/* The first n bytes of s and a NUL, the NUL being the page's last byte. */
static const char *guarded_str(const Guarded *g, const char *s, size_t n) {
        char *p = g->map + g->page - n - 1;
        memcpy(p, s, n);
        p[n] = 0;
        return p;
}

/* A config flattened to text, to compare two readings. */
static char *config_dump(const IniConfig *c, int r) {
        _cleanup_sb_ StrBuf b = {0};
        sb_addf(&b, "r=%d\n", r);
        for (size_t i = 0; i < c->defaults.n_keys; i++)
                sb_addf(&b, "DEFAULT %s=%s@%u\n", c->defaults.keys[i].name, c->defaults.keys[i].value,
                        c->defaults.keys[i].line);
        for (size_t i = 0; i < c->n_sections; i++) {
                const IniSection *s = c->sections[i];
                sb_addf(&b, "[%s]@%u%s\n", s->name, s->line, s->broken ? " broken" : "");
                for (size_t j = 0; j < s->n_keys; j++)
                        sb_addf(&b, "%s=%s@%u\n", s->keys[j].name, s->keys[j].value, s->keys[j].line);
        }
        return sb_take(&b);
}

static const char *const ini_inputs[] = {
        "[program:web]\ncommand = /usr/bin/web --port %(process_num)d ; comment\n"
        "environment = A=\"x,y\",B='z'\n  C=1\n\n  D=2\n[DEFAULT]\r\nx: 1\r\n[t]\rk=v\r",
        "; c\n[a]b]\n  k = v\n    cont\n\tcont2\n#c\nk2=\n[s #x]\n=v\n[]\njunk\n",
        "[s]\nname = h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac\nbad = a\xe3\x80\x80" "b\nnbsp = \xc2\xa0x\n"
        "ctl = \x01\nbad8 = \xff\xfe\nsur = \xed\xa0\x80\ntrunc = \xe6\x97",
        "\xef\xbb\xbf[s]\na=1\n",
        "k=before section\n[s]\n",
};

static const char *const shlex_inputs[] = {
        "/usr/bin/web --bind 'unix:/run/a b.sock' \"x\\\"y\\\\z\" a\\ b '' \"\" c'd'\"e\"f \\\n \t\r\n",
        "\"unterminated \\",
        "'single \\ stays' \"\\$ \\a\" \\",
};

static const char *const env_inputs[] = {
        "A=\"x,y\",B='z' , C=/p.a+t-h:(1) #comment\nD=\xc3\xa9,E=a\xc3\xa9 F",
        "A=1,B=\"2",
        "K==,=K,'q'=\"",
};

static const char *const expand_inputs[] = {
        "%(program_name)s-%(process_num)05d %% %(u).2s|%(u)8s %(process_num)#x %(program_name)r %(a(b)c)s",
        "%(process_num)+-#0 12.5d%(process_num)c%(u)-3.1s%(process_num)e%(nope",
        "%(process_num)*d %(process_num)ld %5% %s \xc3\xa9%(process_num)\xc3\xa9",
};

static const char *const value_inputs[] = {
        " +1_000 ", "0o7_7", "50MB", "1 gb", " sigterm ", "SIGRTMIN", "unexpected", "0, 2,255", "~/x/y.log",
        "web:1", "a\xc3\xa9\x01;$%\"\\", "~",
};

int main(void) {
        Guarded g;
        log_set_level(-1);
        if (!tap_is_int(guarded_init(&g), 0, "guard page mapped"))
                return tap_done();

        for (size_t i = 0; i < ELEMENTSOF(ini_inputs); i++) {
                size_t len = strlen(ini_inputs[i]);
                bool same = true;
                for (size_t n = 0; n <= len; n++) {
                        IniConfig a = {0}, b = {0};
                        int ra = ini_config_read_buffer(&a, "/test/g.ini", guarded_bytes(&g, ini_inputs[i], n), n);
                        /* The same prefix with more text after it, not to be read. */
                        _cleanup_free_ char *heap = xasprintf("%.*s\n[evil]\nx=1\n", (int) n, ini_inputs[i]);
                        int rb = ini_config_read_buffer(&b, "/test/g.ini", heap, n);
                        _cleanup_free_ char *da = config_dump(&a, ra);
                        _cleanup_free_ char *db = config_dump(&b, rb);
                        if (!streq(da, db) || strstr(da, "evil")) {
                                if (same)
                                        tap_diag("prefix %zu: %s vs %s", n, TAP_ESC(da), TAP_ESC(db));
                                same = false;
                        }
                        ini_config_done(&a);
                        ini_config_done(&b);
                }
                tap_ok(same, "ini input %zu: all %zu prefixes read within bounds, alike", i, len + 1);
        }

        for (size_t i = 0; i < ELEMENTSOF(shlex_inputs); i++) {
                size_t len = strlen(shlex_inputs[i]);
                for (size_t n = 0; n <= len; n++) {
                        char **words = NULL, *error = NULL;
                        (void) shlex_split(guarded_str(&g, shlex_inputs[i], n), &words, &error);
                        strv_free(words);
                        free(error);
                }
                tap_ok(true, "shlex_split input %zu: all %zu prefixes", i, len + 1);
        }

        for (size_t i = 0; i < ELEMENTSOF(env_inputs); i++) {
                size_t len = strlen(env_inputs[i]);
                for (size_t n = 0; n <= len; n++) {
                        EnvPairs p = {0};
                        char **dropped = NULL, *error = NULL;
                        if (shlex_env_pairs(guarded_str(&g, env_inputs[i], n), &p, &dropped, &error) >= 0)
                                env_pairs_done(&p);
                        strv_free(dropped);
                        free(error);
                }
                tap_ok(true, "shlex_env_pairs input %zu: all %zu prefixes", i, len + 1);
        }

        _cleanup_(expansions_done) Expansions e = {0};
        expansions_set_str(&e, "program_name", "web");
        expansions_set_num(&e, "process_num", 3);
        expansions_set_str(&e, "u", "h\xc3\xa9llo");
        expansions_set_str(&e, "a(b)c", "n");
        for (size_t i = 0; i < ELEMENTSOF(expand_inputs); i++) {
                size_t len = strlen(expand_inputs[i]);
                for (size_t n = 0; n <= len; n++) {
                        char *out = NULL, *error = NULL;
                        (void) expand_format(guarded_str(&g, expand_inputs[i], n), &e, &out, &error);
                        free(out);
                        free(error);
                }
                tap_ok(true, "expand_format input %zu: all %zu prefixes", i, len + 1);
        }

        for (size_t i = 0; i < ELEMENTSOF(value_inputs); i++) {
                size_t len = strlen(value_inputs[i]);
                for (size_t n = 0; n <= len; n++) {
                        const char *s = guarded_str(&g, value_inputs[i], n);
                        int64_t v;
                        bool bo;
                        int sig;
                        AutoRestart ar;
                        ExitCodes ec;
                        LogTarget lt;
                        char *name = NULL, *error = NULL;
#define RUN(call)                    \
        do {                         \
                (void) (call);       \
                free(error);         \
                error = NULL;        \
        } while (0)
                        RUN(dt_integer(s, &v, &error));
                        RUN(dt_octal(s, &v, &error));
                        RUN(dt_boolean(s, &bo, &error));
                        RUN(dt_byte_size(s, &v, &error));
                        RUN(dt_signal(s, &sig, &error));
                        RUN(dt_auto_restart(s, &ar, &error));
                        RUN(dt_exit_codes(s, &ec, &error));
                        RUN(dt_logfile(s, &lt, &name, &error));
                        free(name);
                        name = NULL;
                        RUN(dt_process_name(s, &name, &error));
#undef RUN
                        free(name);
                        _cleanup_sb_ StrBuf b = {0};
                        unit_append_exec_word(&b, s);
                        unit_append_quoted(&b, s);
                        unit_append_specifier_safe(&b, s);
                        free(unit_escape_instance(s));
                        free(dt_expanduser(s));
                }
                tap_ok(true, "datatypes and escaping, input %zu: all %zu prefixes", i, len + 1);
        }

        munmap(g.map, 2 * g.page);
        return tap_done();
}
