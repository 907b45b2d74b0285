/* wsgi.c: see wsgi.h.  Reference ownership: every PyObject * local is a
 * new reference released in the same function unless marked borrowed. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <strings.h>
#include <sys/un.h>

#include "access.h"
#include "filewrap.h"
#include "forwarded.h"
#include "hooks.h"
#include "input.h"
#include "log.h"
#include "pylog.h"
#include "pool.h"
#include "wsgi.h"

/* Queued body bytes beyond which a streaming response is pushed out to the
 * client before the app produces more: bounds a worker's memory.  Below
 * it nothing of a response is on the wire until the app is done with it,
 * so an app error is still a clean 500 (respond_error()). */
#define OUT_HIGH_WATER (256 * 1024)
/* A synchronous worker waiting in such a push beats its heartbeat this
 * often (push_sync()): a quarter of the shortest --timeout. */
#define PUSH_BEAT_MS 250

/* How long a push may wait without progress for a client that does not
 * read: --header-timeout, as the worker's loop waits for the rest of a
 * response (TIMER_SEND); -1: forever (--header-timeout 0). */
static int send_timeout_ms = -1;

static PyObject *app;                     /* owned */
static PyObject *base_environ;            /* owned: the keys common to every request */
/* --threads > 1: see "threads" below.  Set once, by wsgi_init(). */
static bool threaded;

/* Entries an environ has room for before it grows: the 18 every request
 * has, plus a browser's dozen header fields. */
#define ENVIRON_SIZE 40

/* Interned environ keys and constant values. */
#define ENVIRON_KEYS(X) \
        X(REQUEST_METHOD) X(SCRIPT_NAME) X(PATH_INFO) X(QUERY_STRING) X(RAW_URI) \
        X(CONTENT_TYPE) X(CONTENT_LENGTH) X(SERVER_NAME) X(SERVER_PORT) \
        X(SERVER_PROTOCOL) X(REMOTE_ADDR) X(REMOTE_PORT)
#define DECLARE_KEY(k) static PyObject *k_##k;
ENVIRON_KEYS(DECLARE_KEY)
static PyObject *k_wsgi_input, *k_wsgi_url_scheme;
static PyObject *v_http10, *v_http11, *v_empty, *v_port80, *v_port443, *v_localhost;
static PyObject *s_close, *s_write;        /* attribute names */
/* REQUEST_METHOD values, interned on first use, by llhttp_method_t */
static PyObject *v_methods[256];

/* obj.name, or NULL without an exception when there is none: <0 on error. */
static int lookup_attr(PyObject *obj, PyObject *name, PyObject **ret) {
#if PY_VERSION_HEX >= 0x030D0000
        return PyObject_GetOptionalAttr(obj, name, ret);
#else
        return _PyObject_LookupAttr(obj, name, ret);
#endif
}

/* ---- the response being produced ---- */

typedef struct Response {
        const HttpRequest *req;
        const WsgiConn *wc;
        PyObject *status;                 /* str, owned; NULL before start_response */
        PyObject *headers;                /* tuple of (name, value), owned */
        long long content_length;         /* the app's Content-Length, or -1 */
        unsigned long long sent;          /* body bytes queued */
        bool bad;                         /* start_response refused what it was given */
        bool head_sent;
        bool chunked;
        bool close;                       /* close the connection after this response */
        bool no_body;                     /* HEAD, 1xx, 204, 304 */
        bool failed;                      /* the client is gone, or did not read for --header-timeout */
        bool pushed;                      /* bytes of it may be on the wire: a push happened */
        bool whole;                       /* the body is a list or tuple of bytes: all in memory already */
} Response;

/* start_response and write(): points at the Response while the request
 * lasts (an app keeping it gets an error later, not a dangling pointer).
 * Called through vectorcall; its bound write() is made once.  When the
 * app kept neither, the pair is reused by the next request (responder_get(),
 * responder_put()), which saves two objects per request. */
typedef struct Responder {
        PyObject_HEAD
        vectorcallfunc vectorcall;
        Response *resp;
        PyObject *write;                  /* owned, made on first use; holds a reference to us */
} Responder;

static Responder *spare_responder;        /* owned; only touched with the GIL held */
static bool tchar[256];                   /* http_is_tchar(), as a table */

static void py_release(void *owner) {
        Py_DECREF((PyObject *) owner);
}

/* ---- threads ----
 *
 * A pool thread writes its response without the GIL, and out_flush()
 * releases each segment's owner as it goes: with threads, owners (bytes
 * objects) are put on the thread's own list instead, and released the next
 * time the thread holds the GIL (release_deferred()). */

static __thread PyObject **deferred;
static __thread size_t n_deferred, cap_deferred;

static void py_release_deferred(void *owner) {
        if (n_deferred == cap_deferred) {
                cap_deferred = cap_deferred ? cap_deferred * 2 : 16;
                deferred = xrealloc(deferred, cap_deferred * sizeof *deferred);
        }
        deferred[n_deferred++] = owner;
}

/* With the GIL. */
static void release_deferred(void) {
        for (size_t i = 0; i < n_deferred; i++)
                Py_DECREF(deferred[i]);
        n_deferred = 0;
}

/* Now: CLOCK_MONOTONIC in ms. */
static uint64_t mono_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* A synchronous worker's push: out_flush_blocking() in slices, beating
 * the worker's heartbeat after each (wc->beat), so that --timeout does not
 * take a wait for a slow client for a worker stuck in the app: the wait is
 * bounded by send_timeout_ms without progress instead.  With no such bound
 * (--header-timeout 0) there are no beats either, and --timeout stays the
 * bound of last resort. */
static int push_sync(const WsgiConn *wc) {
        if (send_timeout_ms < 0 || !wc->beat)
                return out_flush_blocking(wc->out, wc->fd, send_timeout_ms);
        uint64_t progress = mono_ms();
        for (;;) {
                size_t left = wc->out->bytes;
                int r = out_flush(wc->out, wc->fd);
                if (r != 0)
                        return r < 0 ? r : 0;
                uint64_t now = mono_ms();
                if (wc->out->bytes < left)
                        progress = now;
                if (now - progress >= (uint64_t) send_timeout_ms)
                        return -ETIMEDOUT;
                struct pollfd p = { .fd = wc->fd, .events = POLLOUT };
                if (poll(&p, 1, (int) MIN((uint64_t) PUSH_BEAT_MS, progress + send_timeout_ms - now)) < 0 &&
                    errno != EINTR)
                        return -errno;
                wc->beat(wc->beat_data);
        }
}

