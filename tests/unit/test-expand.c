/* test-expand.c: expand_format() against Python's printf-style formatting
 * with a mapping, which is what supervisor's options.expand() runs.
 *
 * Every row of `vectors` reproduces, with /usr/bin/python3 (3.11):
 *
 *     try:
 *         out = fmt % E
 *     except KeyError as ex:
 *         error = 'Format string %r contains names (%s) which cannot be expanded. Available names: %s' \
 *                 % (fmt, str(ex), ', '.join(sorted(E)))
 *     except Exception as ex:
 *         error = 'Format string %r is badly formatted: %s' % (fmt, str(ex))
 *
 * which is supervisor's expand(fmt, E, name) message without its " for 'name'"
 * (the caller adds the option), and E is the table `names` below (str and
 * int values, as supervisor's expansions hold).  `deviations` holds what we
 * refuse on purpose where Python would format the whole dictionary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "strbuf.h"
#include "tap.h"

static const struct {
        const char *name;
        const char *str;   /* NULL: an int */
        long long num;
} names[] = {
        { "n", NULL, 7 },
        { "z", NULL, 0 },
        { "neg", NULL, -42 },
        { "big", NULL, 255 },
        { "huge", NULL, 1000000000000000000LL },
        { "cp", NULL, 233 },
        { "A", NULL, 65 },
        { "cpbad", NULL, 0x110000 },
        { "m1", NULL, -1 },
        { "s", "hello", 0 },
        { "u", "héllo wörld", 0 },
        { "e", "", 0 },
        { "q", "it's", 0 },
        { "qq", "say \"hi\"", 0 },
        { "both", "a'b\"c", 0 },
        { "bs", "back\\slash", 0 },
        { "one", "x", 0 },
        { "uone", "é", 0 },
        { "pct", "50%", 0 },
        { " n", NULL, 1 },
        { "a b", "sp", 0 },
        { "a(b)c", "nested", 0 },
        { "(x)", "paren", 0 },
        { "here", "/etc/supervisor.d", 0 },
        { "program_name", "web", 0 },
        { "process_num", NULL, 3 },
        { "ENV_HOME", "/root", 0 },
        { "cjk", "日本", 0 },
};

