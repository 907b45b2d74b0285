/* python.c: see python.h. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pylog.h"
#include "python.h"
#include "server-config.h"
#include "strbuf.h"

static bool initialized;
static PyObject *preloaded;
static char *venv_python;         /* DIR/bin/python3 of the virtualenv; NULL: none */

static bool is_dir(const char *path) {
        struct stat st;
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int python_use_virtualenv(const char *dir) {
        _cleanup_free_ char *cfg = xstrjoin(dir, "/pyvenv.cfg", NULL);
        _cleanup_free_ char *exe = xstrjoin(dir, "/bin/python3", NULL);
        _cleanup_free_ char *site = xasprintf("%s/lib/python%d.%d/site-packages", dir,
                                              PY_MAJOR_VERSION, PY_MINOR_VERSION);
        if (!is_dir(dir))
                return log_error_errno(ENOENT, "Virtualenv '%s' is not a directory.", dir);
        if (access(cfg, F_OK) < 0)
                return log_error_errno(EINVAL, "'%s' is not a virtualenv: it has no pyvenv.cfg.", dir);
        if (access(exe, X_OK) < 0)
                return log_error_errno(EINVAL, "'%s' is not a usable virtualenv: it has no bin/python3.", dir);
        if (!is_dir(site))
                return log_error_errno(EINVAL, "Virtualenv '%s' was made for another Python: it has no "
                                       "lib/python%d.%d/site-packages, and unitcorn embeds Python %d.%d.",
                                       dir, PY_MAJOR_VERSION, PY_MINOR_VERSION, PY_MAJOR_VERSION, PY_MINOR_VERSION);
        free(venv_python);
        venv_python = TAKE_PTR(exe);
        return 0;
}

/* sys.path.insert(0, dir) */
static int sys_path_insert(PyObject *path, const char *dir) {
        _cleanup_pyobj_ PyObject *s = PyUnicode_DecodeFSDefault(dir);
        if (!s || PyList_Insert(path, 0, s) < 0)
                return -1;
        return 0;
}

int python_start(const char *app) {
        if (initialized)
                return 0;
        PyConfig config;
        PyConfig_InitPythonConfig(&config);

        /* Signals belong to the master and workers, not to Python: no
         * KeyboardInterrupt handler on SIGINT. */
        config.install_signal_handlers = 0;
        config.parse_argv = 0;
        /* Under systemd stdout/stderr are the journal: unbuffered, so an
         * app's print() arrives when it happens, not when a worker exits. */
        config.buffered_stdio = 0;

        /* A virtualenv's python: the path computation finds its
         * pyvenv.cfg next to it, as when that python runs. */
        const char *exe = venv_python ? venv_python : UNITCORN_PYTHON_EXECUTABLE;
        PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, exe);
        if (!PyStatus_Exception(st) && venv_python)
                st = PyConfig_SetBytesString(&config, &config.executable, exe);
        if (!PyStatus_Exception(st))
                st = PyConfig_SetBytesArgv(&config, 1, (char *[]) { (char *) (app ? app : ""), NULL });
        if (!PyStatus_Exception(st))
                st = Py_InitializeFromConfig(&config);
        PyConfig_Clear(&config);
        if (PyStatus_Exception(st))
                return log_error_errno(EIO, "Failed to initialise Python: %s%s%s",
                                       st.func ? st.func : "", st.func ? ": " : "",
                                       st.err_msg ? st.err_msg : "?");
        initialized = true;
        return 0;
}

