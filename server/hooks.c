/* hooks.c: see hooks.h.  The stand-ins (Log, Server, Worker, Request,
 * Response) are a few lines of Python run once in a private module,
 * "_unitcorn": they are only built when a hook is defined, and never on
 * the request path otherwise.  Reference ownership: the module-level
 * objects below are owned; every other PyObject * local is released in
 * its function. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"
#include "settings.h"
#include "strbuf.h"

typedef enum HookId {
        HOOK_ON_STARTING,
        HOOK_ON_RELOAD,
        HOOK_WHEN_READY,
        HOOK_PRE_FORK,
        HOOK_POST_FORK,
        HOOK_POST_WORKER_INIT,
        HOOK_WORKER_INT,
        HOOK_WORKER_ABORT,
        HOOK_PRE_EXEC,
        HOOK_PRE_REQUEST,
        HOOK_POST_REQUEST,
        HOOK_CHILD_EXIT,
        HOOK_WORKER_EXIT,
        HOOK_NWORKERS_CHANGED,
        HOOK_ON_EXIT,
        HOOK_SSL_CONTEXT,
        _HOOK_MAX,
} HookId;

/* gunicorn's setting names, and the class whose default function
 * --print-config names when the file does not define the hook. */
static const struct {
        const char *name;
        const char *gunicorn_class;
        const char *not_run;             /* why unitcorn never calls it; NULL: it does */
} hooks[_HOOK_MAX] = {
        [HOOK_ON_STARTING]      = { "on_starting",      "OnStarting" },
        [HOOK_ON_RELOAD]        = { "on_reload",        "OnReload" },
        [HOOK_WHEN_READY]       = { "when_ready",       "WhenReady" },
        [HOOK_PRE_FORK]         = { "pre_fork",         "Prefork" },
        [HOOK_POST_FORK]        = { "post_fork",        "Postfork" },
        [HOOK_POST_WORKER_INIT] = { "post_worker_init", "PostWorkerInit" },
        [HOOK_WORKER_INT]       = { "worker_int",       "WorkerInt",
                                    "workers handle SIGINT/SIGQUIT in C" },
        [HOOK_WORKER_ABORT]     = { "worker_abort",     "WorkerAbort" },
        [HOOK_PRE_EXEC]         = { "pre_exec",         "PreExec",
                                    "there is no USR2 re-exec; use a systemd restart" },
        [HOOK_PRE_REQUEST]      = { "pre_request",      "PreRequest" },
        [HOOK_POST_REQUEST]     = { "post_request",     "PostRequest" },
        [HOOK_CHILD_EXIT]       = { "child_exit",       "ChildExit" },
        [HOOK_WORKER_EXIT]      = { "worker_exit",      "WorkerExit" },
        [HOOK_NWORKERS_CHANGED] = { "nworkers_changed", "NumWorkersChanged",
                                    "there is no TTIN/TTOU" },
        [HOOK_ON_EXIT]          = { "on_exit",          "OnExit" },
        [HOOK_SSL_CONTEXT]      = { "ssl_context",      "NewSSLContext",
                                    "unitcorn does not terminate TLS" },
};

bool hooks_per_request;

static PyObject *fns[_HOOK_MAX];         /* the file's callables; NULL: not defined */
static bool any_called;                  /* a hook unitcorn calls is defined */
static PyObject *module;                 /* _unitcorn's dict */
static PyObject *cfg, *log_obj, *server, *worker;
static bool worker_exited;