/* Writes out what is queued, waiting for the client: without the GIL when
 * threaded, and then the time spent waiting for the client does not count
 * as time in the app for --timeout (pool.h): a request is stuck when the
 * app makes no progress, not when a client reads slowly (that is
 * --header-timeout's). */
static int push(Response *resp) {
        const WsgiConn *wc = resp->wc;
        resp->pushed = true;
        if (!threaded)
                return push_sync(wc);
        int r;
        Py_BEGIN_ALLOW_THREADS
        pool_job_idle();
        r = out_flush_blocking(wc->out, wc->fd, send_timeout_ms);
        pool_job_busy();
        Py_END_ALLOW_THREADS
        release_deferred();
        return r;
}

/* PEP 3333: "a Status-Code and a Reason-Phrase, in that order and
 * separated by a single space": three digits, a space, a reason without
 * control characters (RFC 9112 §4: it may be empty). */
static bool status_is_valid(PyObject *status) {
        if (!PyUnicode_Check(status) || PyUnicode_KIND(status) != PyUnicode_1BYTE_KIND)
                return false;
        const unsigned char *s = PyUnicode_1BYTE_DATA(status);
        Py_ssize_t n = PyUnicode_GET_LENGTH(status);
        if (n < 4 || s[3] != ' ')
                return false;
        for (int i = 0; i < 3; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        if (s[0] == '0')
                return false;
        for (Py_ssize_t i = 3; i < n; i++)
                if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
                        return false;
        return true;
}

/* A header name and value as latin-1 bytes, or false (and an exception). */
static bool header_get(PyObject *item, const unsigned char **name, Py_ssize_t *name_len,
                       const unsigned char **value, Py_ssize_t *value_len) {
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
                PyErr_Format(PyExc_TypeError, "header must be a (name, value) tuple, not %R", item);
                return false;
        }
        PyObject *n = PyTuple_GET_ITEM(item, 0), *v = PyTuple_GET_ITEM(item, 1);   /* borrowed */
        if (!PyUnicode_Check(n) || !PyUnicode_Check(v)) {
                PyErr_Format(PyExc_TypeError, "header name and value must be str: %R", item);
                return false;
        }
        /* Latin-1 (PEP 3333 "native strings") is exactly the 1-byte kind. */
        if (PyUnicode_KIND(n) != PyUnicode_1BYTE_KIND || PyUnicode_KIND(v) != PyUnicode_1BYTE_KIND) {
                PyErr_Format(PyExc_ValueError, "header is not latin-1: %R", item);
                return false;
        }
        *name = PyUnicode_1BYTE_DATA(n);
        *name_len = PyUnicode_GET_LENGTH(n);
        *value = PyUnicode_1BYTE_DATA(v);
        *value_len = PyUnicode_GET_LENGTH(v);
        bool ok = *name_len > 0;
        for (Py_ssize_t i = 0; ok && i < *name_len; i++)
                ok = tchar[(*name)[i]];
        for (Py_ssize_t i = 0; ok && i < *value_len; i++)
                ok = !(((*value)[i] < 0x20 && (*value)[i] != '\t') || (*value)[i] == 0x7f);
        if (!ok) {
                PyErr_Format(PyExc_ValueError, "invalid header from the application: %R", item);
                return false;
        }
        return true;
}

static bool name_is(const unsigned char *name, Py_ssize_t len, const char *what) {
        return (size_t) len == strlen(what) && strncasecmp((const char *) name, what, (size_t) len) == 0;
}

/* Hop-by-hop headers (RFC 9110 §7.6.1) are the server's business: an app's
 * are dropped, as gunicorn drops them; "Connection: close" is honoured. */
static bool is_hop_by_hop(const unsigned char *name, Py_ssize_t len) {
        switch (len) {
        case 2:
                return name_is(name, len, "te");
        case 7:
                return name_is(name, len, "trailer") || name_is(name, len, "upgrade");
        case 10:
                return name_is(name, len, "connection") || name_is(name, len, "keep-alive");
        case 16:
                return name_is(name, len, "proxy-connection");
        case 17:
                return name_is(name, len, "transfer-encoding");
        default:
                return false;
        }
}

/* Checks status and headers as start_response() receives them (PEP 3333
 * asks servers to check there, while the app can still see the error). */
static int response_set(Response *resp, PyObject *status, PyObject *headers_arg) {
        if (!status_is_valid(status)) {
                PyErr_Format(PyExc_ValueError, "invalid status from the application: %R", status);
                return -1;
        }
        if (!PyList_Check(headers_arg) && !PyTuple_Check(headers_arg)) {
                PyErr_Format(PyExc_TypeError, "headers must be a list, not %.100s", Py_TYPE(headers_arg)->tp_name);
                return -1;
        }
        /* Checked and kept as a tuple of the app's (immutable) tuples: the
         * app may still change its list before the head is sent, and what we
         * send must be what we checked. */
        _cleanup_pyobj_ PyObject *headers = PySequence_Tuple(headers_arg);
        if (!headers)
                return -1;
        long long content_length = -1;
        bool close = false;
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(headers); i++) {
                const unsigned char *name, *value;
                Py_ssize_t nl, vl;
                if (!header_get(PySequence_Fast_GET_ITEM(headers, i), &name, &nl, &value, &vl))
                        return -1;
                if (name_is(name, nl, "content-length")) {
                        char *end;
                        char digits[24];
                        if (vl < 1 || vl >= (Py_ssize_t) sizeof digits) {
                                PyErr_SetString(PyExc_ValueError, "invalid Content-Length from the application");
                                return -1;
                        }
                        memcpy(digits, value, (size_t) vl);
                        digits[vl] = 0;
                        errno = 0;
                        long long cl = strtoll(digits, &end, 10);
                        if (*end || errno || cl < 0 || digits[0] < '0' || digits[0] > '9') {
                                PyErr_SetString(PyExc_ValueError, "invalid Content-Length from the application");
                                return -1;
                        }
                        content_length = cl;
                } else if (name_is(name, nl, "connection") && name_is(value, vl, "close"))
                        close = true;
        }
        Py_XSETREF(resp->status, Py_NewRef(status));
        Py_XSETREF(resp->headers, TAKE_PTR(headers));
        resp->content_length = content_length;
        resp->close = close;
        return 0;
}

/* start_response(status, headers, exc_info=None)'s arguments, positional
 * or by keyword, into a[3] (borrowed). */
