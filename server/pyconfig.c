/* pyconfig.c: see pyconfig.h.  gunicorn's Config.load_config_from_file():
 * exec the file, then for every module-level name that is a setting,
 * validate and set it; names that are not settings are ignored. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hooks.h"
#include "log.h"
#include "pyconfig.h"
#include "python.h"
#include "strbuf.h"

static const char *config_path;

static int bad_value(const char *name, const char *want) {
        return log_error_errno(EINVAL, "%s: setting '%s': %s expected.", config_path, name, want);
}

/* gunicorn's validate_pos_int: an int, or a string of one; >= 0. */
static int get_uint(PyObject *v, const char *name, unsigned min, unsigned *ret) {
        long long n;
        if (PyBool_Check(v))
                return bad_value(name, "an integer");
        if (PyLong_Check(v)) {
                n = PyLong_AsLongLong(v);
                if (n == -1 && PyErr_Occurred()) {
                        PyErr_Clear();
                        return bad_value(name, "an integer in range");
                }
        } else if (PyUnicode_Check(v)) {
                const char *s = PyUnicode_AsUTF8(v);
                char *end;
                if (!s) {
                        PyErr_Clear();
                        return bad_value(name, "an integer");
                }
                errno = 0;
                n = strtoll(s, &end, 10);
                if (!*s || *end || errno)
                        return bad_value(name, "an integer");
        } else
                return bad_value(name, "an integer");
        if (n < (long long) min || n > UINT_MAX)
                return bad_value(name, min ? "a positive integer" : "a non-negative integer");
        *ret = (unsigned) n;
        return 0;
}

static int get_str(PyObject *v, const char *name, char **ret) {
        if (!PyUnicode_Check(v))
                return bad_value(name, "a string");
        const char *s = PyUnicode_AsUTF8(v);
        if (!s) {
                PyErr_Clear();
                return bad_value(name, "a string");
        }
        *ret = xstrdup(s);
        return 0;
}

/* A string, or a list/tuple of strings (gunicorn's validate_list_string);
 * with split, each string is also split at commas (pythonpath). */
static int get_strv(PyObject *v, const char *name, bool split, char ***ret) {
        _cleanup_pyobj_ PyObject *seq = NULL;
        if (PyUnicode_Check(v))
                seq = PyTuple_Pack(1, v);
        else if (PyList_Check(v) || PyTuple_Check(v))
                seq = PySequence_Tuple(v);
        else
                return bad_value(name, "a string or a list of strings");
        if (!seq) {
                PyErr_Clear();
                return log_error_errno(ENOMEM, "Out of memory.");
        }
        char **l = NULL;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(seq); i++) {
                _cleanup_free_ char *s = NULL;
                if (get_str(PyTuple_GET_ITEM(seq, i), name, &s) < 0) {
                        strv_free(l);
                        return -EINVAL;
                }
                if (!split) {
                        l = strv_push(l, TAKE_PTR(s));
                        continue;
                }
                char *save = NULL;
                for (char *p = strtok_r(s, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                        /* gunicorn strips each entry */
                        while (*p == ' ')
                                p++;
                        size_t n = strlen(p);
                        while (n > 0 && p[n - 1] == ' ')
                                p[--n] = 0;
                        if (*p)
                                l = strv_push(l, xstrdup(p));
                }
        }
        strv_free(*ret);
        *ret = l;
        return 0;
}

static int get_bool(PyObject *v, const char *name, bool *ret) {
        if (PyBool_Check(v)) {
                *ret = v == Py_True;
                return 0;
        }
        if (PyUnicode_Check(v)) {
                const char *s = PyUnicode_AsUTF8(v);
                if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "false"))) {
                        *ret = !strcasecmp(s, "true");
                        return 0;
                }
                PyErr_Clear();
        }
        return bad_value(name, "True or False");
}

static int apply_worker_class(PyObject *v) {
        _cleanup_free_ char *k = NULL;
        if (get_str(v, "worker_class", &k) < 0)
                return -EINVAL;
        if (strv_contains((char *[]) { "sync", "gthread", "gunicorn.workers.sync.SyncWorker",
                                       "gunicorn.workers.gthread.ThreadWorker", NULL }, k))
                return 0;
        if (strv_contains((char *[]) { "gevent", "eventlet", "gevent_wsgi", "gevent_pywsgi",
                                       "gunicorn.workers.ggevent.GeventWorker",
                                       "gunicorn.workers.geventlet.EventletWorker", NULL }, k)) {
                log_notice("%s: worker_class '%s' is served by unitcorn's threaded worker, with "
                           "'threads' (--threads) Python threads per worker (1: one request at a "
                           "time); no monkey-patching is done.", config_path, k);
                return 0;
        }
        return log_error_errno(EINVAL, "%s: worker_class '%s' is not supported: unitcorn is a WSGI "
                               "server and runs 'sync' or 'gthread' (and 'gevent'/'eventlet' as those).",
                               config_path, k);
}

