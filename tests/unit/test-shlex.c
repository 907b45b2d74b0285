/* test-shlex.c: the two tokenisers supervisor uses, against Python.
 *
 * `split_vectors` reproduces, with /usr/bin/python3 (3.11):
 *     words = shlex.split(s)                    # or error = str(ValueError)
 *
 * `env_vectors` reproduces supervisor 4.2.5 (Debian's python3-supervisor):
 *     pairs = supervisor.datatypes.dict_of_key_value_pairs(s)   # or error = str(ValueError)
 * with `dropped` the tokens it reads past without looking at them:
 *     lex = shlex.shlex(s); lex.wordchars += '/.+-():'; toks = list(lex)
 *     dropped = [toks[i + 3] for i in range(0, len(toks), 4)
 *                if i + 3 < len(toks) and toks[i + 3] != ',']
 * Pairs are listed in the dict's order (a repeated key keeps its first
 * place and takes the last value). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shlex.h"
#include "strbuf.h"
#include "tap.h"

static const struct {
        const char *in;
        const char *error;        /* NULL: success */
        const char *words[10];    /* NULL-terminated */
} split_vectors[] = {
        { "", NULL, { NULL } },
        { " ", NULL, { NULL } },
        { " \t\r\n ", NULL, { NULL } },
        { "a", NULL, { "a", NULL } },
        { "a b", NULL, { "a", "b", NULL } },
        { "  a   b  ", NULL, { "a", "b", NULL } },
        { "a\tb", NULL, { "a", "b", NULL } },
        { "a\nb", NULL, { "a", "b", NULL } },
        { "a\rb", NULL, { "a", "b", NULL } },
        { "a\r\nb", NULL, { "a", "b", NULL } },
        { "a\013b", NULL, { "a\013b", NULL } },
        { "a\014b", NULL, { "a\014b", NULL } },
        { "\013a\014", NULL, { "\013a\014", NULL } },
        { "a\034b", NULL, { "a\034b", NULL } },
        { "/usr/bin/python3 -m http.server 8000", NULL, { "/usr/bin/python3", "-m", "http.server", "8000", NULL } },
        { "gunicorn --bind unix:/run/app.sock app:wsgi", NULL, { "gunicorn", "--bind", "unix:/run/app.sock", "app:wsgi", NULL } },
        { "'a b'", NULL, { "a b", NULL } },
        { "\"a b\"", NULL, { "a b", NULL } },
        { "'a\\b'", NULL, { "a\\b", NULL } },
        { "'a\"b'", NULL, { "a\"b", NULL } },
        { "\"a'b\"", NULL, { "a'b", NULL } },
        { "''", NULL, { "", NULL } },
        { "\"\"", NULL, { "", NULL } },
        { "a ''", NULL, { "a", "", NULL } },
        { "'' a", NULL, { "", "a", NULL } },
        { "a '' b", NULL, { "a", "", "b", NULL } },
        { "\"\" \"\"", NULL, { "", "", NULL } },
        { "''\"\"", NULL, { "", NULL } },
        { "'a'\"b\"c", NULL, { "abc", NULL } },
        { "a\"b c\"d", NULL, { "ab cd", NULL } },
        { "a'b'c d", NULL, { "abc", "d", NULL } },
        { "\"a\"'b'\"c\"", NULL, { "abc", NULL } },
        { "\\a", NULL, { "a", NULL } },
        { "a\\ b", NULL, { "a b", NULL } },
        { "\\\"", NULL, { "\"", NULL } },
        { "\\'", NULL, { "'", NULL } },
        { "\\\\", NULL, { "\\", NULL } },
        { "a\\\nb", NULL, { "a\nb", NULL } },
        { "a \\\n b", NULL, { "a", "\n", "b", NULL } },
        { "\"a\\\"b\"", NULL, { "a\"b", NULL } },
        { "\"a\\\\b\"", NULL, { "a\\b", NULL } },
        { "\"a\\b\"", NULL, { "a\\b", NULL } },
        { "\"a\\$b\"", NULL, { "a\\$b", NULL } },
        { "\"a\\nb\"", NULL, { "a\\nb", NULL } },
        { "\"\\'\"", NULL, { "\\'", NULL } },
        { "\"a\nb\"", NULL, { "a\nb", NULL } },
        { "'a\nb'", NULL, { "a\nb", NULL } },
        { "\"a\tb\" c", NULL, { "a\tb", "c", NULL } },
        { "$HOME", NULL, { "$HOME", NULL } },
        { "\"$HOME\"", NULL, { "$HOME", NULL } },
        { "a;b", NULL, { "a;b", NULL } },
        { "a ; b", NULL, { "a", ";", "b", NULL } },
        { "a#b", NULL, { "a#b", NULL } },
        { "a #b", NULL, { "a", "#b", NULL } },
        { "#a", NULL, { "#a", NULL } },
        { "a|b > c", NULL, { "a|b", ">", "c", NULL } },
        { "*.py", NULL, { "*.py", NULL } },
        { "a\302\240b", NULL, { "a\302\240b", NULL } },
        { "a\343\200\200b", NULL, { "a\343\200\200b", NULL } },
        { "héllo wörld", NULL, { "héllo", "wörld", NULL } },
        { "\"日本\" 語", NULL, { "日本", "語", NULL } },
        { "--opt=\"a b\" --x='c d'", NULL, { "--opt=a b", "--x=c d", NULL } },
        { "sh -c \"echo \\\"hi\\\"; exit 1\"", NULL, { "sh", "-c", "echo \"hi\"; exit 1", NULL } },
        { "sh -c 'echo \"$1\"' --", NULL, { "sh", "-c", "echo \"$1\"", "--", NULL } },
        { "a\\", "No escaped character", { NULL } },
        { "\"a\\", "No escaped character", { NULL } },
        { "\"a", "No closing quotation", { NULL } },
        { "'a", "No closing quotation", { NULL } },
        { "a'", "No closing quotation", { NULL } },
        { "a\"b", "No closing quotation", { NULL } },
        { "\"a\\\"", "No closing quotation", { NULL } },
        { "'a\\'", NULL, { "a\\", NULL } },
        { "\"unterminated \\\" still", "No closing quotation", { NULL } },
        { "\\", "No escaped character", { NULL } },
        { "a \"b", "No closing quotation", { NULL } },
        { "x \\\\\\", "No escaped character", { NULL } },
};

