/* filewrap.h: wsgi.file_wrapper (PEP 3333 "Optional Platform-Specific File
 * Handling"): a C type, called by the app as
 * wsgi.file_wrapper(filelike, blksize=8192).
 *
 * As an iterable it yields filelike.read(blksize) until b""; close() calls
 * filelike.close() when there is one.  When the app returns one whose
 * filelike has a fileno() that is a regular file open for reading,
 * filewrap_file() hands wsgi.c a descriptor of it, and the body goes out
 * with sendfile(2) (output.c) instead of through Python.
 *
 * Not here: the response framing (wsgi.c decides the length). */
#pragma once

#include <sys/types.h>

#include "python.h"

int filewrap_type_ready(void);
/* The type, borrowed: the value of wsgi.file_wrapper. */
PyObject *filewrap_type(void);
/* When result is exactly a file wrapper over a regular file: 1, with a new
 * descriptor of it (close-on-exec, the caller's), the offset to send from
 * (the file object's tell(), else the descriptor's offset) and the file's
 * size.  0 when it is anything else (iterate it).  Never raises: a
 * fileno() or tell() that fails means "iterate". */
int filewrap_file(PyObject *result, int *ret_fd, off_t *ret_offset, off_t *ret_size);
