/* fuzz-ini: the supervisor INI reader (generator/inifile.c) against
 * configparser, which it reproduces (DESIGN.md §3.1).
 *
 * The input is one file.  Whatever it holds, reading must not crash and
 * every key must be found again by ini_section_lookup().  When our reader
 * takes the whole file as readable (no broken section: those are the
 * places where we refuse on purpose what configparser would misread, each
 * reported), Python's RawConfigParser(inline_comment_prefixes=(';', '#'),
 * strict=False) must read it too, with the same sections in the same order
 * and the same keys and values in each (its items(): [DEFAULT] keys
 * inherited, the last value of a repeated key winning), keys compared
 * after Python's lower(): ours lower-cases ASCII only, by design. */
#include <stdlib.h>
#include <string.h>

#include "inifile.h"
#include "log.h"
#include "oracle.h"
#include "report.h"
#include "strbuf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        oracle_init();
        /* every message formatted (run with -close_fd_mask=2 to hide them) */
        log_set_level(LOG_DEBUG);
        return 0;
}

/* A key as Python's str.lower() has it: we lower-case ASCII only, on
 * purpose (generator/README.md: no supervisor key has another letter). */
static PyObject *py_lower(const char *name) {
        PyObject *u = PyUnicode_DecodeUTF8(name, (Py_ssize_t) strlen(name), "surrogateescape");
        PyObject *l = u ? PyObject_CallMethod(u, "lower", NULL) : NULL;
        PyObject *b = l ? PyUnicode_AsEncodedString(l, "utf-8", "surrogateescape") : NULL;
        Py_XDECREF(u);
        Py_XDECREF(l);
        if (!b)
                abort();
        return b;
}

/* configparser's items(): defaults, then the section's own keys. */
static PyObject *items(const IniConfig *c, const IniSection *s) {
        PyObject *d = PyDict_New();
        const IniSection *parts[] = { &c->defaults, s };
        for (size_t p = 0; p < (s ? 2 : 1); p++)
                for (size_t i = 0; i < parts[p]->n_keys; i++) {
                        const IniKey *k = &parts[p]->keys[i];
                        PyObject *name = py_lower(k->name), *value = PyBytes_FromString(k->value);
                        PyDict_SetItem(d, name, value);
                        Py_DECREF(name);
                        Py_DECREF(value);
                }
        return d;
}

static void check_lookups(const IniConfig *c) {
        for (size_t i = 0; i < c->n_sections; i++) {
                const IniSection *s = c->sections[i];
                if (ini_config_find(c, s->name) != s)
                        report_fail("section [%s] is not found by its name", s->name);
                for (size_t j = 0; j < s->n_keys; j++) {
                        const IniKey *k = ini_section_lookup(c, s, s->keys[j].name);
                        if (!k || !streq(k->name, s->keys[j].name))
                                report_fail("key '%s' of [%s] is not found by its name", s->keys[j].name, s->name);
                        for (const char *p = k->name; *p; p++)
                                if (*p >= 'A' && *p <= 'Z')
                                        report_fail("key '%s' is not lower-cased", k->name);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        IniConfig c = {0};
        int r = ini_config_read_buffer(&c, "/fuzz/input.ini", (const char *) data, size);
        check_lookups(&c);

        bool clean = r >= 0 && !c.defaults.broken;
        for (size_t i = 0; clean && i < c.n_sections; i++)
                clean = !c.sections[i]->broken;
        if (clean) {
                PyObject *py = oracle_call("ini", Py_BuildValue("(y#)", (const char *) data, (Py_ssize_t) size));
                PyObject *ours = PyList_New(0);
                PyObject *t = Py_BuildValue("(yN)", "DEFAULT", items(&c, NULL));
                PyList_Append(ours, t);
                Py_DECREF(t);
                for (size_t i = 0; i < c.n_sections; i++) {
                        t = Py_BuildValue("(yN)", c.sections[i]->name, items(&c, c.sections[i]));
                        PyList_Append(ours, t);
                        Py_DECREF(t);
                }
                /* Python's side as dicts too: the order of keys is not ours to match */
                if (PyList_Check(py))
                        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(py); i++) {
                                PyObject *sec = PyList_GET_ITEM(py, i);
                                PyObject *d = PyDict_New();
                                PyObject *kv = PyTuple_GET_ITEM(sec, 1);
                                for (Py_ssize_t j = 0; j < PyList_GET_SIZE(kv); j++)
                                        PyDict_SetItem(d, PyTuple_GET_ITEM(PyList_GET_ITEM(kv, j), 0),
                                                       PyTuple_GET_ITEM(PyList_GET_ITEM(kv, j), 1));
                                PyList_SET_ITEM(py, i, Py_BuildValue("(ON)", PyTuple_GET_ITEM(sec, 0), d));
                                Py_DECREF(sec);
                        }
                if (PyObject_RichCompareBool(ours, py, Py_EQ) != 1) {
                        PyObject *repr = PyObject_Repr(ours);
                        oracle_mismatch("the INI reader", (const char *) data, size, PyUnicode_AsUTF8(repr), py);
                }
                Py_DECREF(ours);
                Py_DECREF(py);
        }
        ini_config_done(&c);
        return 0;
}