static const struct {
        const char *in;
        const char *error;
        const char *pairs[16];    /* key, value, ..., NULL */
        const char *dropped[4];
} env_vectors[] = {
        { "", NULL, { NULL }, { NULL } },
        { "A=1", NULL, { "A", "1", NULL }, { NULL } },
        { "A=1,B=2", NULL, { "A", "1", "B", "2", NULL }, { NULL } },
        { "A=1, B=2", NULL, { "A", "1", "B", "2", NULL }, { NULL } },
        { "A = 1 , B = 2", NULL, { "A", "1", "B", "2", NULL }, { NULL } },
        { "A=1,B=2,", NULL, { "A", "1", "B", "2", NULL }, { NULL } },
        { "KEY=value", NULL, { "KEY", "value", NULL }, { NULL } },
        { "PATH=/usr/local/bin:/usr/bin", NULL, { "PATH", "/usr/local/bin:/usr/bin", NULL }, { NULL } },
        { "URL=http://example.com/x", NULL, { "URL", "http://example.com/x", NULL }, { NULL } },
        { "A=1.5,B=+3,C=-4", NULL, { "A", "1.5", "B", "+3", "C", "-4", NULL }, { NULL } },
        { "A=(x)", NULL, { "A", "(x)", NULL }, { NULL } },
        { "A=\"x,y\",B=z", NULL, { "A", "x,y", "B", "z", NULL }, { NULL } },
        { "A='x,y',B=z", NULL, { "A", "x,y", "B", "z", NULL }, { NULL } },
        { "A=\"x y\"", NULL, { "A", "x y", NULL }, { NULL } },
        { "A='x y'", NULL, { "A", "x y", NULL }, { NULL } },
        { "A=\"a=b\"", NULL, { "A", "a=b", NULL }, { NULL } },
        { "A=\"\"", NULL, { "A", "", NULL }, { NULL } },
        { "A=''", NULL, { "A", "", NULL }, { NULL } },
        { "A=\"'q'\"", NULL, { "A", "q", NULL }, { NULL } },
        { "A='\"q\"'", NULL, { "A", "q", NULL }, { NULL } },
        { "A=\"x\"y", NULL, { "A", "x", NULL }, { "y", NULL } },
        { "A=x\"y\"", NULL, { "A", "x\"y", NULL }, { NULL } },
        { "A=\"x\" y", NULL, { "A", "x", NULL }, { "y", NULL } },
        { "A=x y", NULL, { "A", "x", NULL }, { "y", NULL } },
        { "A=x y z w", "Unexpected end of key/value pairs in value 'A=x y z w'", { NULL }, { NULL } },
        { "A=x;B=y", NULL, { "A", "x", "B", "y", NULL }, { ";", NULL } },
        { "A=x,B=y;C=z", NULL, { "A", "x", "B", "y", "C", "z", NULL }, { ";", NULL } },
        { "A=x, #comment\nB=y", NULL, { "A", "x", "B", "y", NULL }, { NULL } },
        { "#all comment", NULL, { NULL }, { NULL } },
        { "A=x #c", NULL, { "A", "x", NULL }, { NULL } },
        { "A=x#c\nB=y", "Unexpected end of key/value pairs in value 'A=x#c\nB=y'", { NULL }, { NULL } },
        { "A=x#c\n,B=y", NULL, { "A", "x", "B", "y", NULL }, { NULL } },
        { "A=1,A=2", NULL, { "A", "2", NULL }, { NULL } },
        { "A=1,B=2,A=3", NULL, { "A", "3", "B", "2", NULL }, { NULL } },
        { "a=1,A=2", NULL, { "a", "1", "A", "2", NULL }, { NULL } },
        { "A_B=1,C9=2", NULL, { "A_B", "1", "C9", "2", NULL }, { NULL } },
        { "9A=1", NULL, { "9A", "1", NULL }, { NULL } },
        { "A.B=1", NULL, { "A.B", "1", NULL }, { NULL } },
        { "A-B=x", NULL, { "A-B", "x", NULL }, { NULL } },
        { "A=x-y.z+w/v(u):t", NULL, { "A", "x-y.z+w/v(u):t", NULL }, { NULL } },
        { "A=x!y", "Unexpected end of key/value pairs in value 'A=x!y'", { NULL }, { NULL } },
        { "A=x@y", "Unexpected end of key/value pairs in value 'A=x@y'", { NULL }, { NULL } },
        { "A=$HOME", NULL, { "A", "$", NULL }, { "HOME", NULL } },
        { "A=${HOME}", "Unexpected end of key/value pairs in value 'A=${HOME}'", { NULL }, { NULL } },
        { "A=%(here)s", NULL, { "A", "%", NULL }, { "(here)s", NULL } },
        { "A=1\nB=2", "Unexpected end of key/value pairs in value 'A=1\nB=2'", { NULL }, { NULL } },
        { "A=1,\nB=2", NULL, { "A", "1", "B", "2", NULL }, { NULL } },
        { "A=é", NULL, { "A", "é", NULL }, { NULL } },
        { "A=aé", NULL, { "A", "a", NULL }, { "é", NULL } },
        { "A=\"é ü\"", NULL, { "A", "é ü", NULL }, { NULL } },
        { "A=\\x", NULL, { "A", "\\", NULL }, { "x", NULL } },
        { "A=\"a\\\"b\"", NULL, { "A", "a\\", NULL }, { "b\"", NULL } },
        { "\"A\"=1", NULL, { "\"A\"", "1", NULL }, { NULL } },
        { "A=\"1", "No closing quotation", { NULL }, { NULL } },
        { "A='1", "No closing quotation", { NULL }, { NULL } },
        { "A=1,B=\"2", "No closing quotation", { NULL }, { NULL } },
        { "A", "Unexpected end of key/value pairs in value 'A'", { NULL }, { NULL } },
        { "A=", "Unexpected end of key/value pairs in value 'A='", { NULL }, { NULL } },
        { "A=,B=2", "Unexpected end of key/value pairs in value 'A=,B=2'", { NULL }, { NULL } },
        { "=1", "Unexpected end of key/value pairs in value '=1'", { NULL }, { NULL } },
        { "A==1", NULL, { "A", "=", NULL }, { "1", NULL } },
        { "A:1", "Unexpected end of key/value pairs in value 'A:1'", { NULL }, { NULL } },
        { "A=1 B=2", "Unexpected end of key/value pairs in value 'A=1 B=2'", { NULL }, { NULL } },
        { "A=1,,B=2", "Unexpected end of key/value pairs in value 'A=1,,B=2'", { NULL }, { NULL } },
        { ",A=1", "Unexpected end of key/value pairs in value ',A=1'", { NULL }, { NULL } },
        { "A=1,B", "Unexpected end of key/value pairs in value 'A=1,B'", { NULL }, { NULL } },
        { "A=1,B=", "Unexpected end of key/value pairs in value 'A=1,B='", { NULL }, { NULL } },
        { "A\013=1", "Unexpected end of key/value pairs in value 'A\013=1'", { NULL }, { NULL } },
        { "A=\"x\ny\"", NULL, { "A", "x\ny", NULL }, { NULL } },
        { "A=1,\tB=2", NULL, { "A", "1", "B", "2", NULL }, { NULL } },
        { "A=1,\r\nB=2", NULL, { "A", "1", "B", "2", NULL }, { NULL } },
        { "A=x\"y z\"", NULL, { "A", "x\"y", NULL }, { "z\"", NULL } },
        { "A=😀", NULL, { "A", "😀", NULL }, { NULL } },
        { "A=\"😀\",B='ü'", NULL, { "A", "😀", "B", "ü", NULL }, { NULL } },
        { "A=a😀", NULL, { "A", "a", NULL }, { "😀", NULL } },
        { "A=1 #c\n,B=2", NULL, { "A", "1", "B", "2", NULL }, { NULL } },
        { "A=1,#c\nB=2", NULL, { "A", "1", "B", "2", NULL }, { NULL } },
        { "A=1\013,B=2", "Unexpected end of key/value pairs in value 'A=1\013,B=2'", { NULL }, { NULL } },
};