static const char python_source[] =
        "import sys, traceback, types\n"
        "LEVELS = ((50, 2), (40, 3), (30, 4), (20, 6), (10, 7))\n"
        "class Log:\n"
        "    '''server.log, worker.log: gunicorn's logger methods, into unitcorn's log.'''\n"
        "    def __init__(self, emit):\n"
        "        self._emit = emit\n"
        "    def _log(self, prio, msg, args, exc_info=None, **kwargs):\n"
        "        text = str(msg)\n"
        "        if args:\n"
        "            if len(args) == 1 and isinstance(args[0], dict) and args[0]:\n"
        "                args = args[0]\n"
        "            text = text % args\n"
        "        if exc_info:\n"
        "            if isinstance(exc_info, BaseException):\n"
        "                exc_info = (type(exc_info), exc_info, exc_info.__traceback__)\n"
        "            elif not isinstance(exc_info, tuple):\n"
        "                exc_info = sys.exc_info()\n"
        "            if exc_info[0] is not None:\n"
        "                text += '\\n' + ''.join(traceback.format_exception(*exc_info)).rstrip('\\n')\n"
        "        self._emit(prio, text)\n"
        "    def critical(self, msg, *args, **kwargs): self._log(2, msg, args, **kwargs)\n"
        "    def error(self, msg, *args, **kwargs): self._log(3, msg, args, **kwargs)\n"
        "    def warning(self, msg, *args, **kwargs): self._log(4, msg, args, **kwargs)\n"
        "    warn = warning\n"
        "    def info(self, msg, *args, **kwargs): self._log(6, msg, args, **kwargs)\n"
        "    def debug(self, msg, *args, **kwargs): self._log(7, msg, args, **kwargs)\n"
        "    def exception(self, msg, *args, exc_info=True, **kwargs):\n"
        "        self._log(3, msg, args, exc_info=exc_info, **kwargs)\n"
        "    def log(self, level, msg, *args, **kwargs):\n"
        "        self._log(next((p for l, p in LEVELS if level >= l), 7), msg, args, **kwargs)\n"
        "class Config(types.SimpleNamespace):\n"
        "    '''cfg: the settings as attributes, as gunicorn's Config.'''\n"
        "class Server:\n"
        "    '''The stand-in for gunicorn's Arbiter.'''\n"
        "    def __init__(self, pid, cfg, log, address):\n"
        "        self.pid, self.cfg, self.log, self.address = pid, cfg, log, address\n"
        "        self.num_workers, self.proc_name = cfg.workers, cfg.proc_name\n"
        "    def __repr__(self):\n"
        "        return '<unitcorn.Server pid=%s>' % self.pid\n"
        "class Worker:\n"
        "    '''The stand-in for gunicorn's Worker.'''\n"
        "    def __init__(self, age, pid, ppid, cfg, log):\n"
        "        self.age, self.pid, self.ppid, self.cfg, self.log = age, pid, ppid, cfg, log\n"
        "        self.booted, self.alive = False, True\n"
        "        self.timeout, self.max_requests = cfg.timeout, cfg.max_requests\n"
        "    def __repr__(self):\n"
        "        return '<unitcorn.Worker pid=%s>' % self.pid\n"
        "class Request(types.SimpleNamespace):\n"
        "    '''The stand-in for gunicorn's Request.'''\n"
        "class Response(types.SimpleNamespace):\n"
        "    '''The stand-in for gunicorn's Response, after it was sent.'''\n"
        "def default_hook(qualname):\n"
        "    def hook(*args):\n"
        "        pass\n"
        "    hook.__qualname__ = qualname\n"
        "    return hook\n"
        "def format_settings(settings):\n"
        "    kmax = max(len(k) for k in settings)\n"
        "    lines = []\n"
        "    for k in sorted(settings):\n"
        "        v = settings[k]\n"
        "        if callable(v):\n"
        "            v = '<{}()>'.format(v.__qualname__)\n"
        "        lines.append('{k:{kmax}} = {v}'.format(k=k, v=v, kmax=kmax))\n"
        "    return '\\n'.join(lines)\n";

static PyObject *emit(PyObject *self, PyObject *args) {
        int prio;
        const char *text;
        if (!PyArg_ParseTuple(args, "is:emit", &prio, &text))
                return NULL;
        log_full(prio, 0, "%s", text);
        Py_RETURN_NONE;
}

static PyMethodDef emit_def = { "emit", emit, METH_VARARGS, NULL };

