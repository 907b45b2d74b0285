/* input.h: wsgi.input (PEP 3333 "Input and Error Streams"): read(size),
 * readline(size), readlines(hint), iteration, over a request body that is
 * either in memory (small bodies: the bytes are handed out as they are)
 * or in its spool file (http.h: SPOOL_THRESHOLD), read with pread(2) in
 * pieces of INPUT_READ_PIECE bytes, so that reading a large body by
 * read(n), readline() or iteration keeps memory bounded; read() without a
 * size (or a line without a newline) is as large as the app asks.
 *
 * The body is complete before the app runs (de-chunked when it came
 * chunked), which is why wsgi.c can say wsgi.input_terminated.
 *
 * Not done yet: reading the body lazily from the socket while the app
 * runs. */
#pragma once

#include "http.h"
#include "python.h"

int input_type_ready(void);
/* A new reference: an Input over req's body, a copy of it in memory, or a
 * dup() of its spool file (the Input outlives the request if the app keeps
 * it). */
PyObject *input_from_request(const HttpRequest *req);