static int start_response_args(PyObject *const *args, size_t nargsf, PyObject *kwnames, PyObject *a[3]) {
        static const char *const names[] = { "status", "headers", "exc_info" };
        Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
        if (nargs > 3) {
                PyErr_Format(PyExc_TypeError, "start_response() takes at most 3 arguments (%zd given)", nargs);
                return -1;
        }
        a[0] = a[1] = a[2] = NULL;
        for (Py_ssize_t i = 0; i < nargs; i++)
                a[i] = args[i];
        for (Py_ssize_t j = 0; kwnames && j < PyTuple_GET_SIZE(kwnames); j++) {
                PyObject *name = PyTuple_GET_ITEM(kwnames, j);            /* borrowed */
                size_t k = 0;
                while (k < 3 && PyUnicode_CompareWithASCIIString(name, names[k]) != 0)
                        k++;
                if (k == 3) {
                        PyErr_Format(PyExc_TypeError, "start_response() got an unexpected keyword argument %R", name);
                        return -1;
                }
                if (a[k]) {
                        PyErr_Format(PyExc_TypeError, "start_response() got multiple values for argument '%s'",
                                     names[k]);
                        return -1;
                }
                a[k] = args[nargs + j];
        }
        for (size_t k = 0; k < 2; k++)
                if (!a[k]) {
                        PyErr_Format(PyExc_TypeError, "start_response() missing required argument '%s'", names[k]);
                        return -1;
                }
        if (!a[2])
                a[2] = Py_None;
        return 0;
}

static PyObject *responder_write(PyObject *self, PyObject *data);
static PyMethodDef responder_write_def = {
        "write", responder_write, METH_O, "write(data): send data (PEP 3333's write callable)"
};

static PyObject *start_response(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
        Responder *r = (Responder *) self;
        Response *resp = r->resp;
        PyObject *a[3];                   /* borrowed */
        if (start_response_args(args, nargsf, kwnames, a) < 0)
                return NULL;
        PyObject *status = a[0], *headers = a[1], *exc_info = a[2];
        if (!resp) {
                PyErr_SetString(PyExc_RuntimeError, "start_response() called after the request ended");
                return NULL;
        }

        if (exc_info != Py_None) {
                /* PEP 3333: with exc_info, after the head went out, re-raise it. */
                if (resp->head_sent) {
                        if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3) {
                                PyErr_SetString(PyExc_TypeError, "exc_info must be a 3-tuple");
                                return NULL;
                        }
                        PyObject *t = PyTuple_GET_ITEM(exc_info, 0), *v = PyTuple_GET_ITEM(exc_info, 1),
                                 *tb = PyTuple_GET_ITEM(exc_info, 2);                 /* borrowed */
                        PyErr_Restore(Py_NewRef(t), Py_NewRef(v), tb == Py_None ? NULL : Py_NewRef(tb));
                        return NULL;
                }
        } else if (resp->status) {
                PyErr_SetString(PyExc_RuntimeError, "start_response() called twice without exc_info");
                return NULL;
        }

        /* A refused call raises in the app, which may answer otherwise:
         * a correct call after it is taken. */
        resp->bad = response_set(resp, status, headers) < 0;
        if (resp->bad)
                return NULL;
        if (!r->write && !(r->write = PyCFunction_New(&responder_write_def, self)))
                return NULL;
        return Py_NewRef(r->write);
}

static void response_send_head(Response *resp, long long known_length);
static int response_send_body(Response *resp, PyObject *bytes);

static PyObject *responder_write(PyObject *self, PyObject *data) {
        Response *resp = ((Responder *) self)->resp;
        if (!resp) {
                PyErr_SetString(PyExc_RuntimeError, "write() called after the request ended");
                return NULL;
        }
        if (!resp->status) {
                PyErr_SetString(PyExc_RuntimeError, "write() called before start_response()");
                return NULL;
        }
        if (!PyBytes_Check(data)) {
                PyErr_Format(PyExc_TypeError, "write() argument must be bytes, not %.100s", Py_TYPE(data)->tp_name);
                return NULL;
        }
        if (resp->bad) {
                PyErr_SetString(PyExc_RuntimeError, "write() after start_response() failed");
                return NULL;
        }
        if (response_send_body(resp, data) < 0) {
                PyErr_SetString(PyExc_OSError, "client disconnected");
                return NULL;
        }
        Py_RETURN_NONE;
}

static PyObject *responder_get_write(PyObject *self, void *closure) {
        Responder *r = (Responder *) self;
        if (!r->write && !(r->write = PyCFunction_New(&responder_write_def, self)))
                return NULL;
        return Py_NewRef(r->write);
}

static PyGetSetDef responder_getset[] = {
        { "write", responder_get_write, NULL, "write(data): send data (PEP 3333's write callable)", NULL },
        { NULL }
};

static void responder_dealloc(PyObject *self) {
        Py_XDECREF(((Responder *) self)->write);
        PyObject_Free(self);
}

static PyTypeObject responder_type = {
        PyVarObject_HEAD_INIT(NULL, 0)
        .tp_name = "unitcorn.StartResponse",
        .tp_basicsize = sizeof(Responder),
        .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
        .tp_doc = "start_response(status, headers, exc_info=None)",
        .tp_vectorcall_offset = offsetof(Responder, vectorcall),
        .tp_call = PyVectorcall_Call,
        .tp_dealloc = responder_dealloc,
        .tp_getset = responder_getset,
};

static Responder *responder_get(Response *resp) {
        Responder *r = TAKE_PTR(spare_responder);
        if (!r) {
                r = PyObject_New(Responder, &responder_type);
                if (!r)
                        return NULL;
                r->vectorcall = start_response;
                r->write = NULL;
        }
        r->resp = resp;
        return r;
}

/* The request is over: reuse r if the app kept no reference to it or to
 * its write(), else let the app's references decide its life. */
static void responder_put(Responder *r) {
        r->resp = NULL;
        bool kept = r->write ? Py_REFCNT(r) != 2 || Py_REFCNT(r->write) != 1 : Py_REFCNT(r) != 1;
        if (!kept && !spare_responder) {
                spare_responder = r;
                return;
        }
        /* write() holds r: drop ours, so no cycle is left behind */
        Py_CLEAR(r->write);
        Py_DECREF(r);
}

/* ---- the response bytes ---- */

