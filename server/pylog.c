/* pylog.c: see pylog.h.  The root logger's handler and the wsgi.errors
 * stream are a few lines of Python (PYLOG_CODE below) over two C
 * functions that send to the journal. */
#include <errno.h>
#include <string.h>

#include "access.h"
#include "http.h"
#include "log.h"
#include "pylog.h"
#include "strbuf.h"

static PyObject *errors_stream;          /* owned; NULL: sys.stderr */

static const char PYLOG_CODE[] =
        "import atexit, logging\n"
        "\n"
        "class JournalHandler(logging.Handler):\n"
        "    \"\"\"unitcorn: each record is a journal entry, PRIORITY from its level.\"\"\"\n"
        "    def emit(self, record):\n"
        "        try:\n"
        "            _log(record.levelno, self.format(record), record.pathname, record.lineno,\n"
        "                 record.funcName, record.name)\n"
        "        except Exception:\n"
        "            self.handleError(record)\n"
        "\n"
        "class JournalErrors:\n"
        "    \"\"\"unitcorn's wsgi.errors: a line-terminated write() or flush() is one journal entry.\"\"\"\n"
        "    def __init__(self):\n"
        "        self._pending = []\n"
        "    def write(self, s):\n"
        "        if not isinstance(s, str):\n"
        "            raise TypeError('write() argument must be str, not %s' % type(s).__name__)\n"
        "        self._pending.append(s)\n"
        "        if s.endswith('\\n'):\n"
        "            self.flush()\n"
        "        return len(s)\n"
        "    def writelines(self, lines):\n"
        "        for line in lines:\n"
        "            self.write(line)\n"
        "    def flush(self):\n"
        "        if self._pending:\n"
        "            s = ''.join(self._pending)\n"
        "            self._pending.clear()\n"
        "            _errors(s)\n"
        "    def writable(self):\n"
        "        return True\n"
        "    def isatty(self):\n"
        "        return False\n"
        "\n"
        "handler = JournalHandler()\n"
        "logging.root.addHandler(handler)\n"
        "errors = JournalErrors()\n"
        "atexit.register(errors.flush)\n"
        "\n"
        "_basic_config = logging.basicConfig\n"
        "def basicConfig(**kwargs):\n"
        "    # root has our handler, so Python's basicConfig() does nothing: keep its level=\n"
        "    if not kwargs.get('force') and kwargs.get('level') is not None and logging.root.handlers == [handler]:\n"
        "        logging.root.setLevel(kwargs['level'])\n"
        "    _basic_config(**kwargs)\n"
        "basicConfig.__doc__ = _basic_config.__doc__\n"
        "logging.basicConfig = basicConfig\n";

/* PRIORITY for a logging level: the named levels, anything in between
 * rounded down (a level 25 is INFO's 6). */
static int priority_of(long level) {
        return level >= 50 ? LOG_CRIT : level >= 40 ? LOG_ERR : level >= 30 ? LOG_WARNING :
               level >= 20 ? LOG_INFO : LOG_DEBUG;
}

/* A field "NAME=<str(value) as UTF-8>" on the heap, into *iov; false if
 * value is None (no field). */
static int field_new(const char *name, PyObject *value, struct iovec *iov) {
        if (value == Py_None)
                return 0;
        _cleanup_pyobj_ PyObject *s = PyObject_Str(value);
        _cleanup_pyobj_ PyObject *b = s ? PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace") : NULL;
        if (!b)
                return -1;
        size_t nl = strlen(name), vl = (size_t) PyBytes_GET_SIZE(b);
        char *f = xmalloc(nl + 1 + vl);
        memcpy(f, name, nl);
        f[nl] = '=';
        memcpy(f + nl + 1, PyBytes_AS_STRING(b), vl);
        *iov = (struct iovec) { f, nl + 1 + vl };
        return 1;
}

static PyObject *utf8_of(PyObject *s) {
        _cleanup_pyobj_ PyObject *str = PyObject_Str(s);
        return str ? PyUnicode_AsEncodedString(str, "utf-8", "backslashreplace") : NULL;
}

/* _log(levelno, message, pathname, lineno, funcName, name) */
static PyObject *py_log(PyObject *self, PyObject *args) {
        long level;
        PyObject *msg, *file, *line, *func, *logger;    /* borrowed */
        if (!PyArg_ParseTuple(args, "lOOOOO:_log", &level, &msg, &file, &line, &func, &logger))
                return NULL;
        _cleanup_pyobj_ PyObject *m = utf8_of(msg);
        if (!m)
                return NULL;
        struct iovec iov[4];
        size_t n = 0;
        int r = 0;
        struct { const char *name; PyObject *v; } fields[] = {
                { "CODE_FILE", file }, { "CODE_LINE", line }, { "CODE_FUNC", func }, { "LOGGER", logger },
        };
        for (size_t i = 0; i < ELEMENTSOF(fields) && r >= 0; i++)
                if ((r = field_new(fields[i].name, fields[i].v, &iov[n])) > 0)
                        n++;
        if (r >= 0)
                log_send(priority_of(level), PyBytes_AS_STRING(m), (size_t) PyBytes_GET_SIZE(m), iov, n);
        for (size_t i = 0; i < n; i++)
                free(iov[i].iov_base);
        if (r < 0)
                return NULL;
        Py_RETURN_NONE;
}

