/* fuzz-expand: supervisor's %(name)s expansion (generator/expand.c), which
 * is Python's %-formatting with a mapping, against Python itself.
 *
 * The input, up to its first NUL, is the format; the names are a fixed
 * table of strings and integers chosen to reach every conversion (quotes,
 * a backslash and non-ASCII in a str for %r and %a, a one-character str
 * and a non-ASCII one for %c, the extreme 64-bit integers for the sign and
 * width handling).  Where ours succeeds, Python must succeed with the same
 * bytes; where ours fails, Python must fail too, except for the
 * documented refusals (expand.h): a '*' width and a conversion without a
 * name, which Python would fill with the whole table; and a result with
 * a NUL (%c of 0), which no C string (nor unit file) holds.  Formats that
 * are not valid UTF-8 are skipped (oracle.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "oracle.h"
#include "strbuf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static Expansions table;
static PyObject *mapping;

static const struct {
        const char *name, *str;
        long long num;
} vars[] = {
        { "here", "/etc/supervisor.d", 0 },
        { "program_name", "we'b\"\\ \xc3\xa9t\xc3\xa9", 0 },
        { "group_name", "g", 0 },
        { "host_node_name", "\xc3\xbc", 0 },
        { "ENV_EMPTY", "", 0 },
        { "process_num", NULL, 7 },
        { "numprocs", NULL, -42 },
        { "zero", NULL, 0 },
        { "max", NULL, LLONG_MAX },
        { "min", NULL, LLONG_MIN },
};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        oracle_init();
        mapping = PyDict_New();
        for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
                PyObject *v;
                if (vars[i].str) {
                        expansions_set_str(&table, vars[i].name, vars[i].str);
                        v = PyBytes_FromString(vars[i].str);
                } else {
                        expansions_set_num(&table, vars[i].name, vars[i].num);
                        v = PyLong_FromLongLong(vars[i].num);
                }
                PyObject *k = PyBytes_FromString(vars[i].name);
                if (!v || !k || PyDict_SetItem(mapping, k, v) < 0)
                        abort();
                Py_DECREF(k);
                Py_DECREF(v);
        }
        return 0;
}

/* The refusals expand.h documents: a conversion right after '%' (no
 * "(name)"), and '*' as a width or precision. */
static bool documented_refusal(const char *fmt) {
        for (const char *p = fmt; (p = strchr(p, '%')); ) {
                p++;
                if (*p == '%') {
                        p++;
                        continue;
                }
                if (*p != '(')
                        return true;
                int depth = 0;
                for (; *p; p++) {
                        if (*p == '(')
                                depth++;
                        else if (*p == ')' && --depth == 0)
                                break;
                }
                if (!*p)
                        return false;
                for (p++; *p && strchr("#0- +", *p); p++)
                        ;
                for (; *p && strchr("0123456789.", *p); p++)
                        ;
                if (*p == '*')
                        return true;
        }
        return false;
}

/* Widths and precisions up to 9999: enough to pass any buffer size the
 * code may have; larger ones only make both sides slow (a 10^9-byte
 * string). */
static bool has_long_number(const char *s) {
        size_t run = 0;
        for (; *s; s++)
                if ((run = *s >= '0' && *s <= '9' ? run + 1 : 0) > 4)
                        return true;
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *fmt = xstrndup((const char *) data, size);
        size_t len = strlen(fmt);
        if (has_long_number(fmt) || !oracle_utf8(fmt, len)) {
                free(fmt);
                return 0;
        }
        char *out = NULL, *error = NULL;
        int r = expand_format(fmt, &table, &out, &error);
        PyObject *py = oracle_call("expand", Py_BuildValue("(y#O)", fmt, (Py_ssize_t) len, mapping));

        if (r >= 0) {
                if (!PyBytes_Check(py) || strlen(out) != (size_t) PyBytes_GET_SIZE(py) ||
                    memcmp(out, PyBytes_AS_STRING(py), strlen(out)) != 0)
                        oracle_mismatch("expand_format()", fmt, len, out, py);
        } else if (PyBytes_Check(py) && !documented_refusal(fmt) &&
                   !memchr(PyBytes_AS_STRING(py), 0, (size_t) PyBytes_GET_SIZE(py))) {
                _cleanup_free_ char *ours = xasprintf("error: %s", error);
                oracle_mismatch("expand_format()", fmt, len, ours, py);
        }
        Py_DECREF(py);
        free(out);
        free(error);
        free(fmt);
        return 0;
}
