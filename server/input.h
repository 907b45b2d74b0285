/* input.h: wsgi.input (PEP 3333 "Input and Error Streams"): read(size),
 * readline(size), readlines(hint), iteration, over a request body held in
 * memory.
 *
 * The body is complete before the app runs (de-chunked when it came
 * chunked), which is why wsgi.c can say wsgi.input_terminated.
 *
 * Not done yet: spooling large bodies to a memfd, reading the body lazily
 * from the socket while the app runs. */
#pragma once

#include "python.h"

int input_type_ready(void);
/* A new reference: an Input over a copy of data. */
PyObject *input_new(const char *data, size_t len);
