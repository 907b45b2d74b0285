/* oracle.c: see oracle.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "report.h"

static PyObject *module;

void oracle_init(void) {
        if (module)
                return;
        report_init();
        PyConfig config;
        PyConfig_InitIsolatedConfig(&config);
        /* Debian's interpreter, so that its supervisor package is found */
        PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, FUZZ_PYTHON);
        if (!PyStatus_Exception(st))
                st = Py_InitializeFromConfig(&config);
        PyConfig_Clear(&config);
        if (PyStatus_Exception(st)) {
                fprintf(stderr, "oracle: failed to start Python: %s\n", st.err_msg ? st.err_msg : "?");
                abort();
        }
        PyObject *path = PySys_GetObject("path");            /* borrowed */
        PyObject *dir = PyUnicode_FromString(FUZZ_ORACLE_DIR);
        if (!path || !dir || PyList_Insert(path, 0, dir) < 0 || !(module = PyImport_ImportModule("oracle"))) {
                PyErr_Print();
                abort();
        }
        Py_DECREF(dir);
}

PyObject *oracle_call(const char *func, PyObject *args) {
        if (!args) {
                PyErr_Print();
                abort();
        }
        PyObject *f = PyObject_GetAttrString(module, func);
        PyObject *r = f ? PyObject_CallObject(f, args) : NULL;
        Py_XDECREF(f);
        Py_DECREF(args);
        if (!r) {
                PyErr_Print();
                abort();
        }
        return r;
}

void oracle_mismatch(const char *what, const char *input, size_t len, const char *ours, PyObject *theirs) {
        FILE *f = report_file();
        fprintf(f, "MISMATCH in %s\ninput: ", what);
        PyObject *in = PyBytes_FromStringAndSize(input, (Py_ssize_t) len);
        if (in)
                PyObject_Print(in, f, 0);
        fprintf(f, "\nours:   %s\npython: ", ours);
        PyObject_Print(theirs, f, 0);
        fprintf(f, "\n");
        abort();
}

bool oracle_utf8(const char *s, size_t len) {
        PyObject *u = PyUnicode_DecodeUTF8(s, (Py_ssize_t) len, "strict");
        if (!u) {
                PyErr_Clear();
                return false;
        }
        Py_DECREF(u);
        return true;
}