/* The _unitcorn module's dict (borrowed), made on first use. */
static PyObject *get_module(void) {
        if (module)
                return module;
        _cleanup_pyobj_ PyObject *m = PyModule_New("_unitcorn");
        if (!m)
                return NULL;
        PyObject *dict = PyModule_GetDict(m);                          /* borrowed */
        _cleanup_pyobj_ PyObject *code = Py_CompileString(python_source, "<unitcorn hooks>", Py_file_input);
        _cleanup_pyobj_ PyObject *fn = PyCFunction_New(&emit_def, NULL);
        if (!code || !fn || PyDict_SetItemString(dict, "__builtins__", PyEval_GetBuiltins()) < 0 ||
            PyDict_SetItemString(dict, "emit", fn) < 0)
                return NULL;
        _cleanup_pyobj_ PyObject *r = PyEval_EvalCode(code, dict, dict);
        if (!r)
                return NULL;
        module = Py_NewRef(dict);
        return module;
}

/* A new reference to _unitcorn.NAME(*args, **kwargs). */
static PyObject *make(const char *name, PyObject *args, PyObject *kwargs) {
        PyObject *m = get_module();                                     /* borrowed */
        PyObject *type = m ? PyDict_GetItemString(m, name) : NULL;      /* borrowed */
        if (!type)
                return NULL;
        _cleanup_pyobj_ PyObject *empty = args ? NULL : PyTuple_New(0);
        return PyObject_Call(type, args ? args : empty, kwargs);
}

int hooks_load(PyObject *ns, const char *path) {
        for (size_t i = 0; i < _HOOK_MAX; i++) {
                PyObject *v = PyDict_GetItemString(ns, hooks[i].name);   /* borrowed */
                if (!v || v == Py_None)
                        continue;
                if (!PyCallable_Check(v))
                        return log_error_errno(EINVAL, "%s: setting '%s': a callable expected, not %s.",
                                               path, hooks[i].name, Py_TYPE(v)->tp_name);
                Py_XSETREF(fns[i], Py_NewRef(v));
                if (hooks[i].not_run)
                        log_notice("%s: server hook '%s' is accepted but never called: %s.",
                                   path, hooks[i].name, hooks[i].not_run);
                else
                        any_called = true;
        }
        hooks_per_request = fns[HOOK_PRE_REQUEST] || fns[HOOK_POST_REQUEST];
        return 0;
}

int hooks_add_settings(PyObject *settings) {
        for (size_t i = 0; i < _HOOK_MAX; i++) {
                if (fns[i]) {
                        if (PyDict_SetItemString(settings, hooks[i].name, fns[i]) < 0)
                                return -1;
                        continue;
                }
                _cleanup_pyobj_ PyObject *args = Py_BuildValue("(s)", "");
                _cleanup_pyobj_ PyObject *qualname = PyUnicode_FromFormat("%s.%s", hooks[i].gunicorn_class,
                                                                          hooks[i].name);
                if (!args || !qualname || PyTuple_SetItem(args, 0, Py_NewRef(qualname)) < 0)
                        return -1;
                _cleanup_pyobj_ PyObject *d = make("default_hook", args, NULL);
                if (!d || PyDict_SetItemString(settings, hooks[i].name, d) < 0)
                        return -1;
        }
        return 0;
}

int hooks_format_settings(PyObject *settings, PyObject **ret_text) {
        _cleanup_pyobj_ PyObject *args = PyTuple_Pack(1, settings);
        PyObject *text = args ? make("format_settings", args, NULL) : NULL;
        if (!text)
                return -1;
        *ret_text = text;
        return 0;
}

/* Calls hook id with the arguments (NULL-terminated).  Returns 0, or -1
 * with the exception logged; 0 too when the hook is not defined. */
static int call(HookId id, ...) {
        if (!fns[id])
                return 0;
        PyObject *args[4];
        size_t n = 0;
        va_list ap;
        va_start(ap, id);
        for (PyObject *a; n < ELEMENTSOF(args) && (a = va_arg(ap, PyObject *)); )
                args[n++] = a;
        va_end(ap);
        _cleanup_pyobj_ PyObject *r = PyObject_Vectorcall(fns[id], args, n, NULL);
        if (r)
                return 0;
        log_error("Exception in the %s hook:", hooks[id].name);
        python_print_exception();
        return -1;
}

static void report(const char *what) {
        log_error("Failed to set up the server hooks' objects (%s):", what);
        python_print_exception();
}

/* server.address: what the socket is bound to, as -b spells it (a
 * socket-activated one's systemd name says nothing about that). */
