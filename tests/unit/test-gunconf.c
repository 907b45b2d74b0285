/* test-gunconf.c: `bind` read out of a gunicorn config file without
 * running it.
 *
 * Where the recogniser finds a value (ret 1), that value is what
 * /usr/bin/python3 (3.11) gives for the module's `bind` after
 *     exec(compile(text, "c.py", "exec"), ns := {}); ns["bind"]
 * (a string is a one-element list here); a file without `bind` leaves it
 * unset.  The refusals (ret -EINVAL) are the recogniser's own strictness,
 * with the line it names. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gunconf.h"
#include "strbuf.h"
#include "tap.h"

static const struct {
        const char *text;
        int ret;
        const char *binds;      /* ret 1: joined with '|'; ret < 0: the message */
        unsigned line;
} vectors[] = {
        { "bind = '127.0.0.1:5000'\n", 1, "127.0.0.1:5000", 1 },
        { "bind = \"127.0.0.1:5000\"", 1, "127.0.0.1:5000", 1 },
        { "bind='a'  # comment\n", 1, "a", 1 },
        { "bind = r'a\\b'\n", 1, "a\\b", 1 },
        { "bind = u'a'\n", 1, "a", 1 },
        { "bind = 'a\\'b'\n", 1, "a'b", 1 },
        { "bind = ['a', 'b']\n", 1, "a|b", 1 },
        { "bind = ('a', 'b',)\n", 1, "a|b", 1 },
        { "bind = ('a')\n", 1, "a", 1 },
        { "# config\nimport os\n\nbind = [\n    'a',  # first\n    \"b\"\n]\nworkers = 2\n", 1, "a|b", 4 },
        { "bind = 'a'\nbind = 'b'\n", 1, "b", 2 },
        { "x = 'bind = 1'\nbind = 'a'\n", 1, "a", 2 },
        { "x = '''\nbind = 1\n'''\nbind = 'a'\n", 1, "a", 4 },
        { "x = (1,\nbind)\n", -EINVAL, "'bind' is used other than as a top-level 'bind = LITERAL'", 2 },
        { "binds = ['a']\nrebind = 1\n", 0, NULL, 0 },
        { "workers = 3\n", 0, NULL, 0 },
        { "", 0, NULL, 0 },
        { "bind == 'a'\n", -EINVAL, "'bind' is used other than as a top-level 'bind = LITERAL'", 1 },
        { "bind = os.environ['BIND']\n", -EINVAL, "'bind' is not assigned a string literal or a list or tuple of them", 1 },
        { "bind = 'a' + 'b'\n", -EINVAL, "'bind' is not assigned a string literal or a list or tuple of them", 1 },
        { "bind = 'a' 'b'\n", -EINVAL, "'bind' is not assigned a string literal or a list or tuple of them", 1 },
        { "bind = 'a' if x else 'b'\n", -EINVAL, "'bind' is not assigned a string literal or a list or tuple of them", 1 },
        { "bind = 'a'; workers = 2\n", -EINVAL, "'bind' is not assigned a string literal or a list or tuple of them", 1 },
        { "bind = f'{host}:80'\n", -EINVAL, "'bind' is not assigned a string literal or a list or tuple of them", 1 },
        { "bind = b'a'\n", -EINVAL, "'bind' is not assigned a string literal or a list or tuple of them", 1 },
        { "bind = '''a'''\n", -EINVAL, "'bind' is not assigned a string literal or a list or tuple of them", 1 },
        { "bind = 'a\\n'\n", -EINVAL, "'bind' is not assigned a string literal or a list or tuple of them", 1 },
        { "bind = []\n", -EINVAL, "'bind' is not assigned a string literal or a list or tuple of them", 1 },
        { "bind = ['a', x]\n", -EINVAL, "'bind' is not assigned a string literal or a list or tuple of them", 1 },
        { "bind = ['a'\n", -EINVAL, "'bind' is not assigned a string literal or a list or tuple of them", 1 },
        { "bind = 'a\n", -EINVAL, "'bind' is not assigned a string literal or a list or tuple of them", 1 },
        { "bind += ['a']\n", -EINVAL, "'bind' is used other than as a top-level 'bind = LITERAL'", 1 },
        { "bind: str = 'a'\n", -EINVAL, "'bind' is used other than as a top-level 'bind = LITERAL'", 1 },
        { "if DEBUG:\n    bind = 'a'\n", -EINVAL, "'bind' is used other than as a top-level 'bind = LITERAL'", 2 },
        { "bind = 'a'\nif DEBUG:\n    bind = 'b'\n", -EINVAL, "'bind' is used other than as a top-level 'bind = LITERAL'", 3 },
        { "x = 1; bind = 'a'\n", -EINVAL, "'bind' is used other than as a top-level 'bind = LITERAL'", 1 },
        { "x = \\\nbind = 'a'\n", -EINVAL, "'bind' is used other than as a top-level 'bind = LITERAL'", 2 },
        { "from settings import *\n", -EINVAL, "'import *' may set 'bind'", 1 },
        { "globals()['bi' + 'nd'] = 'a'\n", -EINVAL, "'globals' is used other than as a top-level 'bind = LITERAL'", 1 },
        { "exec(open('x').read())\n", -EINVAL, "'exec' is used other than as a top-level 'bind = LITERAL'", 1 },
        { "x = 'unterminated\n", -EINVAL, "unterminated string literal", 1 },
        { "x = '''never closed\n", -EINVAL, "unterminated string literal", 1 },
};

int main(void) {
        for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
                const char *text = vectors[i].text;
                /* an exact-size copy: ASan sees any read past the end */
                size_t len = strlen(text);
                _cleanup_free_ char *copy = xmalloc(len ? len : 1);
                memcpy(copy, text, len);
                char **binds = NULL, *error = NULL;
                unsigned line = 0;
                int r = gunconf_find_bind(copy, len, &binds, &line, &error);
                const char *d = TAP_ESC(text);
                tap_is_int(r, vectors[i].ret, "'%s': result", d);
                if (r > 0) {
                        _cleanup_sb_ StrBuf b = {0};
                        for (size_t j = 0; binds[j]; j++) {
                                if (j)
                                        sb_addc(&b, '|');
                                sb_add(&b, binds[j]);
                        }
                        tap_is_str(b.s ? b.s : "", vectors[i].binds, "'%s': binds", d);
                } else
                        tap_is_str(error, vectors[i].binds, "'%s': message", d);
                tap_is_int(line, vectors[i].line, "'%s': line", d);
                strv_free(binds);
                free(error);
        }
        return tap_done();
}