static const struct {
        const char *fmt;
        const char *out;     /* NULL: an error */
        const char *error;
} vectors[] = {
        { "", "", NULL },
        { "plain text", "plain text", NULL },
        { "%(s)s", "hello", NULL },
        { "%(program_name)s_%(process_num)02d", "web_03", NULL },
        { "%(here)s/../log", "/etc/supervisor.d/../log", NULL },
        { "%(ENV_HOME)s/.cache", "/root/.cache", NULL },
        { "a%(s)sb", "ahellob", NULL },
        { "%(s)s%(s)s", "hellohello", NULL },
        { "%%", "%", NULL },
        { "100%%", "100%", NULL },
        { "%%(s)s", "%(s)s", NULL },
        { "%%%(s)s%%", "%hello%", NULL },
        { "%(s)s%%", "hello%", NULL },
        { "%(n)d", "7", NULL },
        { "%(n)i", "7", NULL },
        { "%(n)u", "7", NULL },
        { "%(z)d", "0", NULL },
        { "%(neg)d", "-42", NULL },
        { "%(huge)d", "1000000000000000000", NULL },
        { "%(n)02d", "07", NULL },
        { "%(n)05d", "00007", NULL },
        { "%(neg)05d", "-0042", NULL },
        { "%(n)5d", "    7", NULL },
        { "%(n)-5d|", "7    |", NULL },
        { "%(neg)-6d|", "-42   |", NULL },
        { "%(n)-05d|", "7    |", NULL },
        { "%(n)+d", "+7", NULL },
        { "%(neg)+d", "-42", NULL },
        { "%(z)+d", "+0", NULL },
        { "%(n) d", " 7", NULL },
        { "%(neg) d", "-42", NULL },
        { "%(n)+ d", "+7", NULL },
        { "%(n) 5d", "    7", NULL },
        { "%(n)+05d", "+0007", NULL },
        { "%(n).3d", "007", NULL },
        { "%(n)5.3d", "  007", NULL },
        { "%(neg).3d", "-042", NULL },
        { "%(z).0d", "0", NULL },
        { "%(n)x", "7", NULL },
        { "%(big)x", "ff", NULL },
        { "%(big)X", "FF", NULL },
        { "%(big)#x", "0xff", NULL },
        { "%(big)#X", "0XFF", NULL },
        { "%(big)#08x", "0x0000ff", NULL },
        { "%(big)#-8x|", "0xff    |", NULL },
        { "%(neg)x", "-2a", NULL },
        { "%(neg)#x", "-0x2a", NULL },
        { "%(z)#x", "0x0", NULL },
        { "%(n)o", "7", NULL },
        { "%(big)o", "377", NULL },
        { "%(big)#o", "0o377", NULL },
        { "%(z)#o", "0o0", NULL },
        { "%(neg)#o", "-0o52", NULL },
        { "%(big)#10o", "     0o377", NULL },
        { "%(big)010o", "0000000377", NULL },
        { "%(big)#.5x", "0x000ff", NULL },
        { "%(n)ld", "7", NULL },
        { "%(n)hd", "7", NULL },
        { "%(n)Ld", "7", NULL },
        { "%( n)d", "1", NULL },
        { "%( n)s", "1", NULL },
        { "%(a b)s", "sp", NULL },
        { "%(a(b)c)s", "nested", NULL },
        { "%((x))s", "paren", NULL },
        { "%()s", NULL, "Format string '%()s' contains names ('') which cannot be expanded. Available names:  n, (x), A, ENV_HOME, a b, a(b)c, big, both, bs, cjk, cp, cpbad, e, here, huge, m1, n, neg, one, pct, process_num, program_name, q, qq, s, u, uone, z" },
        { "%(s)10s", "     hello", NULL },
        { "%(s)-10s|", "hello     |", NULL },
        { "%(s).2s", "he", NULL },
        { "%(s)7.2s|", "     he|", NULL },
        { "%(s)-7.2s|", "he     |", NULL },
        { "%(s).0s|", "|", NULL },
        { "%(s).10s", "hello", NULL },
        { "%(e)s|", "|", NULL },
        { "%(e)3s|", "   |", NULL },
        { "%(u)s", "héllo wörld", NULL },
        { "%(u)15s|", "    héllo wörld|", NULL },
        { "%(u)-15s|", "héllo wörld    |", NULL },
        { "%(u).2s", "hé", NULL },
        { "%(u)5.2s|", "   hé|", NULL },
        { "%(cjk)4s|", "  日本|", NULL },
        { "%(cjk).1s", "日", NULL },
        { "%(n)s", "7", NULL },
        { "%(neg)5s", "  -42", NULL },
        { "%(n)r", "7", NULL },
        { "%(s)r", "'hello'", NULL },
        { "%(q)r", "\"it's\"", NULL },
        { "%(qq)r", "'say \"hi\"'", NULL },
        { "%(both)r", "'a\\'b\"c'", NULL },
        { "%(bs)r", "'back\\\\slash'", NULL },
        { "%(e)r", "''", NULL },
        { "%(u)r", "'héllo wörld'", NULL },
        { "%(s)10r|", "   'hello'|", NULL },
        { "%(s).3r", "'he", NULL },
        { "%(n)a", "7", NULL },
        { "%(s)a", "'hello'", NULL },
        { "%(u)a", "'h\\xe9llo w\\xf6rld'", NULL },
        { "%(A)c", "A", NULL },
        { "%(cp)c", "é", NULL },
        { "%(A)3c|", "  A|", NULL },
        { "%(A)-3c|", "A  |", NULL },
        { "%(one)c", "x", NULL },
        { "%(uone)c", "é", NULL },
        { "%(uone)3c|", "  é|", NULL },
        { "%(n)c", "\007", NULL },
        { "%(s)c", NULL, "Format string '%(s)c' is badly formatted: %c requires int or char" },
        { "%(e)c", NULL, "Format string '%(e)c' is badly formatted: %c requires int or char" },
        { "%(cpbad)c", NULL, "Format string '%(cpbad)c' is badly formatted: %c arg not in range(0x110000)" },
        { "%(m1)c", NULL, "Format string '%(m1)c' is badly formatted: %c arg not in range(0x110000)" },
        { "%(n)e", "7.000000e+00", NULL },
        { "%(n)E", "7.000000E+00", NULL },
        { "%(neg)e", "-4.200000e+01", NULL },
        { "%(huge)e", "1.000000e+18", NULL },
        { "%(n).2e", "7.00e+00", NULL },
        { "%(n)12.3e|", "   7.000e+00|", NULL },
        { "%(n)f", "7.000000", NULL },
        { "%(n)F", "7.000000", NULL },
        { "%(n).2f", "7.00", NULL },
        { "%(neg).1f", "-42.0", NULL },
        { "%(n)8.2f|", "    7.00|", NULL },
        { "%(n)-8.2f|", "7.00    |", NULL },
        { "%(n)08.2f", "00007.00", NULL },
        { "%(n)+.1f", "+7.0", NULL },
        { "%(n) .1f", " 7.0", NULL },
        { "%(n)#.0f", "7.", NULL },
        { "%(n).0f", "7", NULL },
        { "%(n)g", "7", NULL },
        { "%(n)G", "7", NULL },
        { "%(huge)g", "1e+18", NULL },
        { "%(huge)G", "1E+18", NULL },
        { "%(n)#g", "7.00000", NULL },
        { "%(big).2g", "2.6e+02", NULL },
        { "%(neg)g", "-42", NULL },
        { "%(z)e", "0.000000e+00", NULL },
        { "%(nope)s", NULL, "Format string '%(nope)s' contains names ('nope') which cannot be expanded. Available names:  n, (x), A, ENV_HOME, a b, a(b)c, big, both, bs, cjk, cp, cpbad, e, here, huge, m1, n, neg, one, pct, process_num, program_name, q, qq, s, u, uone, z" },
        { "%(s)s %(nope)s", NULL, "Format string '%(s)s %(nope)s' contains names ('nope') which cannot be expanded. Available names:  n, (x), A, ENV_HOME, a b, a(b)c, big, both, bs, cjk, cp, cpbad, e, here, huge, m1, n, neg, one, pct, process_num, program_name, q, qq, s, u, uone, z" },
        { "%(S)s", NULL, "Format string '%(S)s' contains names ('S') which cannot be expanded. Available names:  n, (x), A, ENV_HOME, a b, a(b)c, big, both, bs, cjk, cp, cpbad, e, here, huge, m1, n, neg, one, pct, process_num, program_name, q, qq, s, u, uone, z" },
        { "%(nope)z", NULL, "Format string '%(nope)z' contains names ('nope') which cannot be expanded. Available names:  n, (x), A, ENV_HOME, a b, a(b)c, big, both, bs, cjk, cp, cpbad, e, here, huge, m1, n, neg, one, pct, process_num, program_name, q, qq, s, u, uone, z" },
        { "%(nope)", NULL, "Format string '%(nope)' contains names ('nope') which cannot be expanded. Available names:  n, (x), A, ENV_HOME, a b, a(b)c, big, both, bs, cjk, cp, cpbad, e, here, huge, m1, n, neg, one, pct, process_num, program_name, q, qq, s, u, uone, z" },
        { "%(nope)%", NULL, "Format string '%(nope)%' contains names ('nope') which cannot be expanded. Available names:  n, (x), A, ENV_HOME, a b, a(b)c, big, both, bs, cjk, cp, cpbad, e, here, huge, m1, n, neg, one, pct, process_num, program_name, q, qq, s, u, uone, z" },
        { "%(it's)s", NULL, "Format string \"%(it's)s\" contains names (\"it's\") which cannot be expanded. Available names:  n, (x), A, ENV_HOME, a b, a(b)c, big, both, bs, cjk, cp, cpbad, e, here, huge, m1, n, neg, one, pct, process_num, program_name, q, qq, s, u, uone, z" },
        { "%(n)", NULL, "Format string '%(n)' is badly formatted: incomplete format" },
        { "%(n", NULL, "Format string '%(n' is badly formatted: incomplete format key" },
        { "%(a(b)s", NULL, "Format string '%(a(b)s' is badly formatted: incomplete format key" },
        { "50%", NULL, "Format string '50%' is badly formatted: incomplete format" },
        { "%", NULL, "Format string '%' is badly formatted: incomplete format" },
        { "%(s)z", NULL, "Format string '%(s)z' is badly formatted: unsupported format character 'z' (0x7a) at index 4" },
        { "%(n)z", NULL, "Format string '%(n)z' is badly formatted: unsupported format character 'z' (0x7a) at index 4" },
        { "é%(n)z", NULL, "Format string 'é%(n)z' is badly formatted: unsupported format character 'z' (0x7a) at index 5" },
        { "%(n)é", NULL, "Format string '%(n)é' is badly formatted: unsupported format character '?' (0xe9) at index 4" },
        { "%(n)\001", NULL, "Format string '%(n)\\x01' is badly formatted: unsupported format character '?' (0x1) at index 4" },
        { "%(s)d", NULL, "Format string '%(s)d' is badly formatted: %d format: a real number is required, not str" },
        { "%(s)i", NULL, "Format string '%(s)i' is badly formatted: %i format: a real number is required, not str" },
        { "%(s)x", NULL, "Format string '%(s)x' is badly formatted: %x format: an integer is required, not str" },
        { "%(s)X", NULL, "Format string '%(s)X' is badly formatted: %X format: an integer is required, not str" },
        { "%(s)o", NULL, "Format string '%(s)o' is badly formatted: %o format: an integer is required, not str" },
        { "%(s)e", NULL, "Format string '%(s)e' is badly formatted: must be real number, not str" },
        { "%(s)f", NULL, "Format string '%(s)f' is badly formatted: must be real number, not str" },
        { "%(s)g", NULL, "Format string '%(s)g' is badly formatted: must be real number, not str" },
        { "%(n)*d", NULL, "Format string '%(n)*d' is badly formatted: not enough arguments for format string" },
        { "%(n).*d", NULL, "Format string '%(n).*d' is badly formatted: not enough arguments for format string" },
        { "%5%", NULL, "Format string '%5%' is badly formatted: unsupported format character '%' (0x25) at index 2" },
        { "%(n)%", NULL, "Format string '%(n)%' is badly formatted: unsupported format character '%' (0x25) at index 4" },
        { "%(n)5%", NULL, "Format string '%(n)5%' is badly formatted: unsupported format character '%' (0x25) at index 5" },
        { "%-5%|", NULL, "Format string '%-5%|' is badly formatted: unsupported format character '%' (0x25) at index 3" },
        { "%(a)b)s", NULL, "Format string '%(a)b)s' contains names ('a') which cannot be expanded. Available names:  n, (x), A, ENV_HOME, a b, a(b)c, big, both, bs, cjk, cp, cpbad, e, here, huge, m1, n, neg, one, pct, process_num, program_name, q, qq, s, u, uone, z" },
};

