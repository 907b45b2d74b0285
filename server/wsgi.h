/* wsgi.h: one request through the WSGI application (PEP 3333).
 *
 * Builds the environ, calls the app (in exactly one place, wsgi.c's
 * call_app()), checks what start_response() is given, and turns the
 * iterable into response bytes on the connection's output queue:
 * Content-Length when the app gives it or the body is a list/tuple, else
 * chunked on HTTP/1.1 and close-delimited on 1.0; nothing of a HEAD body.
 * A status or header the app should not have produced (CR, LF, NUL, a
 * non-token name) becomes a 500; never a word of it reaches the wire.
 * Any error of the app is a clean 500 while nothing of its response can
 * be on the wire (it is buffered up to a high-water mark); after that the
 * connection is reset, its framing unfinished (wsgi.c, respond_error()).
 *
 * Each request ends with its access log entry (access.h), when that is on.
 * wsgi.file_wrapper over a regular file goes out with sendfile(2).
 *
 * --threads N > 1 (wsgi.multithread): wsgi_thread_*() below run requests
 * in the worker's pool threads, each holding the GIL only while in Python.
 * What is per request lives in the request's Response; the objects reused
 * between requests (a spare start_response, cached str objects) are only
 * touched with the GIL held. */
#pragma once

#include <signal.h>
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
        /* A synchronous worker's heartbeat, called while a streamed body
         * waits for the client to read (not time in the app); NULL: none. */
        void (*beat)(void *data);
        void *beat_data;
        /* Set (by a signal handler) when the worker is to stop: a head
         * still to send says "Connection: close". NULL: never. */
        const volatile sig_atomic_t *stopping;
} WsgiConn;

/* app: borrowed, kept for the worker's life. */
int wsgi_init(PyObject *app, const Config *c);
void wsgi_done(void);

/* Answers req on wc->out (flushing as it goes when a body is large).
 * Returns whether the connection may carry another request. */
bool wsgi_handle(const HttpRequest *req, const WsgiConn *wc);

/* --threads: a pool thread's Python side.  wsgi_thread_new() is called in
 * the new thread (which must not hold the GIL): it gets a Python thread
 * state and returns with the GIL released.  wsgi_thread_handle() is
 * wsgi_handle() holding the GIL for the app's run only (and letting it go
 * around every write that waits); it returns without the GIL and with the
 * rest of the response on wc->out, which the caller writes, or clears, in
 * the same thread: the bytes objects it holds are released the next time
 * the thread has the GIL.  wsgi_thread_free() gives the thread state
 * back. */
typedef struct WsgiThread WsgiThread;
WsgiThread *wsgi_thread_new(void);
bool wsgi_thread_handle(WsgiThread *t, const HttpRequest *req, const WsgiConn *wc);
void wsgi_thread_free(WsgiThread *t);