static void response_send_head(Response *resp, long long known_length) {
        const HttpRequest *req = resp->req;
        const unsigned char *status = PyUnicode_1BYTE_DATA(resp->status);
        Py_ssize_t status_len = PyUnicode_GET_LENGTH(resp->status);
        int code = (status[0] - '0') * 100 + (status[1] - '0') * 10 + (status[2] - '0');
        resp->no_body = req->method == HTTP_HEAD || code < 200 || code == 204 || code == 304;

        StrBuf b = {0};
        sb_grow(&b, 256);               /* one allocation for most heads */
        sb_add(&b, req->minor ? "HTTP/1.1 " : "HTTP/1.0 ");
        sb_addn(&b, (const char *) status, (size_t) status_len);
        if (status_len == 3)
                sb_add(&b, " ");
        sb_add(&b, "\r\n");

        bool have_date = false, have_server = false;
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(resp->headers); i++) {
                PyObject *item = PySequence_Fast_GET_ITEM(resp->headers, i);   /* borrowed */
                PyObject *n = PyTuple_GET_ITEM(item, 0), *v = PyTuple_GET_ITEM(item, 1);  /* borrowed */
                const unsigned char *name = PyUnicode_1BYTE_DATA(n);
                Py_ssize_t nl = PyUnicode_GET_LENGTH(n);
                if (is_hop_by_hop(name, nl))
                        continue;
                have_date = have_date || name_is(name, nl, "date");
                have_server = have_server || name_is(name, nl, "server");
                sb_addn(&b, (const char *) name, (size_t) nl);
                sb_add(&b, ": ");
                sb_addn(&b, (const char *) PyUnicode_1BYTE_DATA(v), (size_t) PyUnicode_GET_LENGTH(v));
                sb_add(&b, "\r\n");
        }
        if (!have_server)
                sb_add(&b, "Server: unitcorn\r\n");
        if (!have_date) {
                size_t dl;
                const char *d = http_date_header(&dl);
                sb_addn(&b, d, dl);
        }

        /* Framing (RFC 9112 §6): the app's Content-Length, else a length we
         * know, else chunked (1.1), else the end of the connection (1.0). */
        bool no_length = code < 200 || code == 204 || code == 304;
        if (resp->content_length < 0 && !no_length) {
                if (known_length >= 0) {
                        sb_add(&b, "Content-Length: ");
                        sb_addi(&b, known_length);
                        sb_add(&b, "\r\n");
                }
                else if (resp->no_body)
                        ;       /* HEAD of a streamed body: no framing to announce */
                else if (req->minor >= 1) {
                        sb_add(&b, "Transfer-Encoding: chunked\r\n");
                        resp->chunked = true;
                } else
                        resp->close = true;
        }
        /* a SIGTERM while the app ran: the drain closes this connection */
        if (resp->wc->stopping && *resp->wc->stopping)
                resp->close = true;
        if (resp->close || !req->keep_alive)
                sb_add(&b, "Connection: close\r\n");
        else if (req->minor == 0)
                sb_add(&b, "Connection: keep-alive\r\n");
        sb_add(&b, "\r\n");

        out_add_take(resp->wc->out, b.s, b.len);
        resp->head_sent = true;
}

/* Queues one body chunk (bytes, borrowed: a new reference is taken for the
 * queue).  Returns -1 when the client is gone. */
static int response_send_body(Response *resp, PyObject *bytes) {
        if (resp->failed)
                return -1;
        if (!resp->head_sent)
                response_send_head(resp, -1);
        Py_ssize_t len = PyBytes_GET_SIZE(bytes);
        if (resp->no_body || len == 0)
                return 0;
        if (resp->content_length >= 0) {
                /* never more than announced: the rest would be read as the
                 * next response */
                unsigned long long room = (unsigned long long) resp->content_length - resp->sent;
                if ((unsigned long long) len > room)
                        len = (Py_ssize_t) room;
                if (len == 0)
                        return 0;
        }
        OutQueue *out = resp->wc->out;
        if (resp->chunked) {
                char size[24];
                int n = snprintf(size, sizeof size, "%zx\r\n", (size_t) len);
                out_add_copy(out, size, (size_t) n);
        }
        out_add_ref(out, PyBytes_AS_STRING(bytes), (size_t) len, Py_NewRef(bytes),
                    threaded ? py_release_deferred : py_release);
        if (resp->chunked)
                out_add_static(out, "\r\n", 2);
        resp->sent += (unsigned long long) len;

        /* A body that is in memory as a whole gains nothing from a push:
         * the worker's loop writes it, serving others while the client
         * reads. */
        if (out->bytes > OUT_HIGH_WATER && !resp->whole) {
                int r = push(resp);
                if (r < 0) {
                        if (r == -ETIMEDOUT)
                                log_info("The client of %s %.*s did not read for %d s: response cut, closing.",
                                         llhttp_method_name(resp->req->method),
                                         (int) MIN(resp->req->target_len, 200), http_req_str(resp->req, 0),
                                         send_timeout_ms / 1000);
                        resp->failed = true;
                        return -1;
                }
        }
        return 0;
}

/* The body's length when the iterable is a list or tuple of bytes, else -1. */
static long long known_length(PyObject *result) {
        if (!PyList_Check(result) && !PyTuple_Check(result))
                return -1;
        long long total = 0;
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(result); i++) {
                PyObject *item = PySequence_Fast_GET_ITEM(result, i);   /* borrowed */
                if (!PyBytes_Check(item))
                        return -1;
                total += PyBytes_GET_SIZE(item);
        }
        return total;
}

/* ---- the environ ---- */

static int set_item(PyObject *environ, PyObject *key, PyObject *value /* stolen */) {
        if (!value)
                return -1;
        int r = PyDict_SetItem(environ, key, value);
        Py_DECREF(value);
        return r;
}

static PyObject *latin1(const char *s, size_t n) {
        return PyUnicode_DecodeLatin1(s, (Py_ssize_t) n, NULL);
}

/* ---- per-request objects that repeat: made once, reused ----
 *
 * Every request needs str objects for its method, its client's address,
 * SERVER_NAME/PORT and its header names, and these repeat from one request
 * to the next (one proxy in front, one Host, the same dozen header names).
 * str objects are immutable, so handing the same one to many requests is
 * invisible to apps.  Only touched with the GIL held. */

static PyObject *method_str(uint8_t method) {
        if (!v_methods[method])
                v_methods[method] = PyUnicode_InternFromString(llhttp_method_name(method));
        return Py_XNewRef(v_methods[method]);
}

/* str(n) without printf. */
static PyObject *uint_str(unsigned n) {
        char d[16];
        size_t k = sizeof d;
        do
                d[--k] = (char) ('0' + n % 10);
        while ((n /= 10) > 0);
        return PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, d + k, (Py_ssize_t) (sizeof d - k));
}

/* The last value seen, and its str. */
typedef struct StrCache {
        char key[64];
        size_t key_len;
        PyObject *value;                  /* owned; NULL: empty */
        PyObject *value2;                 /* owned, optional second object for the same key */
} StrCache;

