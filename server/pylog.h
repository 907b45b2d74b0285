/* pylog.h: Python's side of logging.
 *
 * Exceptions (the app's, an import's, a config file's) are formatted with
 * the traceback module and logged through log.c as ONE message: in the
 * journal one entry at PRIORITY=3, with HTTP_METHOD and HTTP_PATH when a
 * request failed.
 *
 * When stderr is the journal, pylog_setup() (before the app is imported)
 * also adds a handler to the root logger that sends each record to the
 * journal: PRIORITY from the level (CRITICAL 2, ERROR 3, WARNING 4, INFO
 * 6, DEBUG 7; levels in between round down), MESSAGE (the formatted
 * message with its traceback), CODE_FILE, CODE_LINE, CODE_FUNC, LOGGER and
 * WORKER_PID.  The root logger's level is left alone (Python's WARNING,
 * unless the app sets one).  logging.basicConfig() is then a no-op, as
 * Python documents for a root logger that has a handler, except that its
 * level= is still applied (so basicConfig(level=logging.INFO) behaves as
 * the app expects); force=True replaces our handler, as the app asked.
 * wsgi.errors becomes a small stream whose output is sent at PRIORITY=3,
 * one entry per line-terminated write() (or flush()): print(..., file=
 * wsgi.errors) is one entry, not one per word; a write without a final
 * newline waits for the next one (or flush(), or the worker's exit).
 * All this only when the server's messages go to the journal: when stderr
 * is not the journal, or --error-logfile names a file, Python's logging
 * and wsgi.errors (sys.stderr) are untouched. */
#pragma once

#include "python.h"

typedef struct HttpRequest HttpRequest;     /* http.h */

/* Call after python_init(), before the app is imported. */
int pylog_setup(void);
/* What wsgi.errors is (borrowed): the journal stream, or sys.stderr. */
PyObject *pylog_wsgi_errors(void);

/* Logs the pending Python exception (if any) at prio, after msg (if not
 * NULL), as one message; clears it. */
void pylog_exception(int prio, const char *msg);
/* "Error handling request METHOD TARGET: what" and the pending exception,
 * with HTTP_METHOD and HTTP_PATH in the journal. */
void pylog_request_error(const HttpRequest *req, const char *what);