/* Our documented deviation (expand.h): a conversion without a (name).
 * Python formats the whole mapping for a bare "%s" (and fails on "%d" with
 * "not dict"); supervisor users never mean that, so we refuse all of them. */
static const char *const deviations[] = {
        "%s", "%d", "% d", "%-5s", "%(s)s and %s", "%r", "%c", "%x",
};

static void fill(Expansions *e) {
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                if (names[i].str)
                        expansions_set_str(e, names[i].name, names[i].str);
                else
                        expansions_set_num(e, names[i].name, names[i].num);
        }
}

static void test_vectors(const Expansions *e) {
        for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
                char *out = NULL, *error = NULL;
                int r = expand_format(vectors[i].fmt, e, &out, &error);
                if (vectors[i].out) {
                        if (tap_is_int(r, 0, "expand %s: succeeds", TAP_ESC(vectors[i].fmt)))
                                tap_is_str(out, vectors[i].out, "expand %s: output", TAP_ESC(vectors[i].fmt));
                        else
                                tap_diag("error: %s", TAP_ESC(error));
                } else {
                        if (tap_is_int(r, -EINVAL, "expand %s: fails", TAP_ESC(vectors[i].fmt)))
                                tap_is_str(error, vectors[i].error, "expand %s: message", TAP_ESC(vectors[i].fmt));
                        else
                                tap_diag("output: %s", TAP_ESC(out));
                }
                free(out);
                free(error);
        }
}

