/* test-unit-escape.c: the escaping unit.h does for systemd unit files.
 *
 * There is no Python behaviour to reproduce here; the expected values were
 * computed with /usr/bin/python3 from the rules systemd documents, written
 * out byte by byte over s.encode():
 *
 *   exec_vectors       '\\;' if s == ';' else '"' + escaped + '"', where '\\' and '"'
 *                      get a backslash, '%' -> '%%' (systemd.unit(5) specifiers),
 *                      '$' -> '$$' (systemd.service(5) "Command lines"), and bytes
 *                      < 0x20 or 0x7f -> \n \t \r or \xNN (systemd.syntax(7) C escapes)
 *   quoted_vectors     the same without the '$' and ';' rules
 *   specifier_vectors  s.replace('%', '%%')
 *   instance_vectors   bytes outside [A-Za-z0-9:_.-], and a leading '.', as '\\x%02x'
 *   unquoted_vectors   whether unit_unquoted_problem() refuses s (systemd.syntax(7):
 *                      a line break ends a setting, a final backslash joins the
 *                      next line, whitespace around a value is stripped)
 *
 * A lone ";" separates commands in ExecStart=; "\;" is a literal semicolon. */
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "tap.h"
#include "unit.h"

typedef struct EscapeVector {
        const char *in;
        const char *out;
} EscapeVector;

static const EscapeVector exec_vectors[] = {
        { "plain", "\"plain\"" },
        { "", "\"\"" },
        { "a b", "\"a b\"" },
        { "/usr/bin/web", "\"/usr/bin/web\"" },
        { "--bind=unix:/run/a.sock", "\"--bind=unix:/run/a.sock\"" },
        { "say \"hi\"", "\"say \\\"hi\\\"\"" },
        { "it's", "\"it's\"" },
        { "back\\slash", "\"back\\\\slash\"" },
        { "\\", "\"\\\\\"" },
        { "\"", "\"\\\"\"" },
        { "50%", "\"50%%\"" },
        { "%", "\"%%\"" },
        { "%%", "\"%%%%\"" },
        { "%n", "\"%%n\"" },
        { "%(x)s", "\"%%(x)s\"" },
        { "$HOME", "\"$$HOME\"" },
        { "${HOME}", "\"$${HOME}\"" },
        { "$$", "\"$$$$\"" },
        { "$", "\"$$\"" },
        { ";", "\\;" },
        { ";;", "\";;\"" },
        { "a;", "\"a;\"" },
        { "\\;", "\"\\\\;\"" },
        { " ;", "\" ;\"" },
        { "a\tb", "\"a\\tb\"" },
        { "a\nb", "\"a\\nb\"" },
        { "a\rb", "\"a\\rb\"" },
        { "\001", "\"\\x01\"" },
        { "\033[0m", "\"\\x1b[0m\"" },
        { "\177", "\"\\x7f\"" },
        { "\037", "\"\\x1f\"" },
        { "héllo", "\"héllo\"" },
        { "日本", "\"日本\"" },
        { "~", "\"~\"" },
        { "*", "\"*\"" },
        { "`x`", "\"`x`\"" },
        { "'", "\"'\"" },
        { "!", "\"!\"" },
        { "#", "\"#\"" },
        { "&&", "\"&&\"" },
        { "|", "\"|\"" },
        { "<>", "\"<>\"" },
        { "a=b", "\"a=b\"" },
        { "-x", "\"-x\"" },
        { "@x", "\"@x\"" },
        { "+x", "\"+x\"" },
};

static const EscapeVector quoted_vectors[] = {
        { "plain", "\"plain\"" },
        { "", "\"\"" },
        { "a b", "\"a b\"" },
        { "/usr/bin/web", "\"/usr/bin/web\"" },
        { "--bind=unix:/run/a.sock", "\"--bind=unix:/run/a.sock\"" },
        { "say \"hi\"", "\"say \\\"hi\\\"\"" },
        { "it's", "\"it's\"" },
        { "back\\slash", "\"back\\\\slash\"" },
        { "\\", "\"\\\\\"" },
        { "\"", "\"\\\"\"" },
        { "50%", "\"50%%\"" },
        { "%", "\"%%\"" },
        { "%%", "\"%%%%\"" },
        { "%n", "\"%%n\"" },
        { "%(x)s", "\"%%(x)s\"" },
        { "$HOME", "\"$HOME\"" },
        { "${HOME}", "\"${HOME}\"" },
        { "$$", "\"$$\"" },
        { "$", "\"$\"" },
        { ";", "\";\"" },
        { ";;", "\";;\"" },
        { "a;", "\"a;\"" },
        { "\\;", "\"\\\\;\"" },
        { " ;", "\" ;\"" },
        { "a\tb", "\"a\\tb\"" },
        { "a\nb", "\"a\\nb\"" },
        { "a\rb", "\"a\\rb\"" },
        { "\001", "\"\\x01\"" },
        { "\033[0m", "\"\\x1b[0m\"" },
        { "\177", "\"\\x7f\"" },
        { "\037", "\"\\x1f\"" },
        { "héllo", "\"héllo\"" },
        { "日本", "\"日本\"" },
        { "~", "\"~\"" },
        { "*", "\"*\"" },
        { "`x`", "\"`x`\"" },
        { "'", "\"'\"" },
        { "!", "\"!\"" },
        { "#", "\"#\"" },
        { "&&", "\"&&\"" },
        { "|", "\"|\"" },
        { "<>", "\"<>\"" },
        { "a=b", "\"a=b\"" },
        { "-x", "\"-x\"" },
        { "@x", "\"@x\"" },
        { "+x", "\"+x\"" },
};