static void test_split(void) {
        for (size_t i = 0; i < ELEMENTSOF(split_vectors); i++) {
                const char *in = split_vectors[i].in;
                char **words = NULL, *error = NULL;
                int r = shlex_split(in, &words, &error);
                if (split_vectors[i].error) {
                        if (tap_is_int(r, -EINVAL, "split %s: fails", TAP_ESC(in)))
                                tap_is_str(error, split_vectors[i].error, "split %s: message", TAP_ESC(in));
                } else if (tap_is_int(r, 0, "split %s: succeeds", TAP_ESC(in))) {
                        size_t n = 0;
                        while (split_vectors[i].words[n])
                                n++;
                        bool same = strv_length(words) == n;
                        for (size_t j = 0; same && j < n; j++)
                                same = streq(words[j], split_vectors[i].words[j]);
                        tap_ok(same, "split %s: words", TAP_ESC(in));
                        if (!same) {
                                for (size_t j = 0; words && words[j]; j++)
                                        tap_diag("got      [%zu] %s", j, TAP_ESC(words[j]));
                                for (size_t j = 0; j < n; j++)
                                        tap_diag("expected [%zu] %s", j, TAP_ESC(split_vectors[i].words[j]));
                        }
                } else
                        tap_diag("error: %s", TAP_ESC(error));
                strv_free(words);
                free(error);
        }
}

