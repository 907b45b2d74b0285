/* fuzz-shlex: the generator's two shlex tokenisers (generator/shlex.c)
 * against Python itself.
 *
 * The input, up to its first NUL (the INI reader refuses NUL bytes, so no
 * value holds one), is given to shlex_split() and to shlex_env_pairs(),
 * and to what they reproduce, in the embedded interpreter (oracle.py):
 * shlex.split() and supervisor's datatypes.dict_of_key_value_pairs().  Both
 * must fail together (with Python's message, for shlex.split) or give the
 * same words, the same pairs in the same order.  dict_of_key_value_pairs()
 * is compared on valid UTF-8 only (oracle.h). */
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "shlex.h"
#include "strbuf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        oracle_init();
        return 0;
}

static PyObject *bytes(const char *s) {
        return PyBytes_FromString(s);
}

static void check_split(const char *s, size_t len) {
        char **words = NULL, *error = NULL;
        int r = shlex_split(s, &words, &error);
        PyObject *py = oracle_call("split", Py_BuildValue("(y#)", s, (Py_ssize_t) len));
        PyObject *ours;
        if (r < 0)
                ours = PyUnicode_FromString(error);
        else {
                ours = PyList_New(0);
                for (size_t i = 0; words[i]; i++) {
                        PyObject *w = bytes(words[i]);
                        PyList_Append(ours, w);
                        Py_DECREF(w);
                }
        }
        if (PyObject_RichCompareBool(ours, py, Py_EQ) != 1) {
                PyObject *repr = PyObject_Repr(ours);
                oracle_mismatch("shlex.split()", s, len, PyUnicode_AsUTF8(repr), py);
        }
        Py_DECREF(ours);
        Py_DECREF(py);
        strv_free(words);
        free(error);
}

static void check_env_pairs(const char *s, size_t len) {
        EnvPairs pairs = {0};
        char **dropped = NULL, *error = NULL;
        int r = shlex_env_pairs(s, &pairs, &dropped, &error);
        PyObject *py = oracle_call("env_pairs", Py_BuildValue("(y#)", s, (Py_ssize_t) len));
        /* supervisor's message quotes the value with %r: compare only that
         * both failed; which failure is the lexer's business, checked above */
        bool same = r < 0 ? PyUnicode_Check(py) : PyList_Check(py) && (size_t) PyList_GET_SIZE(py) == pairs.n;
        for (size_t i = 0; same && r >= 0 && i < pairs.n; i++) {
                PyObject *want = Py_BuildValue("(yy)", pairs.pairs[i].key, pairs.pairs[i].value);
                same = PyObject_RichCompareBool(want, PyList_GET_ITEM(py, i), Py_EQ) == 1;
                Py_DECREF(want);
        }
        if (!same) {
                StrBuf b = {0};
                if (r < 0)
                        sb_addf(&b, "error: %s", error);
                for (size_t i = 0; r >= 0 && i < pairs.n; i++)
                        sb_addf(&b, "(%s, %s) ", pairs.pairs[i].key, pairs.pairs[i].value);
                oracle_mismatch("dict_of_key_value_pairs()", s, len, b.s ? b.s : "[]", py);
        }
        Py_DECREF(py);
        env_pairs_done(&pairs);
        strv_free(dropped);
        free(error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = xstrndup((const char *) data, size);
        size_t len = strlen(s);
        check_split(s, len);
        /* the non-posix lexer makes a token of each character that is not
         * a word character: Python's characters, our bytes */
        if (oracle_utf8(s, len))
                check_env_pairs(s, len);
        free(s);
        return 0;
}