/* The syntax error's file:line, then the usual Python rendering. */
static int syntax_error(const char *path) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        long line = 0;
        _cleanup_free_ char *msg = NULL;
        if (value) {
                _cleanup_pyobj_ PyObject *l = PyObject_GetAttrString(value, "lineno");
                _cleanup_pyobj_ PyObject *m = PyObject_GetAttrString(value, "msg");
                if (l && PyLong_Check(l))
                        line = PyLong_AsLong(l);
                if (m && PyUnicode_Check(m) && PyUnicode_AsUTF8(m))
                        msg = xstrdup(PyUnicode_AsUTF8(m));
                PyErr_Clear();
        }
        PyErr_Restore(type, value, tb);
        python_print_exception();
        return log_error_errno(EINVAL, "%s:%ld: syntax error in the config file: %s",
                               path, line, msg ? msg : "invalid syntax");
}

static const char *const not_implemented[] = {
        NULL
};

/* loglevel, errorlog, accesslog, access_log_format (None: the default) */
static int apply_logging(Config *c, PyObject *ns) {
        struct {
                const char *name;
                char **s;
        } strs[] = {
                { "errorlog",          &c->errorlog },
                { "accesslog",         &c->accesslog },
                { "access_log_format", &c->access_log_format },
        };
        PyObject *v;          /* borrowed */
        for (size_t i = 0; i < ELEMENTSOF(strs); i++)
                if ((v = PyDict_GetItemString(ns, strs[i].name)) && v != Py_None) {
                        char *s;
                        if (get_str(v, strs[i].name, &s) < 0)
                                return -EINVAL;
                        free(*strs[i].s);
                        *strs[i].s = s;
                }
        if ((v = PyDict_GetItemString(ns, "loglevel")) && v != Py_None) {
                _cleanup_free_ char *s = NULL, *what = NULL;
                if (get_str(v, "loglevel", &s) < 0)
                        return -EINVAL;
                what = xasprintf("%s: setting 'loglevel'", config_path);
                if (config_set_log_level(c, what, s) < 0)
                        return -EINVAL;
        }
        /* not a gunicorn setting (the deployment config has it) */
        if ((v = PyDict_GetItemString(ns, "logfile")) && v != Py_None)
                log_notice("%s: 'logfile' is not a gunicorn setting (gunicorn ignores it too; "
                           "'errorlog' is the error log); ignored.", config_path);
        return 0;
}

/* A string setting (None: left as it is). */
static int apply_str(PyObject *ns, const char *name, char **ret) {
        PyObject *v = PyDict_GetItemString(ns, name);                   /* borrowed */
        char *s;
        if (!v || v == Py_None)
                return 0;
        if (get_str(v, name, &s) < 0)
                return -EINVAL;
        free(*ret);
        *ret = s;
        return 0;
}