static void test_env(void) {
        for (size_t i = 0; i < ELEMENTSOF(env_vectors); i++) {
                const char *in = env_vectors[i].in;
                EnvPairs pairs = {0};
                char **dropped = NULL, *error = NULL;
                int r = shlex_env_pairs(in, &pairs, &dropped, &error);
                if (env_vectors[i].error) {
                        if (tap_is_int(r, -EINVAL, "env %s: fails", TAP_ESC(in)))
                                tap_is_str(error, env_vectors[i].error, "env %s: message", TAP_ESC(in));
                } else if (tap_is_int(r, 0, "env %s: succeeds", TAP_ESC(in))) {
                        size_t n = 0;
                        while (env_vectors[i].pairs[2 * n])
                                n++;
                        bool same = pairs.n == n;
                        for (size_t j = 0; same && j < n; j++)
                                same = streq(pairs.pairs[j].key, env_vectors[i].pairs[2 * j]) &&
                                       streq(pairs.pairs[j].value, env_vectors[i].pairs[2 * j + 1]);
                        tap_ok(same, "env %s: pairs", TAP_ESC(in));
                        if (!same) {
                                for (size_t j = 0; j < pairs.n; j++)
                                        tap_diag("got      %s = %s", TAP_ESC(pairs.pairs[j].key),
                                                 TAP_ESC(pairs.pairs[j].value));
                                for (size_t j = 0; j < n; j++)
                                        tap_diag("expected %s = %s", TAP_ESC(env_vectors[i].pairs[2 * j]),
                                                 TAP_ESC(env_vectors[i].pairs[2 * j + 1]));
                        }
                        size_t nd = 0;
                        while (env_vectors[i].dropped[nd])
                                nd++;
                        same = strv_length(dropped) == nd;
                        for (size_t j = 0; same && j < nd; j++)
                                same = streq(dropped[j], env_vectors[i].dropped[j]);
                        tap_ok(same, "env %s: dropped tokens", TAP_ESC(in));
                        if (!same) {
                                for (size_t j = 0; dropped && dropped[j]; j++)
                                        tap_diag("got      %s", TAP_ESC(dropped[j]));
                                for (size_t j = 0; j < nd; j++)
                                        tap_diag("expected %s", TAP_ESC(env_vectors[i].dropped[j]));
                        }
                        for (size_t j = 0; j < n; j++)
                                if (!tap_is_str(env_pairs_get(&pairs, env_vectors[i].pairs[2 * j]),
                                                env_vectors[i].pairs[2 * j + 1], "env %s: get %s", TAP_ESC(in),
                                                env_vectors[i].pairs[2 * j]))
                                        break;
                } else
                        tap_diag("error: %s", TAP_ESC(error));
                env_pairs_done(&pairs);
                strv_free(dropped);
                free(error);
        }
}