static const char *address_name(int fd, char *buf, size_t size) {
        struct sockaddr_storage sa = {0};
        socklen_t len = sizeof sa;
        char host[INET6_ADDRSTRLEN] = "";
        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                snprintf(buf, size, "fd:%d", fd);
        else if (sa.ss_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) &sa;
                inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
                snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
        } else if (sa.ss_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) &sa;
                inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
                snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
        } else if (sa.ss_family == AF_UNIX) {
                const struct sockaddr_un *un = (const struct sockaddr_un *) &sa;
                size_t n = len > offsetof(struct sockaddr_un, sun_path) ?
                        len - offsetof(struct sockaddr_un, sun_path) : 0;
                n = strnlen(un->sun_path, MIN(n, sizeof un->sun_path));
                snprintf(buf, size, "unix:%.*s", (int) n, un->sun_path);
        } else
                snprintf(buf, size, "fd:%d", fd);
        return buf;
}

int hooks_master_start(const Config *c, const Listeners *ls) {
        if (!any_called)
                return 0;
        _cleanup_pyobj_ PyObject *settings = NULL;
        if (settings_dict(c, &settings) < 0) {
                report("settings");
                return -1;
        }
        /* gunicorn's cfg.proc_name is the effective name */
        _cleanup_pyobj_ PyObject *name = PyUnicode_FromString(c->proc_name ? c->proc_name : c->app);
        _cleanup_pyobj_ PyObject *address = PyList_New(0);
        if (!name || !address || PyDict_SetItemString(settings, "proc_name", name) < 0) {
                report("settings");
                return -1;
        }
        for (size_t i = 0; i < ls->n; i++) {
                char buf[PATH_MAX + 8];
                _cleanup_pyobj_ PyObject *s = PyUnicode_FromString(address_name(ls->items[i].fd, buf, sizeof buf));
                if (!s || PyList_Append(address, s) < 0) {
                        report("addresses");
                        return -1;
                }
        }
        PyObject *m = get_module();                                     /* borrowed */
        _cleanup_pyobj_ PyObject *args = m ? Py_BuildValue("(O)", PyDict_GetItemString(m, "emit")) : NULL;
        cfg = make("Config", NULL, settings);
        log_obj = args ? make("Log", args, NULL) : NULL;
        _cleanup_pyobj_ PyObject *sargs = cfg && log_obj ?
                Py_BuildValue("(iOOO)", (int) getpid(), cfg, log_obj, address) : NULL;
        server = sargs ? make("Server", sargs, NULL) : NULL;
        if (!server) {
                report("server");
                return -1;
        }
        return 0;
}

int hooks_on_starting(void) {
        return call(HOOK_ON_STARTING, server, NULL);
}

int hooks_when_ready(void) {
        return call(HOOK_WHEN_READY, server, NULL);
}

void hooks_on_reload(void) {
        (void) call(HOOK_ON_RELOAD, server, NULL);
}

void hooks_on_exit(void) {
        (void) call(HOOK_ON_EXIT, server, NULL);
}

/* A Worker stand-in (new reference); pid as gunicorn has it. */
static PyObject *worker_new(unsigned age, PyObject *pid) {
        _cleanup_pyobj_ PyObject *args = Py_BuildValue("(IOiOO)", age, pid, (int) getppid(), cfg, log_obj);
        PyObject *w = args ? make("Worker", args, NULL) : NULL;
        if (!w)
                report("worker");
        return w;
}

void hooks_pre_fork(unsigned age) {
        if (!fns[HOOK_PRE_FORK])
                return;
        /* gunicorn's worker has no pid yet at pre_fork: "[booting]" */
        _cleanup_pyobj_ PyObject *pid = PyUnicode_FromString("[booting]");
        _cleanup_pyobj_ PyObject *w = pid ? worker_new(age, pid) : NULL;
        if (w) {
                /* the master is the worker's parent-to-be */
                _cleanup_pyobj_ PyObject *ppid = PyLong_FromLong((long) getpid());
                if (!ppid || PyObject_SetAttrString(w, "ppid", ppid) < 0)
                        PyErr_Clear();
                (void) call(HOOK_PRE_FORK, server, w, NULL);
        }
}

