/* settings.c: see settings.h. */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "access.h"
#include "hooks.h"
#include "log.h"
#include "settings.h"
#include "strbuf.h"

static PyObject *str_or_none(const char *s) {
        return s ? PyUnicode_DecodeFSDefault(s) : Py_NewRef(Py_None);
}

static PyObject *list(char * const *v) {
        PyObject *l = PyList_New(0);
        for (size_t i = 0; l && v && v[i]; i++) {
                PyObject *s = PyUnicode_DecodeFSDefault(v[i]);
                if (!s || PyList_Append(l, s) < 0) {
                        Py_XDECREF(s);
                        Py_CLEAR(l);
                        break;
                }
                Py_DECREF(s);
        }
        return l;
}

/* gunicorn keeps pythonpath as the comma-separated string, or None. */
static PyObject *joined(char * const *v) {
        if (!v || !v[0])
                return Py_NewRef(Py_None);
        _cleanup_(sb_donep) StrBuf b = {0};
        for (size_t i = 0; v[i]; i++) {
                if (i)
                        sb_addc(&b, ',');
                sb_add(&b, v[i]);
        }
        return PyUnicode_DecodeFSDefaultAndSize(b.s, (Py_ssize_t) b.len);
}

int settings_dict(const Config *c, PyObject **ret) {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
                cwd[0] = 0;
        /* gunicorn's default chdir is the working directory; ours is
         * where --chdir went, which is the working directory by now */
        _cleanup_pyobj_ PyObject *d = Py_BuildValue(
                "{sIsNsNsOsNsNsNsIsIsNsKsIsIsIsIsIsNsOsNsNsNsNsIsNsIsN}",
                "backlog", c->backlog,
                "bind", list(c->binds),
                "chdir", PyUnicode_DecodeFSDefault(cwd),
                "check_config", c->check_config ? Py_True : Py_False,
                "config", str_or_none(c->config_file ? c->config_file : "./gunicorn.conf.py"),
                "default_proc_name", str_or_none(c->app),
                "forwarded_allow_ips", list(c->forwarded_allow_ips),
                "graceful_timeout", c->graceful_timeout,
                "header_timeout", c->header_timeout,
                "keepalive", PyLong_FromUnsignedLong(c->keep_alive),
                "limit_request_body", c->limit_request_body,
                "limit_request_field_size", c->limit_request_field_size,
                "limit_request_fields", c->limit_request_fields,
                "limit_request_line", c->limit_request_line,
                "max_requests", c->max_requests,
                "max_requests_jitter", c->max_requests_jitter,
                "pidfile", str_or_none(c->pidfile),
                "preload_app", c->preload ? Py_True : Py_False,
                "print_config", PyBool_FromLong(c->print_config),
                "proc_name", str_or_none(c->proc_name),
                "pythonpath", joined(c->pythonpath),
                "raw_env", list(c->raw_env),
                "timeout", c->timeout,
                "virtualenv", str_or_none(c->virtualenv),
                "workers", c->workers,
                "wsgi_app", str_or_none(c->app));
        if (!d)
                return -1;
        /* gunicorn's fixed default; unitcorn has no setting for it */
        _cleanup_pyobj_ PyObject *secure = Py_BuildValue("{ssssss}", "X-FORWARDED-PROTOCOL", "ssl",
                                                         "X-FORWARDED-PROTO", "https", "X-FORWARDED-SSL", "on");
        _cleanup_pyobj_ PyObject *logging = Py_BuildValue("{sNsNsNsN}",
                "loglevel", str_or_none(log_level_name(c->log_level)),
                "errorlog", str_or_none(c->errorlog ? c->errorlog : "-"),
                "accesslog", str_or_none(c->accesslog),
                "access_log_format", str_or_none(c->access_log_format ? c->access_log_format
                                                                      : ACCESS_DEFAULT_FORMAT));
        if (!logging || PyDict_Update(d, logging) < 0)
                return -1;
        if (!secure || PyDict_SetItemString(d, "secure_scheme_headers", secure) < 0 ||
            hooks_add_settings(d) < 0)
                return -1;
        *ret = TAKE_PTR(d);
        return 0;
}

int settings_print(const Config *c) {
        _cleanup_pyobj_ PyObject *d = NULL, *text = NULL;
        if (settings_dict(c, &d) < 0 || hooks_format_settings(d, &text) < 0) {
                python_print_exception();
                return log_error_errno(EIO, "Failed to print the configuration.");
        }
        const char *s = PyUnicode_AsUTF8(text);
        if (!s) {
                python_print_exception();
                return log_error_errno(EIO, "Failed to print the configuration.");
        }
        printf("%s\n", s);
        fflush(stdout);
        return 0;
}