/* _errors(text): wsgi.errors output */
static PyObject *py_errors(PyObject *self, PyObject *text) {
        _cleanup_pyobj_ PyObject *m = utf8_of(text);
        if (!m)
                return NULL;
        if (PyBytes_GET_SIZE(m) > 0)
                log_send(LOG_ERR, PyBytes_AS_STRING(m), (size_t) PyBytes_GET_SIZE(m), NULL, 0);
        Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
        { "_log", py_log, METH_VARARGS, NULL },
        { "_errors", py_errors, METH_O, NULL },
        { NULL }
};

int pylog_setup(void) {
        if (!log_to_journal())
                return 0;
        _cleanup_pyobj_ PyObject *g = PyDict_New();
        _cleanup_pyobj_ PyObject *name = PyUnicode_FromString("unitcorn.journal");
        /* declared before the first goto: a jump past it would run its
         * cleanup on an uninitialised pointer (clang refuses to compile
         * that, gcc does not say) */
        _cleanup_pyobj_ PyObject *r = NULL;
        if (!g || !name || PyDict_SetItemString(g, "__builtins__", PyEval_GetBuiltins()) < 0 ||
            PyDict_SetItemString(g, "__name__", name) < 0)
                goto fail;
        for (PyMethodDef *m = methods; m->ml_name; m++) {
                _cleanup_pyobj_ PyObject *f = PyCFunction_NewEx(m, NULL, name);
                if (!f || PyDict_SetItemString(g, m->ml_name, f) < 0)
                        goto fail;
        }
        r = PyRun_String(PYLOG_CODE, Py_file_input, g, g);
        if (!r)
                goto fail;
        errors_stream = Py_XNewRef(PyDict_GetItemString(g, "errors"));    /* borrowed, then owned */
        return 0;
fail:
        pylog_exception(LOG_WARNING, "Failed to send Python's logging to the journal, ignoring.");
        return 0;
}

PyObject *pylog_wsgi_errors(void) {
        return errors_stream ? errors_stream : PySys_GetObject("stderr");    /* borrowed */
}

static void log_exception(int prio, const char *msg, const struct iovec *fields, size_t n_fields) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (prio > log_get_level()) {
                Py_XDECREF(type);
                Py_XDECREF(value);
                Py_XDECREF(tb);
                return;
        }
        _cleanup_(sb_donep) StrBuf b = {0};
        if (msg)
                sb_add(&b, msg);
        if (type) {
                PyErr_NormalizeException(&type, &value, &tb);
                if (tb && value)
                        PyException_SetTraceback(value, tb);
                _cleanup_pyobj_ PyObject *mod = PyImport_ImportModule("traceback");
                _cleanup_pyobj_ PyObject *lines = mod ? PyObject_CallMethod(mod, "format_exception", "OOO",
                                                                             type, value ? value : Py_None,
                                                                             tb ? tb : Py_None) : NULL;
                _cleanup_pyobj_ PyObject *sep = PyUnicode_FromString("");
                _cleanup_pyobj_ PyObject *text = lines && sep ? PyUnicode_Join(sep, lines) : NULL;
                _cleanup_pyobj_ PyObject *bytes = text ? PyUnicode_AsEncodedString(text, "utf-8", "backslashreplace") : NULL;
                if (bytes) {
                        if (b.len > 0)
                                sb_add(&b, "\n");
                        sb_addn(&b, PyBytes_AS_STRING(bytes), (size_t) PyBytes_GET_SIZE(bytes));
                } else {
                        /* could not format it (out of memory, most likely):
                         * the message, then Python's own rendering on stderr */
                        PyErr_Clear();
                        if (b.len > 0)
                                log_message(prio, b.s, b.len, fields, n_fields);
                        b.len = 0;
                        PyErr_Display(type, value, tb);
                }
        }
        if (b.len > 0)
                log_message(prio, b.s, b.len, fields, n_fields);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
}

void pylog_exception(int prio, const char *msg) {
        log_exception(prio, msg, NULL, 0);
}

void pylog_request_error(const HttpRequest *req, const char *what) {
        const char *method = llhttp_method_name(req->method);
        const char *target = http_req_str(req, 0);
        const char *path, *query;
        size_t path_len, query_len;
        http_split_target(target, req->target_len, &path, &path_len, &query, &query_len);
        _cleanup_free_ char *msg = xasprintf("Error handling request %s %.*s: %s", method,
                                             (int) MIN(req->target_len, 200), target, what);
        _cleanup_free_ char *f_method = xasprintf("HTTP_METHOD=%s", method);
        _cleanup_free_ char *f_path = xasprintf("HTTP_PATH=%.*s", (int) path_len, path);
        struct iovec fields[] = {
                { f_method, strlen(f_method) },
                { f_path, strlen(f_path) },
        };
        log_exception(LOG_ERR, msg, fields, ELEMENTSOF(fields));
}