static StrCache remote_cache, host_cache;
/* HTTP_* keys by a hash of the header name (direct-mapped) */
#define KEY_CACHE_SIZE 64
static StrCache key_cache[KEY_CACHE_SIZE];

static bool cache_hit(const StrCache *sc, const void *key, size_t len) {
        return sc->value && sc->key_len == len && memcmp(sc->key, key, len) == 0;
}

static void cache_set(StrCache *sc, const void *key, size_t len, PyObject *value, PyObject *value2) {
        Py_CLEAR(sc->value);
        Py_CLEAR(sc->value2);
        if (!value || len > sizeof sc->key)
                return;
        memcpy(sc->key, key, len);
        sc->key_len = len;
        sc->value = Py_XNewRef(value);
        sc->value2 = Py_XNewRef(value2);
}

static void cache_clear(void) {
        cache_set(&remote_cache, NULL, 0, NULL, NULL);
        cache_set(&host_cache, NULL, 0, NULL, NULL);
        for (size_t i = 0; i < KEY_CACHE_SIZE; i++)
                cache_set(&key_cache[i], NULL, 0, NULL, NULL);
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) (c | 0x20);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* PATH_INFO: the path %-decoded, bytes as latin-1 (PEP 3333 "Unicode
 * Issues"; what gunicorn and wsgiref do). */
static PyObject *path_info(const char *p, size_t n) {
        PyObject *s = PyUnicode_New((Py_ssize_t) n, 255);
        if (!s)
                return NULL;
        Py_UCS1 *d = PyUnicode_1BYTE_DATA(s);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                int hi, lo;
                if (p[i] == '%' && i + 2 < n && (hi = hexval(p[i + 1])) >= 0 && (lo = hexval(p[i + 2])) >= 0) {
                        d[k++] = (Py_UCS1) (hi * 16 + lo);
                        i += 2;
                } else
                        d[k++] = (Py_UCS1) p[i];
        }
        if (k == n)
                return s;
        PyObject *t = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, d, (Py_ssize_t) k);
        Py_DECREF(s);
        return t;
}

/* HTTP_<NAME>: upper case, '-' to '_'.  Names are tchars (ASCII). */
static PyObject *cgi_key(const char *name, size_t n) {
        PyObject *k = PyUnicode_New((Py_ssize_t) (5 + n), 127);
        if (!k)
                return NULL;
        Py_UCS1 *d = PyUnicode_1BYTE_DATA(k);
        memcpy(d, "HTTP_", 5);
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                d[5 + i] = (Py_UCS1) (c == '-' ? '_' : (c >= 'a' && c <= 'z') ? c - 32 : c);
        }
        return k;
}

/* cgi_key(), through key_cache: the name as it came (case included) is the
 * cache key. */
static PyObject *cgi_key_cached(const char *name, size_t n) {
        uint32_t hash = 2166136261u;
        for (size_t i = 0; i < n; i++)
                hash = (hash ^ (unsigned char) name[i]) * 16777619u;
        StrCache *sc = &key_cache[hash % KEY_CACHE_SIZE];
        if (cache_hit(sc, name, n))
                return Py_NewRef(sc->value);
        PyObject *key = cgi_key(name, n);
        if (key) {
                PyUnicode_InternInPlace(&key);
                cache_set(sc, name, n, key, NULL);
        }
        return key;
}

static int add_header(PyObject *environ, const HttpRequest *req, const HttpHeader *h) {
        const char *name = http_req_str(req, h->name);
        /* A '_' in a name would make it indistinguishable from '-' in the
         * environ (header spoofing behind proxies): drop such fields. */
        if (memchr(name, '_', h->name_len))
                return 0;
        /* "Proxy:" would become HTTP_PROXY, which CGI-style code takes for
         * the $HTTP_PROXY of its outgoing requests ("httpoxy",
         * CVE-2016-5385): no client has a reason to send it. */
        if (h->name_len == 5 && strncasecmp(name, "proxy", 5) == 0)
                return 0;
        PyObject *key;
        if (h->name_len == 12 && strncasecmp(name, "content-type", 12) == 0)
                key = Py_NewRef(k_CONTENT_TYPE);
        else if (h->name_len == 14 && strncasecmp(name, "content-length", 14) == 0)
                key = Py_NewRef(k_CONTENT_LENGTH);
        else
                key = cgi_key_cached(name, h->name_len);
        if (!key)
                return -1;
        PyObject *value = latin1(http_req_str(req, h->value), h->value_len);
        if (!value) {
                Py_DECREF(key);
                return -1;
        }
        /* repeated fields: joined with ',' (RFC 9110 §5.3), as gunicorn does */
        PyObject *prev = PyDict_GetItemWithError(environ, key);            /* borrowed */
        if (prev && PyUnicode_Check(prev))
                Py_SETREF(value, PyUnicode_FromFormat("%U,%U", prev, value));
        int r = value ? PyDict_SetItem(environ, key, value) : -1;
        Py_XDECREF(value);
        Py_DECREF(key);
        return r;
}

/* The address as a str; the client's (cache) is most often the last one. */
static PyObject *address_str(int family, const void *addr, StrCache *cache) {
        size_t len = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
        if (cache && cache_hit(cache, addr, len))
                return Py_NewRef(cache->value);
        char host[INET6_ADDRSTRLEN] = "";
        inet_ntop(family, addr, host, sizeof host);
        PyObject *v = PyUnicode_FromString(host);
        if (v && cache)
                cache_set(cache, addr, len, v, NULL);
        return v;
}

static int add_address(PyObject *environ, PyObject *k_addr, PyObject *k_port,
                       const struct sockaddr_storage *sa, StrCache *cache) {
        PyObject *host;
        unsigned port = 0;
        if (sa->ss_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
                host = address_str(AF_INET, &in->sin_addr, cache);
                port = ntohs(in->sin_port);
        } else if (sa->ss_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
                host = address_str(AF_INET6, &in6->sin6_addr, cache);
                port = ntohs(in6->sin6_port);
        } else
                host = Py_NewRef(v_empty);
        if (set_item(environ, k_addr, host) < 0)
                return -1;
        return set_item(environ, k_port, port ? uint_str(port) : Py_NewRef(v_empty));
}

/* REMOTE_ADDR and REMOTE_PORT; a UNIX peer has an empty address and no
 * port (as gunicorn). */