static const EscapeVector specifier_vectors[] = {
        { "", "" },
        { "/var/log/app.log", "/var/log/app.log" },
        { "/var/log/%(program_name)s.log", "/var/log/%%(program_name)s.log" },
        { "100%", "100%%" },
        { "%%", "%%%%" },
        { "%n", "%%n" },
        { "$HOME", "$HOME" },
        { "a b", "a b" },
        { "héllo%", "héllo%%" },
};

static const EscapeVector instance_vectors[] = {
        { "web", "web" },
        { "web_1", "web_1" },
        { "web-1", "web-1" },
        { "web.1", "web.1" },
        { ".hidden", "\\x2ehidden" },
        { "..", "\\x2e." },
        { "a.b.c", "a.b.c" },
        { "prog:1", "prog:1" },
        { "a b", "a\\x20b" },
        { "a/b", "a\\x2fb" },
        { "a\\b", "a\\x5cb" },
        { "a@b", "a\\x40b" },
        { "é", "\\xc3\\xa9" },
        { "日", "\\xe6\\x97\\xa5" },
        { "-", "-" },
        { "_", "_" },
        { "A-Z_0-9", "A-Z_0-9" },
        { "x.", "x." },
        { ".", "\\x2e" },
        { "a\tb", "a\\x09b" },
        { "a%b", "a\\x25b" },
        { "a$b", "a\\x24b" },
        { "~", "\\x7e" },
        { "a+b", "a\\x2bb" },
        { "a,b", "a\\x2cb" },
        { "\177", "\\x7f" },
        { "", "" },
};

typedef struct UnquotedVector {
        const char *in;
        bool refused;
} UnquotedVector;

static const UnquotedVector unquoted_vectors[] = {
        { "/srv/app", false },
        { "", false },
        { "/srv/my app", false },
        { "/srv/a\\b", false },
        { "/srv/100%", false },
        { "/srv/$x;\"q'", false },
        { "daemon", false },
        { "/srv/app\nUser=root", true },
        { "/srv/app\r", true },
        { "/srv/\tapp", true },
        { "/srv/\177", true },
        { "/srv/app\\", true },
        { "/srv/app\\\\", true },
        { "\\", true },
        { "/srv/app ", true },
        { " /srv/app", true },
};

static void check(const EscapeVector *v, size_t n, void (*append)(StrBuf *, const char *), const char *what) {
        for (size_t i = 0; i < n; i++) {
                /* Appending: what was in the buffer stays. */
                _cleanup_sb_ StrBuf b = {0};
                sb_add(&b, "X=");
                append(&b, v[i].in);
                tap_ok(strncmp(b.s, "X=", 2) == 0, "%s %s: appends", what, TAP_ESC(v[i].in));
                tap_is_str(b.s + 2, v[i].out, "%s %s", what, TAP_ESC(v[i].in));
        }
}

int main(void) {
        check(exec_vectors, ELEMENTSOF(exec_vectors), unit_append_exec_word, "exec word");
        check(quoted_vectors, ELEMENTSOF(quoted_vectors), unit_append_quoted, "quoted");
        check(specifier_vectors, ELEMENTSOF(specifier_vectors), unit_append_specifier_safe, "specifier-safe");
        for (size_t i = 0; i < ELEMENTSOF(instance_vectors); i++) {
                _cleanup_free_ char *s = unit_escape_instance(instance_vectors[i].in);
                tap_is_str(s, instance_vectors[i].out, "instance %s", TAP_ESC(instance_vectors[i].in));
        }

        for (size_t i = 0; i < ELEMENTSOF(unquoted_vectors); i++)
                tap_ok((unit_unquoted_problem(unquoted_vectors[i].in) != NULL) == unquoted_vectors[i].refused,
                       "unquoted %s %s", TAP_ESC(unquoted_vectors[i].in),
                       unquoted_vectors[i].refused ? "refused" : "written");

        /* Several words in a row, as an ExecStart= line is built:
         * ' '.join(exec_word(w) for w in ['/bin/sh', '-c', 'echo "$1" 100%', ';']) */
        _cleanup_sb_ StrBuf b = {0};
        static const char *const argv[] = { "/bin/sh", "-c", "echo \"$1\" 100%", ";" };
        for (size_t i = 0; i < ELEMENTSOF(argv); i++) {
                if (i)
                        sb_addc(&b, ' ');
                unit_append_exec_word(&b, argv[i]);
        }
        tap_is_str(b.s, "\"/bin/sh\" \"-c\" \"echo \\\"$$1\\\" 100%%\" \\;", "an argv as one ExecStart= line");
        return tap_done();
}