void hooks_child_exit(pid_t pid, unsigned age) {
        if (!fns[HOOK_CHILD_EXIT])
                return;
        _cleanup_pyobj_ PyObject *p = PyLong_FromLong((long) pid);
        _cleanup_pyobj_ PyObject *w = p ? worker_new(age, p) : NULL;
        if (w) {
                _cleanup_pyobj_ PyObject *ppid = PyLong_FromLong((long) getpid());
                if (!ppid || PyObject_SetAttrString(w, "ppid", ppid) < 0)
                        PyErr_Clear();
                (void) call(HOOK_CHILD_EXIT, server, w, NULL);
        }
}

int hooks_post_fork(unsigned age) {
        if (!any_called)
                return 0;
        _cleanup_pyobj_ PyObject *pid = PyLong_FromLong((long) getpid());
        worker = pid ? worker_new(age, pid) : NULL;
        if (!worker)
                return -1;
        return call(HOOK_POST_FORK, server, worker, NULL);
}

int hooks_post_worker_init(void) {
        if (!worker)
                return 0;
        if (call(HOOK_POST_WORKER_INIT, worker, NULL) < 0)
                return -1;
        if (PyObject_SetAttrString(worker, "booted", Py_True) < 0)
                PyErr_Clear();
        return 0;
}

void hooks_worker_exit(void) {
        if (!worker || worker_exited || !Py_IsInitialized())
                return;
        worker_exited = true;
        if (PyObject_SetAttrString(worker, "alive", Py_False) < 0)
                PyErr_Clear();
        (void) call(HOOK_WORKER_EXIT, server, worker, NULL);
}

/* The Python-level handler of the stack-dump signal: faulthandler chains
 * to it after the dump, and Python runs it in the main thread at the next
 * bytecode (or when a blocking call is interrupted), before the SIGKILL
 * the master sends a second later.  It never raises into the app. */
static PyObject *on_abort_signal(PyObject *self, PyObject *args) {
        (void) call(HOOK_WORKER_ABORT, worker, NULL);
        Py_RETURN_NONE;
}

static PyMethodDef abort_def = { "worker_abort", on_abort_signal, METH_VARARGS, NULL };

bool hooks_install_abort(int sig) {
        if (!worker || !fns[HOOK_WORKER_ABORT])
                return false;
        _cleanup_pyobj_ PyObject *signal = PyImport_ImportModule("signal");
        _cleanup_pyobj_ PyObject *handler = PyCFunction_New(&abort_def, NULL);
        _cleanup_pyobj_ PyObject *r = signal && handler ?
                PyObject_CallMethod(signal, "signal", "iO", sig, handler) : NULL;
        if (!r) {
                log_warning("Failed to install the worker_abort hook's signal handler, ignoring:");
                python_print_exception();
                return false;
        }
        return true;
}

static PyObject *latin1(const char *s, size_t n) {
        return PyUnicode_DecodeLatin1(s, (Py_ssize_t) n, NULL);
}

/* gunicorn's Request: the target split as it splits it, header names in
 * upper case, the peer as (host, port) or the UNIX socket's "" name. */
