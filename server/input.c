/* input.c: see input.h.  The methods follow io.BufferedReader's: a size of
 * None or a negative one means "all"; readline() stops after b"\n". */
#include "input.h"

typedef struct Input {
        PyObject_HEAD
        PyObject *data;          /* bytes, owned */
        Py_ssize_t pos;
} Input;

static void input_dealloc(PyObject *self) {
        Py_XDECREF(((Input *) self)->data);
        Py_TYPE(self)->tp_free(self);
}

/* size argument: None or missing -> -1. */
static int parse_size(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t *ret) {
        *ret = -1;
        if (nargs > 1) {
                PyErr_SetString(PyExc_TypeError, "expected at most one argument");
                return -1;
        }
        if (nargs == 0 || args[0] == Py_None)
                return 0;
        Py_ssize_t n = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
        if (n == -1 && PyErr_Occurred())
                return -1;
        *ret = n;
        return 0;
}

static Py_ssize_t remaining(const Input *in) {
        return PyBytes_GET_SIZE(in->data) - in->pos;
}

static PyObject *take(Input *in, Py_ssize_t n) {
        /* the whole body in one read: hand out the same bytes object */
        if (in->pos == 0 && n == PyBytes_GET_SIZE(in->data)) {
                in->pos = n;
                return Py_NewRef(in->data);
        }
        PyObject *b = PyBytes_FromStringAndSize(PyBytes_AS_STRING(in->data) + in->pos, n);
        if (b)
                in->pos += n;
        return b;
}

static PyObject *input_read(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
        Input *in = (Input *) self;
        Py_ssize_t size;
        if (parse_size(args, nargs, &size) < 0)
                return NULL;
        Py_ssize_t left = remaining(in);
        return take(in, size < 0 || size > left ? left : size);
}

static Py_ssize_t line_length(const Input *in, Py_ssize_t limit) {
        Py_ssize_t left = remaining(in);
        if (limit >= 0 && limit < left)
                left = limit;
        const char *start = PyBytes_AS_STRING(in->data) + in->pos;
        const char *nl = memchr(start, '\n', (size_t) left);
        return nl ? nl - start + 1 : left;
}

static PyObject *input_readline(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
        Input *in = (Input *) self;
        Py_ssize_t size;
        if (parse_size(args, nargs, &size) < 0)
                return NULL;
        return take(in, line_length(in, size));
}

static PyObject *input_readlines(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
        Input *in = (Input *) self;
        Py_ssize_t hint;
        if (parse_size(args, nargs, &hint) < 0)
                return NULL;
        PyObject *list = PyList_New(0);
        if (!list)
                return NULL;
        Py_ssize_t total = 0;
        while (remaining(in) > 0 && (hint <= 0 || total < hint)) {
                PyObject *line = take(in, line_length(in, -1));
                if (!line || PyList_Append(list, line) < 0) {
                        Py_XDECREF(line);
                        Py_DECREF(list);
                        return NULL;
                }
                total += PyBytes_GET_SIZE(line);
                Py_DECREF(line);
        }
        return list;
}

static PyObject *input_iternext(PyObject *self) {
        Input *in = (Input *) self;
        if (remaining(in) == 0)
                return NULL;     /* StopIteration, no exception set */
        return take(in, line_length(in, -1));
}

static PyMethodDef input_methods[] = {
        { "read",      (PyCFunction) (void (*)(void)) input_read,      METH_FASTCALL, NULL },
        { "readline",  (PyCFunction) (void (*)(void)) input_readline,  METH_FASTCALL, NULL },
        { "readlines", (PyCFunction) (void (*)(void)) input_readlines, METH_FASTCALL, NULL },
        { NULL }
};

static PyTypeObject input_type = {
        PyVarObject_HEAD_INIT(NULL, 0)
        .tp_name = "unitcorn.Input",
        .tp_basicsize = sizeof(Input),
        .tp_dealloc = input_dealloc,
        .tp_flags = Py_TPFLAGS_DEFAULT,
        .tp_doc = "wsgi.input: the request body",
        .tp_iter = PyObject_SelfIter,
        .tp_iternext = input_iternext,
        .tp_methods = input_methods,
};

int input_type_ready(void) {
        return PyType_Ready(&input_type);
}

PyObject *input_new(const char *data, size_t len) {
        Input *in = PyObject_New(Input, &input_type);
        if (!in)
                return NULL;
        in->pos = 0;
        in->data = PyBytes_FromStringAndSize(data, (Py_ssize_t) len);
        if (!in->data) {
                Py_DECREF(in);
                return NULL;
        }
        return (PyObject *) in;
}