static void test_deviations(const Expansions *e) {
        for (size_t i = 0; i < ELEMENTSOF(deviations); i++) {
                char *out = NULL, *error = NULL;
                int r = expand_format(deviations[i], e, &out, &error);
                if (tap_is_int(r, -EINVAL, "bare conversion %s refused", TAP_ESC(deviations[i])))
                        tap_contains(error, "without a (name)", "bare conversion %s: message says why",
                                     TAP_ESC(deviations[i]));
                free(out);
                free(error);
        }
}

/* The table itself: replacing, copying, listing; ret_error may be NULL. */
static void test_expansions(void) {
        _cleanup_(expansions_done) Expansions e = {0};
        expansions_set_str(&e, "b", "x");
        expansions_set_num(&e, "a", 1);
        expansions_set_num(&e, "b", 2);    /* str -> int */
        expansions_set_str(&e, "a", "y");  /* int -> str */
        tap_is_int((long long) e.n, 2, "replacing a name keeps one entry");
        const ExpandVar *v = expansions_get(&e, "b");
        tap_ok(v && v->is_num && v->num == 2, "b is now the int 2");
        v = expansions_get(&e, "a");
        tap_ok(v && !v->is_num && streq(v->str, "y"), "a is now the str 'y'");
        tap_ok(!expansions_get(&e, "c"), "an unknown name is NULL");

        _cleanup_(expansions_done) Expansions copy = {0};
        expansions_set_str(&copy, "c", "z");
        expansions_copy(&copy, &e);
        _cleanup_free_ char *listed = expansions_names(&copy);
        /* ', '.join(sorted({'c': 'z', 'a': 'y', 'b': 2})) */
        tap_is_str(listed, "a, b, c", "expansions_names() is sorted");

        char *out = NULL;
        tap_is_int(expand_format("%(a)s-%(b)03d", &copy, &out, NULL), 0, "copy expands");
        /* '%(a)s-%(b)03d' % {'a': 'y', 'b': 2} */
        tap_is_str(out, "y-002", "copy expands to Python's value");
        free(out);
        out = NULL;
        tap_is_int(expand_format("%(nope)s", &copy, &out, NULL), -EINVAL, "an error without ret_error");
        tap_ok(!out, "no output on error");

        _cleanup_(expansions_done) Expansions empty = {0};
        char *error = NULL;
        tap_is_int(expand_format("%(x)s", &empty, &out, &error), -EINVAL, "empty table: unknown name");
        /* "Format string %r contains names (%s) which cannot be expanded. Available names: %s"
         *         % ('%(x)s', str(KeyError('x')), ', '.join(sorted({}))) */
        tap_is_str(error, "Format string '%(x)s' contains names ('x') which cannot be expanded. Available names: ",
                   "empty table: message");
        free(error);
}