static PyObject *request_new(const HttpRequest *req, const struct sockaddr_storage *peer, bool https) {
        const char *uri = http_req_str(req, 0);
        size_t n = req->target_len;
        const char *hash = memchr(uri, '#', n);
        size_t before_hash = hash ? (size_t) (hash - uri) : n;
        const char *q = memchr(uri, '?', before_hash);
        size_t path_len = q ? (size_t) (q - uri) : before_hash;
        _cleanup_pyobj_ PyObject *headers = PyList_New(0);
        if (!headers)
                return NULL;
        for (size_t i = 0; i < req->n_headers; i++) {
                const HttpHeader *h = &req->headers[i];
                _cleanup_pyobj_ PyObject *name = latin1(http_req_str(req, h->name), h->name_len);
                _cleanup_pyobj_ PyObject *upper = name ? PyObject_CallMethod(name, "upper", NULL) : NULL;
                _cleanup_pyobj_ PyObject *value = latin1(http_req_str(req, h->value), h->value_len);
                _cleanup_pyobj_ PyObject *pair = upper && value ? PyTuple_Pack(2, upper, value) : NULL;
                if (!pair || PyList_Append(headers, pair) < 0)
                        return NULL;
        }
        char host[INET6_ADDRSTRLEN] = "";
        int port = 0;
        if (peer->ss_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) peer;
                inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
                port = ntohs(in->sin_port);
        } else if (peer->ss_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) peer;
                inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
                port = ntohs(in6->sin6_port);
        }
        _cleanup_pyobj_ PyObject *remote = peer->ss_family == AF_UNIX ? PyUnicode_FromString("") :
                Py_BuildValue("(si)", host, port);
        _cleanup_pyobj_ PyObject *kwargs = Py_BuildValue(
                "{sssNsNsNsNs(ii)sOsssO}",
                "method", llhttp_method_name(req->method),
                "uri", latin1(uri, n),
                "path", latin1(uri, path_len),
                "query", q ? latin1(q + 1, before_hash - path_len - 1) : PyUnicode_FromString(""),
                "fragment", hash ? latin1(hash + 1, n - before_hash - 1) : PyUnicode_FromString(""),
                "version", (int) req->major, (int) req->minor,
                "headers", headers,
                "scheme", https ? "https" : "http",
                "remote_addr", remote ? remote : Py_None);
        return kwargs ? make("Request", NULL, kwargs) : NULL;
}

int hooks_pre_request(const HttpRequest *req, const struct sockaddr_storage *peer, bool https,
                      PyObject **ret_req) {
        *ret_req = NULL;
        if (!worker)
                return 0;
        PyObject *r = request_new(req, peer, https);
        if (!r) {
                log_error("Failed to build the request for the pre_request/post_request hooks:");
                python_print_exception();
                return -1;
        }
        *ret_req = r;
        return call(HOOK_PRE_REQUEST, worker, r, NULL);
}

void hooks_post_request(PyObject *hreq, PyObject *environ, PyObject *status, PyObject *headers,
                        unsigned long long sent) {
        _cleanup_pyobj_ PyObject *current_req = hreq;
        if (!worker || !current_req || !fns[HOOK_POST_REQUEST])
                return;
        _cleanup_pyobj_ PyObject *st = status ? Py_NewRef(status) :
                PyUnicode_FromString("500 Internal Server Error");
        long code = 0;
        Py_ssize_t len;
        const char *s = st ? PyUnicode_AsUTF8AndSize(st, &len) : NULL;
        if (s && len >= 3)
                code = strtol(s, NULL, 10);
        PyErr_Clear();
        /* response_length: the Content-Length sent, else None */
        _cleanup_pyobj_ PyObject *length = Py_NewRef(Py_None);
        _cleanup_pyobj_ PyObject *hdrs = headers ? PySequence_List(headers) : PyList_New(0);
        for (Py_ssize_t i = 0; hdrs && i < PyList_GET_SIZE(hdrs); i++) {
                PyObject *h = PyList_GET_ITEM(hdrs, i);                    /* borrowed */
                PyObject *k = PyTuple_Check(h) && PyTuple_GET_SIZE(h) == 2 ? PyTuple_GET_ITEM(h, 0) : NULL;
                const char *ks = k && PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : NULL;
                if (ks && strcasecmp(ks, "content-length") == 0)
                        Py_XSETREF(length, PyLong_FromUnicodeObject(PyTuple_GET_ITEM(h, 1), 10));
                PyErr_Clear();
        }
        _cleanup_pyobj_ PyObject *kwargs = st && hdrs ?
                Py_BuildValue("{sOslsOsKsO}", "status", st, "status_code", code, "headers", hdrs,
                              "sent", sent, "response_length", length ? length : Py_None) : NULL;
        _cleanup_pyobj_ PyObject *resp = kwargs ? make("Response", NULL, kwargs) : NULL;
        _cleanup_pyobj_ PyObject *env = environ ? Py_NewRef(environ) : PyDict_New();
        if (!resp || !env) {
                log_error("Failed to build the response for the post_request hook:");
                python_print_exception();
        } else
                (void) call(HOOK_POST_REQUEST, worker, current_req, env, resp, NULL);
}