static int add_remote(PyObject *environ, const struct sockaddr_storage *peer) {
        if (peer->ss_family == AF_UNIX)
                return PyDict_SetItem(environ, k_REMOTE_ADDR, v_empty) < 0 ||
                       PyDict_DelItem(environ, k_REMOTE_PORT) < 0 ? -1 : 0;
        return add_address(environ, k_REMOTE_ADDR, k_REMOTE_PORT, peer, &remote_cache);
}

/* SERVER_NAME and SERVER_PORT: from Host when there is one (as gunicorn),
 * else the address the connection came in on. */
static int add_server(PyObject *environ, const HttpRequest *req, const WsgiConn *wc, bool https) {
        const HttpHeader *h = http_req_header(req, "host");
        if (!h || h->value_len == 0) {
                struct sockaddr_storage local = {0};
                socklen_t len = sizeof local;
                (void) getsockname(wc->fd, (struct sockaddr *) &local, &len);
                /* gunicorn: a UNIX socket's name is its path */
                if (local.ss_family == AF_UNIX) {
                        const struct sockaddr_un *un = (const struct sockaddr_un *) &local;
                        size_t n = len > offsetof(struct sockaddr_un, sun_path) ?
                                   strnlen(un->sun_path, len - offsetof(struct sockaddr_un, sun_path)) : 0;
                        return set_item(environ, k_SERVER_NAME,
                                        n > 0 ? PyUnicode_DecodeFSDefaultAndSize(un->sun_path, (Py_ssize_t) n)
                                              : Py_NewRef(v_localhost)) < 0 ||
                               set_item(environ, k_SERVER_PORT, Py_NewRef(v_empty)) < 0 ? -1 : 0;
                }
                return add_address(environ, k_SERVER_NAME, k_SERVER_PORT, &local, NULL);
        }
        const char *v = http_req_str(req, h->value);
        size_t n = h->value_len, hl = n;
        /* the cache holds the port of plain http (80 when Host has none) */
        if (!https && cache_hit(&host_cache, v, n))
                return PyDict_SetItem(environ, k_SERVER_NAME, host_cache.value) < 0 ||
                       PyDict_SetItem(environ, k_SERVER_PORT, host_cache.value2) < 0 ? -1 : 0;
        const char *port = NULL;
        const char *bracket = v[0] == '[' ? memchr(v, ']', n) : NULL;
        const char *colon = memrchr(bracket ? bracket : v, ':', n - (size_t) ((bracket ? bracket : v) - v));
        if (colon) {
                hl = (size_t) (colon - v);
                /* "host:" has the scheme's default port (RFC 3986 §3.2.3) */
                if (colon + 1 < v + n)
                        port = colon + 1;
        }
        _cleanup_pyobj_ PyObject *name = latin1(v, hl);
        _cleanup_pyobj_ PyObject *port_str = port ? latin1(port, n - hl - 1) : Py_NewRef(https ? v_port443 : v_port80);
        if (!name || !port_str)
                return -1;
        if (!https)
                cache_set(&host_cache, v, n, name, port_str);
        return PyDict_SetItem(environ, k_SERVER_NAME, name) < 0 ||
               PyDict_SetItem(environ, k_SERVER_PORT, port_str) < 0 ? -1 : 0;
}

/* https: a trusted front end said so (forwarded.h). */
static PyObject *environ_new(const HttpRequest *req, const WsgiConn *wc, bool https) {
        PyObject *environ = PyDict_Copy(base_environ);
        if (!environ)
                return NULL;
        if (https && set_item(environ, k_wsgi_url_scheme, PyUnicode_FromString("https")) < 0)
                goto fail;

        const char *target = http_req_str(req, 0), *path, *query;
        size_t n = req->target_len, path_len, query_len;
        http_split_target(target, n, &path, &path_len, &query, &query_len);

        if (set_item(environ, k_REQUEST_METHOD, method_str(req->method)) < 0 ||
            set_item(environ, k_PATH_INFO, path_len == 1 && path[0] == '*' ? Py_NewRef(v_empty) : path_info(path, path_len)) < 0 ||
            set_item(environ, k_QUERY_STRING, query_len ? latin1(query, query_len) : Py_NewRef(v_empty)) < 0 ||
            set_item(environ, k_RAW_URI, latin1(target, n)) < 0 ||
            set_item(environ, k_SERVER_PROTOCOL, Py_NewRef(req->minor ? v_http11 : v_http10)) < 0 ||
            add_remote(environ, wc->peer) < 0 ||
            add_server(environ, req, wc, https) < 0 ||
            set_item(environ, k_wsgi_input, input_from_request(req)) < 0)
                goto fail;
        for (size_t i = 0; i < req->n_headers; i++)
                if (add_header(environ, req, &req->headers[i]) < 0)
                        goto fail;
        return environ;
fail:
        Py_DECREF(environ);
        return NULL;
}

/* ---- the call ---- */

static void log_app_error(const HttpRequest *req, const char *what) {
        /* with the traceback, one message (pylog.c) */
        pylog_request_error(req, what);
}

/* After an error in the app (or a client gone).  As long as nothing of
 * the response can be on the wire (no push: the queue was empty when the
 * request began, and is written only after the app is done), whatever the
 * app produced is dropped and a 500 goes out instead, head and body sent
 * or not as far as the app knows.  Else the response is cut: the rest of
 * it is dropped, the framing is never completed (no final chunk, fewer
 * bytes than a Content-Length), and the connection is reset rather than
 * closed, so that not even a close-delimited (HTTP/1.0) body can pass for
 * a whole one.  Returns false: the connection closes either way. */
static bool respond_error(Response *resp) {
        OutQueue *out = resp->wc->out;
        out_clear(out);
        if (resp->pushed) {
                out_cut(out, resp->wc->fd);
                return false;
        }
        resp->head_sent = false;          /* for the access log and post_request: ours went out */
        resp->sent = 0;
        size_t len;
        char *r = http_error_response(500, &len);
        out_add_take(out, r, len);
        return false;
}

/* Iterates the app's result, sending each chunk.  Returns false, with the
 * error logged, when the app misbehaved. */
