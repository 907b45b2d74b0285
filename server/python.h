/* python.h: the embedded interpreter's life cycle and loading the app.
 *
 * PyConfig initialisation, sys.argv = [the app spec] so the app's own
 * argparse never sees unitcorn's options, sys.path as gunicorn builds it
 * (--pythonpath entries, then the working directory, in front).  The
 * master starts Python only when it needs it (a -c file, whose hooks may
 * run there too, or --preload): otherwise each worker starts its own in
 * python_after_fork_child(), and the master stays a small C process (it
 * is the memory of one worker less).  Workers import the app themselves
 * (gunicorn's default), or, with --preload, use the one the master
 * imported before forking (python_preload_app()).
 * -c files are run by pyconfig.c.
 *
 * A virtualenv (--virtualenv DIR, $VIRTUAL_ENV) is honoured the way the
 * venv's own python would be: PyConfig's executable and program_name are
 * DIR/bin/python3, so the path computation finds DIR/pyvenv.cfg, sys.prefix
 * is DIR and site adds DIR's site-packages (and the system's only with
 * include-system-site-packages = true).  DIR must be a venv made for the
 * Python unitcorn embeds (its lib/pythonX.Y/site-packages must exist). */
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "config.h"

/* Checks that dir is a virtualenv for this Python and makes the
 * interpreter (not started yet) use it.  Returns 0, or a negative errno
 * after saying what is wrong. */
int python_use_virtualenv(const char *dir);
/* Starts the interpreter (once; again is a no-op) with sys.argv = [app]:
 * -c FILE needs it before the command line is final. */
int python_start(const char *app);
/* python_start(), then sys.argv = [c->app] (the app spec may have come
 * from a config file's wsgi_app), os.environ from -e, sys.path from c
 * (--pythonpath, the working directory): call it after --chdir. */
int python_init(const Config *c);
/* gunicorn's import_app(): "module:name", "module:factory()", "module"
 * (name "application").  Returns a new reference in *ret_app; on failure the
 * traceback is on stderr and the message logged. */
int python_load_app(const char *spec, PyObject **ret_app);
/* --preload: python_load_app() in the master, keeping the app for the
 * workers it forks (copy-on-write).  python_preloaded_app() returns a new
 * reference to it, NULL if none.  Dropped by python_finalize(). */
int python_preload_app(const char *spec);
PyObject *python_preloaded_app(void);
void python_before_fork(void);
void python_after_fork_parent(void);
/* In a new worker: Python's own after-fork work, or, when the master has
 * no interpreter, python_init() and the logging bridge; <0: a boot error. */
int python_after_fork_child(const Config *c);
bool python_initialized(void);
void python_finalize(void);

/* Logs the pending exception with its traceback (pylog.c: one message at
 * error priority) and clears it, without PyErr_Print()'s exit-on-SystemExit. */
void python_print_exception(void);

static inline void py_decrefp(PyObject **o) {
        Py_XDECREF(*o);
}
/* A new reference dropped at the end of the scope. */
#define _cleanup_pyobj_ __attribute__((cleanup(py_decrefp)))