/* The API around the parser: NULL ret_dropped/ret_error, set/get/done. */
static void test_env_api(void) {
        EnvPairs p = {0};
        tap_is_int(shlex_env_pairs("A=x y", &p, NULL, NULL), 0, "env without ret_dropped");
        tap_is_str(env_pairs_get(&p, "A"), "x", "env without ret_dropped: value");
        tap_ok(!env_pairs_get(&p, "y"), "env: a dropped token is not a key");
        env_pairs_set(&p, "B", "1");
        env_pairs_set(&p, "A", "2");
        tap_is_int((long long) p.n, 2, "env_pairs_set(): a known key is replaced in place");
        tap_ok(p.n == 2 && streq(p.pairs[0].key, "A") && streq(p.pairs[0].value, "2") && streq(p.pairs[1].key, "B"),
               "env_pairs_set(): order kept");
        env_pairs_done(&p);
        tap_ok(p.n == 0 && !p.pairs, "env_pairs_done() resets");
        env_pairs_done(&p);

        tap_is_int(shlex_env_pairs("A=\"1", &p, NULL, NULL), -EINVAL, "env error without ret_error");
        tap_ok(p.n == 0, "env error: ret untouched");

        char **w = NULL;
        tap_is_int(shlex_split("'a", &w, NULL), -EINVAL, "split error without ret_error");
        tap_ok(!w, "split error: ret untouched");
        tap_is_int(shlex_split("", &w, NULL), 0, "split of nothing");
        tap_ok(w && !w[0], "split of nothing: an empty, non-NULL vector");
        strv_free(w);
}

int main(void) {
        test_split();
        test_env();
        test_env_api();
        return tap_done();
}