static bool iterate(Response *resp, PyObject *result) {
        const HttpRequest *req = resp->req;
        long long length = known_length(result);
        resp->whole = length >= 0;
        PyObject *iter = PyObject_GetIter(result);
        if (!iter) {
                log_app_error(req, "the application's result is not iterable (or its __iter__ raised)");
                return false;
        }
        PyObject *chunk;
        while ((chunk = PyIter_Next(iter))) {
                int r = 0;
                if (!PyBytes_Check(chunk)) {
                        PyErr_Format(PyExc_TypeError, "the application yielded %.100s, not bytes",
                                     Py_TYPE(chunk)->tp_name);
                        r = -1;
                } else if (!resp->status || resp->bad) {
                        PyErr_SetString(PyExc_RuntimeError, resp->bad ?
                                        "start_response() refused the status or headers" :
                                        "the application yielded data before calling start_response()");
                        r = -1;
                } else if (PyBytes_GET_SIZE(chunk) > 0) {
                        if (!resp->head_sent)
                                response_send_head(resp, length);
                        (void) response_send_body(resp, chunk);
                }
                Py_DECREF(chunk);
                if (r < 0 || resp->failed)
                        break;
        }
        Py_DECREF(iter);
        if (PyErr_Occurred()) {
                log_app_error(req, "the response iterable raised");
                return false;
        }
        if (!resp->status) {
                log_app_error(req, "the application returned without calling start_response()");
                return false;
        }
        if (resp->bad) {
                log_app_error(req, "start_response() refused the status or headers");
                return false;
        }
        return true;
}

/* wsgi.file_wrapper over a regular file, before anything of the body went
 * out: the head (with a Content-Length from the file's size when the app
 * gave none), then the file range, queued for sendfile(2) (output.c).  The
 * queue holds its own descriptor, so close() may come before the bytes
 * leave.  With the app's Content-Length exactly that many bytes are sent;
 * a file shorter than that ends the connection (response_finish()).
 * Returns false when result is anything else: iterate it. */
static bool send_file(Response *resp, PyObject *result) {
        int fd;
        off_t offset, size;
        if (!resp->status || resp->bad || resp->head_sent || !filewrap_file(result, &fd, &offset, &size))
                return false;
        unsigned long long left = size > offset ? (unsigned long long) (size - offset) : 0;
        if (resp->content_length < 0)
                response_send_head(resp, (long long) MIN(left, (unsigned long long) LLONG_MAX));
        else {
                /* known short already: say so in the head too */
                if (left < (unsigned long long) resp->content_length)
                        resp->close = true;
                response_send_head(resp, -1);
                left = MIN(left, (unsigned long long) resp->content_length);
        }
        if (resp->no_body) {
                close(fd);
                return true;
        }
        out_add_file(resp->wc->out, fd, offset, (size_t) left);
        resp->sent = left;
        return true;
}

/* PEP 3333: "If the iterable returned by the application has a close()
 * method, the server or gateway must call that method upon completion of
 * the current request, whether the request was completed normally, or
 * terminated early due to an application error". */
static bool close_iterable(const HttpRequest *req, PyObject *result) {
        /* the common answers have no close(): skip the lookup */
        if (PyList_CheckExact(result) || PyTuple_CheckExact(result))
                return true;
        PyObject *close;
        /* an absent attribute without building an AttributeError */
        if (lookup_attr(result, s_close, &close) < 0) {
                log_app_error(req, "looking up close() raised");
                return false;
        }
        if (!close)
                return true;
        PyObject *r = PyObject_CallNoArgs(close);
        Py_DECREF(close);
        if (!r) {
                log_app_error(req, "close() raised");
                return false;
        }
        Py_DECREF(r);
        return true;
}

/* The end of a response that went well.  Returns whether the connection
 * may stay open. */
static bool response_finish(Response *resp) {
        if (resp->failed)
                return respond_error(resp);
        if (!resp->head_sent)
                response_send_head(resp, 0);
        if (resp->chunked && !resp->no_body)
                out_add_static(resp->wc->out, "0\r\n\r\n", 5);
        if (resp->content_length >= 0 && !resp->no_body && resp->sent < (unsigned long long) resp->content_length) {
                log_warning("Response to %s %.*s is shorter than its Content-Length (%llu < %lld), closing.",
                            llhttp_method_name(resp->req->method), (int) MIN(resp->req->target_len, 200),
                            http_req_str(resp->req, 0), resp->sent, resp->content_length);
                resp->close = true;
        }
        return !resp->close && resp->req->keep_alive && !resp->req->upgrade;
}

/* THE place where the application runs (PEP 3333 "Specification Details"):
 *
 *   result = app(environ, start_response)
 *   for chunk in result: send(chunk)    # the head leaves with the first non-empty chunk
 *   result.close()                      # always, if it exists
 *
 * The head is "sent" (PEP 3333: exc_info re-raises from then on) with the
 * first body bytes (or at the end of the iterable), but nothing reaches
 * the wire before the app is done unless a streamed body passes the
 * high-water mark: until then any error still becomes a clean 500; after
 * that it cuts the connection (respond_error()). */
static bool call_app(Response *resp, PyObject *environ, PyObject *responder) {
        PyObject *args[] = { environ, responder };
        PyObject *result = PyObject_Vectorcall(app, args, 2, NULL);
        if (!result) {
                log_app_error(resp->req, "the application raised");
                return respond_error(resp);
        }
        bool ok = send_file(resp, result) || iterate(resp, result);
        ok = close_iterable(resp->req, result) && ok;
        Py_DECREF(result);
        return ok ? response_finish(resp) : respond_error(resp);
}

/* The access log's entry (access.c): a response whose head did not go out
 * was (or would have been) a 500. */
static void log_access(const Response *resp, PyObject *environ, uint64_t start) {
        int status = 500;
        if (resp->head_sent) {
                const unsigned char *s = PyUnicode_1BYTE_DATA(resp->status);
                status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
        }
        access_log(&(AccessEntry) {
                .req = resp->req, .peer = resp->wc->peer, .status = status, .sent = resp->sent,
                .start_usec = start, .environ = environ, .headers = resp->headers,
        });
}

bool wsgi_handle(const HttpRequest *req, const WsgiConn *wc) {
        Response resp = { .req = req, .wc = wc, .content_length = -1 };
        bool keep = false;
        uint64_t start = access_enabled() ? access_now_usec() : 0;

        int https = forwarded_scheme(req, wc->peer);
        if (https < 0) {
                /* gunicorn's InvalidSchemeHeaders */
                log_warning("Contradictory scheme headers in %s %.*s, refused (400).", llhttp_method_name(req->method),
                            (int) MIN(req->target_len, 200), http_req_str(req, 0));
                size_t len;
                char *r = http_error_response(400, &len);
                out_add_take(wc->out, r, len);
                return false;
        }
        /* server hooks: a flag test when none is defined */
        PyObject *hreq = NULL;
        if (hooks_per_request && hooks_pre_request(req, wc->peer, https, &hreq) < 0) {
                hooks_post_request(hreq, NULL, NULL, NULL, 0);
                return respond_error(&resp);
        }

        PyObject *environ = environ_new(req, wc, https);
        if (!environ) {
                log_app_error(req, "failed to build the environ");
                if (hooks_per_request)
                        hooks_post_request(hreq, NULL, NULL, NULL, 0);
                return respond_error(&resp);
        }
        Responder *responder = responder_get(&resp);
        if (!responder) {
                Py_XDECREF(hreq);
                Py_DECREF(environ);
                log_app_error(req, "failed to create start_response");
                return respond_error(&resp);
        }

        keep = call_app(&resp, environ, (PyObject *) responder);
        if (access_enabled())
                log_access(&resp, environ, start);
        /* the status that went out; none: ours, a 500 (or the client left) */
        if (hooks_per_request)
                hooks_post_request(hreq, environ, resp.head_sent ? resp.status : NULL,
                                   resp.head_sent ? resp.headers : NULL, resp.sent);

        responder_put(responder);        /* the app may have kept it */
        Py_DECREF(environ);
        Py_XDECREF(resp.status);
        Py_XDECREF(resp.headers);
        return keep;
}

