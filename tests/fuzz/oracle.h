/* oracle.h: Python, embedded, as the oracle of the generator harnesses
 * (oracle.py holds the functions; see there). */
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdbool.h>
#include <stddef.h>

/* Starts the interpreter once and imports oracle.py; aborts on failure. */
void oracle_init(void);
/* oracle.<func>(*args): a new reference; aborts if the call itself raised
 * (the oracle turns the errors it expects into return values). */
PyObject *oracle_call(const char *func, PyObject *args /* stolen */);
/* Aborts with both sides printed when they differ: the harnesses' one
 * way to report a mismatch (libFuzzer keeps the input as a crash). */
void oracle_mismatch(const char *what, const char *input, size_t len, const char *ours, PyObject *theirs)
        __attribute__((noreturn));
/* Whether s[0..len) is valid UTF-8: the generator's INI reader refuses any
 * other line, so no value that reaches the other modules is anything else,
 * and Python reads characters where C reads bytes. */
bool oracle_utf8(const char *s, size_t len);