int pyconfig_load(Config *c, const char *path, const char *app) {
        config_path = path;

        FILE *f = fopen(path, "re");
        if (!f)
                return log_error_errno(errno, "Failed to read config file '%s': %s", path, STRERROR(errno));
        _cleanup_free_ char *src = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&src, &size);
        if (!m) {
                fclose(f);
                return log_error_errno(ENOMEM, "Out of memory.");
        }
        char buf[8192];
        for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0; )
                fwrite(buf, 1, n, m);
        bool failed = ferror(f);
        fclose(f);
        if (fclose(m) != 0 || failed || !src)
                return log_error_errno(EIO, "Failed to read config file '%s'.", path);
        if (strlen(src) != size)
                return log_error_errno(EINVAL, "%s: the config file contains a NUL byte.", path);

        int r = python_start(app);
        if (r < 0)
                return r;

        _cleanup_pyobj_ PyObject *code = Py_CompileString(src, path, Py_file_input);
        if (!code) {
                if (PyErr_ExceptionMatches(PyExc_SyntaxError))
                        return syntax_error(path);
                python_print_exception();
                return log_error_errno(EINVAL, "Failed to compile config file '%s'.", path);
        }
        /* gunicorn runs it as the module "__config__", with __file__ set. */
        _cleanup_pyobj_ PyObject *ns = PyDict_New();
        _cleanup_pyobj_ PyObject *file = PyUnicode_DecodeFSDefault(path);
        _cleanup_pyobj_ PyObject *name = PyUnicode_FromString("__config__");
        if (!ns || !file || !name ||
            PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) < 0 ||
            PyDict_SetItemString(ns, "__file__", file) < 0 ||
            PyDict_SetItemString(ns, "__name__", name) < 0) {
                python_print_exception();
                return log_error_errno(ENOMEM, "Out of memory.");
        }
        _cleanup_pyobj_ PyObject *res = PyEval_EvalCode(code, ns, ns);
        if (!res) {
                python_print_exception();
                return log_error_errno(EINVAL, "Failed to run config file '%s' (traceback above).", path);
        }

        struct {
                const char *name;
                unsigned *u;
                unsigned min;
        } uints[] = {
                { "workers",                  &c->workers,                  1 },
                { "timeout",                  &c->timeout,                  0 },
                { "graceful_timeout",         &c->graceful_timeout,         0 },
                { "keepalive",                &c->keep_alive,               0 },
                { "max_requests",             &c->max_requests,             0 },
                { "max_requests_jitter",      &c->max_requests_jitter,      0 },
                { "limit_request_line",       &c->limit_request_line,       0 },
                { "limit_request_fields",     &c->limit_request_fields,     0 },
                { "limit_request_field_size", &c->limit_request_field_size, 0 },
                { "backlog",                  &c->backlog,                  1 },
        };
        for (size_t i = 0; i < sizeof uints / sizeof uints[0]; i++) {
                PyObject *v = PyDict_GetItemString(ns, uints[i].name);   /* borrowed */
                if (v && get_uint(v, uints[i].name, uints[i].min, uints[i].u) < 0)
                        return -EINVAL;
        }

        PyObject *v;
        if ((v = PyDict_GetItemString(ns, "bind")) && get_strv(v, "bind", false, &c->binds) < 0)
                return -EINVAL;
        if ((v = PyDict_GetItemString(ns, "pythonpath")) && v != Py_None &&
            get_strv(v, "pythonpath", true, &c->pythonpath) < 0)
                return -EINVAL;
        if ((v = PyDict_GetItemString(ns, "chdir"))) {
                char *s;
                if (get_str(v, "chdir", &s) < 0)
                        return -EINVAL;
                free(c->chdir);
                c->chdir = s;
        }
        if ((v = PyDict_GetItemString(ns, "preload_app")) && get_bool(v, "preload_app", &c->preload) < 0)
                return -EINVAL;
        if (apply_str(ns, "proc_name", &c->proc_name) < 0 ||
            apply_str(ns, "pidfile", &c->pidfile) < 0 ||
            apply_str(ns, "wsgi_app", &c->app) < 0)
                return -EINVAL;
        if ((v = PyDict_GetItemString(ns, "raw_env")) && v != Py_None) {
                if (get_strv(v, "raw_env", false, &c->raw_env) < 0)
                        return -EINVAL;
                for (size_t i = 0; c->raw_env[i]; i++)
                        if (!strchr(c->raw_env[i], '='))
                                return log_error_errno(EINVAL, "%s: setting 'raw_env': '%s' is not KEY=VALUE.",
                                                       path, c->raw_env[i]);
        }
        if ((v = PyDict_GetItemString(ns, "forwarded_allow_ips")) && v != Py_None &&
            get_strv(v, "forwarded_allow_ips", true, &c->forwarded_allow_ips) < 0)
                return -EINVAL;
        if ((v = PyDict_GetItemString(ns, "worker_class")) && apply_worker_class(v) < 0)
                return -EINVAL;
        /* threads > 1 with worker_class 'sync' is gthread, as in gunicorn:
         * one setting decides. */
        if ((v = PyDict_GetItemString(ns, "threads")) && get_uint(v, "threads", 1, &c->threads) < 0)
                return -EINVAL;
        if (apply_logging(c, ns) < 0)
                return -EINVAL;
        for (size_t i = 0; not_implemented[i]; i++)
                if ((v = PyDict_GetItemString(ns, not_implemented[i])) && v != Py_None)
                        log_notice("%s: setting '%s' is accepted but not implemented yet; ignored.",
                                   path, not_implemented[i]);
        return hooks_load(ns, path);
}