int wsgi_init(PyObject *application, const Config *c) {
        _cleanup_pyobj_ PyObject *constants = NULL;
        if (PyType_Ready(&responder_type) < 0 || input_type_ready() < 0 || filewrap_type_ready() < 0)
                goto fail;
#define INTERN_KEY(k) if (!(k_##k = PyUnicode_InternFromString(#k))) goto fail;
        ENVIRON_KEYS(INTERN_KEY)
#undef INTERN_KEY
        if (!(k_wsgi_input = PyUnicode_InternFromString("wsgi.input")) ||
            !(k_wsgi_url_scheme = PyUnicode_InternFromString("wsgi.url_scheme")) ||
            !(v_http10 = PyUnicode_InternFromString("HTTP/1.0")) ||
            !(v_http11 = PyUnicode_InternFromString("HTTP/1.1")) ||
            !(v_empty = PyUnicode_InternFromString("")) ||
            !(v_port80 = PyUnicode_InternFromString("80")) ||
            !(v_port443 = PyUnicode_InternFromString("443")) ||
            !(v_localhost = PyUnicode_InternFromString("localhost")) ||
            !(s_close = PyUnicode_InternFromString("close")) ||
            !(s_write = PyUnicode_InternFromString("write")))
                goto fail;

        for (unsigned ch = 0; ch < 256; ch++)
                tchar[ch] = http_is_tchar((unsigned char) ch);

        PyObject *errors = pylog_wsgi_errors();            /* borrowed: the journal's stream, or sys.stderr */
        /* wsgi.input_terminated: the whole body is read before the app
         * runs, so wsgi.input ends where the body does, chunked or not. */
        constants = Py_BuildValue("{s(ii)sssOsOsOsOsOsOss}",
                                     "wsgi.version", 1, 0,
                                     "wsgi.url_scheme", "http",
                                     "wsgi.errors", errors ? errors : Py_None,
                                     "wsgi.multithread", c->threads > 1 ? Py_True : Py_False,
                                     "wsgi.multiprocess", c->workers > 1 ? Py_True : Py_False,
                                     "wsgi.run_once", Py_False,
                                     "wsgi.input_terminated", Py_True,
                                     "wsgi.file_wrapper", filewrap_type(),
                                     "SCRIPT_NAME", "");
        /* Each request's environ is a copy of this one (PyDict_Copy clones
         * the table in one go), so it is sized for the request's header
         * fields too, and holds every key each request sets (placeholders
         * here): setting those replaces a value, never grows the table. */
#if PY_VERSION_HEX < 0x030D0000
        base_environ = _PyDict_NewPresized(ENVIRON_SIZE);
#else
        base_environ = PyDict_New();
#endif
        if (!constants || !base_environ || PyDict_Update(base_environ, constants) < 0)
                goto fail;
        PyObject *always[] = { k_REQUEST_METHOD, k_PATH_INFO, k_QUERY_STRING, k_RAW_URI, k_SERVER_PROTOCOL,
                               k_REMOTE_ADDR, k_REMOTE_PORT, k_SERVER_NAME, k_SERVER_PORT, k_wsgi_input };
        for (size_t i = 0; i < ELEMENTSOF(always); i++)
                if (PyDict_SetItem(base_environ, always[i], v_empty) < 0)
                        goto fail;
        app = Py_NewRef(application);
        threaded = c->threads > 1;
        send_timeout_ms = c->header_timeout == 0 ? -1 :
                c->header_timeout > INT_MAX / 1000 ? INT_MAX : (int) c->header_timeout * 1000;
        return 0;
fail:
        python_print_exception();
        return log_error_errno(ENOMEM, "Failed to set up WSGI.");
}

void wsgi_done(void) {
#define CLEAR_KEY(k) Py_CLEAR(k_##k);
        ENVIRON_KEYS(CLEAR_KEY)
#undef CLEAR_KEY
        Py_CLEAR(k_wsgi_input);
        Py_CLEAR(k_wsgi_url_scheme);
        Py_CLEAR(v_http10);
        Py_CLEAR(v_http11);
        Py_CLEAR(v_empty);
        Py_CLEAR(v_port80);
        Py_CLEAR(v_port443);
        Py_CLEAR(v_localhost);
        Py_CLEAR(s_close);
        Py_CLEAR(s_write);
        for (size_t i = 0; i < ELEMENTSOF(v_methods); i++)
                Py_CLEAR(v_methods[i]);
        cache_clear();
        if (spare_responder) {
                Py_CLEAR(spare_responder->write);
                Py_CLEAR(spare_responder);
        }
        Py_CLEAR(base_environ);
        Py_CLEAR(app);
}

/* ---- a pool thread's side (wsgi.h) ---- */

struct WsgiThread {
        PyGILState_STATE gil;
        PyThreadState *ts;           /* while the GIL is released */
};

WsgiThread *wsgi_thread_new(void) {
        WsgiThread *t = xmalloc(sizeof *t);
        t->gil = PyGILState_Ensure();
        t->ts = PyEval_SaveThread();
        return t;
}

bool wsgi_thread_handle(WsgiThread *t, const HttpRequest *req, const WsgiConn *wc) {
        PyEval_RestoreThread(t->ts);
        release_deferred();         /* the previous response's */
        bool keep = wsgi_handle(req, wc);
        t->ts = PyEval_SaveThread();
        return keep;
}

void wsgi_thread_free(WsgiThread *t) {
        if (!t)
                return;
        PyEval_RestoreThread(t->ts);
        release_deferred();
        free(deferred);
        deferred = NULL;
        cap_deferred = 0;
        PyGILState_Release(t->gil);
        free(t);
}