/* A program's table on top of the environment's: lookups fall through,
 * the child shadows.  Python: supervisor builds one dict, {**parent, **child}. */
static void test_parent(void) {
        _cleanup_(expansions_done) Expansions env = {0};
        expansions_set_str(&env, "ENV_HOME", "/root");
        expansions_set_str(&env, "program_name", "shadowed");
        _cleanup_(expansions_done) Expansions prog = { .parent = &env };
        expansions_set_str(&prog, "program_name", "web");
        expansions_set_num(&prog, "process_num", 2);

        char *out = NULL, *error = NULL;
        tap_is_int(expand_format("%(program_name)s:%(ENV_HOME)s:%(process_num)d", &prog, &out, &error), 0,
                   "parent: expands");
        /* '%(program_name)s:%(ENV_HOME)s:%(process_num)d' % {**parent, **child} */
        tap_is_str(out, "web:/root:2", "parent: child shadows, parent falls through");
        free(out);
        out = NULL;
        const ExpandVar *v = expansions_get(&prog, "ENV_HOME");
        tap_ok(v && !v->is_num && streq(v->str, "/root"), "parent: expansions_get() falls through");
        _cleanup_free_ char *listed = expansions_names(&prog);
        /* ', '.join(sorted({**parent, **child})) */
        tap_is_str(listed, "ENV_HOME, process_num, program_name", "parent: names listed once, sorted");
        tap_is_int(expand_format("%(nope)s", &prog, &out, &error), -EINVAL, "parent: unknown name");
        tap_is_str(error,
                   "Format string '%(nope)s' contains names ('nope') which cannot be expanded. "
                   "Available names: ENV_HOME, process_num, program_name",
                   "parent: message lists both tables");
        free(error);
}

/* An empty name sorts first: ', '.join(sorted(['b', '', 'a'])) == ', a, b'. */
static void test_empty_name(void) {
        _cleanup_(expansions_done) Expansions e = {0};
        expansions_set_str(&e, "b", "1");
        expansions_set_str(&e, "", "2");
        expansions_set_str(&e, "a", "3");
        _cleanup_free_ char *listed = expansions_names(&e);
        tap_is_str(listed, ", a, b", "expansions_names() with an empty name");
        char *out = NULL;
        tap_is_int(expand_format("%()s", &e, &out, NULL), 0, "%%()s expands the empty name");
        /* '%()s' % {'': '2'} */
        tap_is_str(out, "2", "%%()s output");
        free(out);
}

int main(void) {
        _cleanup_(expansions_done) Expansions e = {0};
        fill(&e);
        test_vectors(&e);
        test_deviations(&e);
        test_expansions();
        test_parent();
        test_empty_name();
        return tap_done();
}
