/* wsgi.h: one request through the WSGI application (PEP 3333).
 *
 * Builds the environ, calls the app (in exactly one place, wsgi.c's
 * call_app()), checks what start_response() is given, and turns the
 * iterable into response bytes on the connection's output queue:
 * Content-Length when the app gives it or the body is a list/tuple, else
 * chunked on HTTP/1.1 and close-delimited on 1.0; nothing of a HEAD body.
 * A status or header the app should not have produced (CR, LF, NUL, a
 * non-token name) becomes a 500; never a word of it reaches the wire.
 *
 * Each request ends with its access log entry (access.h), when that is on.
 * wsgi.file_wrapper over a regular file goes out with sendfile(2).
 *
 * Not done yet: threads. */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"
#include "http.h"
#include "output.h"
#include "python.h"

typedef struct WsgiConn {
        int fd;
        OutQueue *out;
        const struct sockaddr_storage *peer;
} WsgiConn;

/* app: borrowed, kept for the worker's life. */
int wsgi_init(PyObject *app, const Config *c);
void wsgi_done(void);

/* Answers req on wc->out (flushing as it goes when a body is large).
 * Returns whether the connection may carry another request. */
bool wsgi_handle(const HttpRequest *req, const WsgiConn *wc);