int python_init(const Config *c) {
        int r = python_start(c->app);
        if (r < 0)
                return r;

        _cleanup_pyobj_ PyObject *argv = Py_BuildValue("[s]", c->app ? c->app : "");
        if (!argv || PySys_SetObject("argv", argv) < 0)
                goto fail;

        /* -e KEY=VALUE: gunicorn sets os.environ in the master (which
         * putenv()s, so the workers inherit it) before loading the app. */
        if (c->raw_env) {
                _cleanup_pyobj_ PyObject *os = PyImport_ImportModule("os");
                _cleanup_pyobj_ PyObject *environ = os ? PyObject_GetAttrString(os, "environ") : NULL;
                if (!environ)
                        goto fail;
                for (size_t i = 0; c->raw_env[i]; i++) {
                        const char *eq = strchr(c->raw_env[i], '=');
                        _cleanup_pyobj_ PyObject *k = PyUnicode_DecodeFSDefaultAndSize(c->raw_env[i],
                                                                                     eq - c->raw_env[i]);
                        _cleanup_pyobj_ PyObject *v = PyUnicode_DecodeFSDefault(eq + 1);
                        if (!k || !v || PyObject_SetItem(environ, k, v) < 0)
                                goto fail;
                }
        }

        /* gunicorn: the working directory (after --chdir) first, the
         * --pythonpath entries before it. */
        PyObject *path = PySys_GetObject("path");   /* borrowed */
        char cwd[PATH_MAX];
        if (!path || !getcwd(cwd, sizeof cwd) || sys_path_insert(path, cwd) < 0)
                goto fail;
        for (size_t i = strv_length(c->pythonpath); i > 0; i--)
                if (sys_path_insert(path, c->pythonpath[i - 1]) < 0)
                        goto fail;
        return 0;
fail:
        python_print_exception();
        return log_error_errno(EIO, "Failed to set up sys.argv, os.environ or sys.path.");
}

void python_print_exception(void) {
        /* one message (one journal entry), at error priority */
        pylog_exception(LOG_ERR, NULL);
}

static bool is_identifier(const char *s, size_t n) {
        if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || (unsigned char) s[i] >= 0x80))
                        return false;
        return true;
}

int python_load_app(const char *spec, PyObject **ret_app) {
        const char *colon = strchr(spec, ':');
        _cleanup_free_ char *module_name = colon ? strndup(spec, (size_t) (colon - spec)) : xstrdup(spec);
        const char *obj = colon ? colon + 1 : "application";
        if (!module_name)
                return log_error_errno(ENOMEM, "Out of memory.");

        /* gunicorn accepts a name or a call of a name; calls with arguments
         * (gunicorn evaluates literal arguments) are not supported yet. */
        size_t n = strlen(obj);
        bool call = n >= 2 && streq(obj + n - 2, "()");
        if (call)
                n -= 2;
        if (!is_identifier(obj, n))
                return log_error_errno(EINVAL, "Failed to parse '%s' as an attribute name or function call.", obj);
        _cleanup_free_ char *name = strndup(obj, n);
        if (!name)
                return log_error_errno(ENOMEM, "Out of memory.");

        _cleanup_pyobj_ PyObject *module = PyImport_ImportModule(module_name);
        if (!module) {
                python_print_exception();
                return log_error_errno(EINVAL, "Failed to import application module '%s'.", module_name);
        }
        _cleanup_pyobj_ PyObject *app = PyObject_GetAttrString(module, name);
        if (!app) {
                PyErr_Clear();
                return log_error_errno(EINVAL, "Failed to find attribute '%s' in '%s'.", name, module_name);
        }
        if (call) {
                PyObject *made = PyObject_CallNoArgs(app);
                if (!made) {
                        python_print_exception();
                        return log_error_errno(EINVAL, "Failed to call application factory '%s'.", obj);
                }
                Py_SETREF(app, made);
        }
        if (app == Py_None)
                return log_error_errno(EINVAL, "Application factory '%s' returned None.", obj);
        if (!PyCallable_Check(app))
                return log_error_errno(EINVAL, "Application object '%s' must be callable.", obj);
        *ret_app = TAKE_PTR(app);
        return 0;
}

int python_preload_app(const char *spec) {
        Py_CLEAR(preloaded);
        return python_load_app(spec, &preloaded);
}

PyObject *python_preloaded_app(void) {
        Py_XINCREF(preloaded);
        return preloaded;
}

bool python_initialized(void) {
        return initialized;
}

void python_before_fork(void) {
        if (initialized)
                PyOS_BeforeFork();
}

void python_after_fork_parent(void) {
        if (initialized)
                PyOS_AfterFork_Parent();
}

int python_after_fork_child(const Config *c) {
        if (initialized) {
                PyOS_AfterFork_Child();
                return 0;
        }
        /* The master had no use for Python (no -c file, no --preload): it
         * stays small, and each worker starts its own interpreter. */
        if (python_init(c) < 0 || pylog_setup() < 0)
                return -1;
        return 0;
}

void python_finalize(void) {
        if (initialized)
                Py_CLEAR(preloaded);
        free(venv_python);
        venv_python = NULL;
        if (initialized && Py_FinalizeEx() < 0)
                log_warning("Failed to flush Python's buffered data at exit, ignoring.");
        initialized = false;
}
