/* wsgi.c: see wsgi.h.  Reference ownership: every PyObject * local is a
 * new reference released in the same function unless marked borrowed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <strings.h>
#include <sys/un.h>

#include "input.h"
#include "log.h"
#include "pool.h"
#include "wsgi.h"

/* Queued body bytes beyond which a streaming response is pushed out to the
 * client before the app produces more: bounds a worker's memory. */
#define OUT_HIGH_WATER (256 * 1024)
/* How long such a push may wait for a client that does not read. */
#define SEND_TIMEOUT_MS 30000

static PyObject *app;                     /* owned */
static PyObject *base_environ;            /* owned: the keys common to every request */
/* --threads > 1: see "threads" below.  Set once, by wsgi_init(). */
static bool threaded;

/* Interned environ keys and constant values. */
#define ENVIRON_KEYS(X) \
        X(REQUEST_METHOD) X(SCRIPT_NAME) X(PATH_INFO) X(QUERY_STRING) X(RAW_URI) \
        X(CONTENT_TYPE) X(CONTENT_LENGTH) X(SERVER_NAME) X(SERVER_PORT) \
        X(SERVER_PROTOCOL) X(REMOTE_ADDR) X(REMOTE_PORT)
#define DECLARE_KEY(k) static PyObject *k_##k;
ENVIRON_KEYS(DECLARE_KEY)
static PyObject *k_wsgi_input;
static PyObject *v_http10, *v_http11, *v_empty;

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
        bool failed;                      /* the client is gone */
} Response;

/* start_response and write(): one object per request, pointing at the
 * Response while the request lasts (an app keeping it gets an error
 * later, not a dangling pointer). */
typedef struct Responder {
        PyObject_HEAD
        Response *resp;
} Responder;

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

/* out_flush_blocking(), without the GIL when threaded; and then the time
 * spent waiting for the client does not count as time in the app for
 * --timeout (pool.h): a request is stuck when the app makes no progress,
 * not when a client reads slowly (that is --header-timeout's). */
static int flush_blocking(OutQueue *out, int fd, int timeout_ms) {
        if (!threaded)
                return out_flush_blocking(out, fd, timeout_ms);
        int r;
        Py_BEGIN_ALLOW_THREADS
        pool_job_idle();
        r = out_flush_blocking(out, fd, timeout_ms);
        pool_job_busy();
        Py_END_ALLOW_THREADS
        release_deferred();
        return r;
}

static bool status_is_valid(PyObject *status) {
        if (!PyUnicode_Check(status) || PyUnicode_KIND(status) != PyUnicode_1BYTE_KIND)
                return false;
        const unsigned char *s = PyUnicode_1BYTE_DATA(status);
        Py_ssize_t n = PyUnicode_GET_LENGTH(status);
        if (n < 3 || (n > 3 && s[3] != ' '))
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
                ok = http_is_tchar((*name)[i]);
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
        static const char *const hop[] = { "connection", "keep-alive", "proxy-connection",
                                           "te", "trailer", "transfer-encoding", "upgrade" };
        for (size_t i = 0; i < ELEMENTSOF(hop); i++)
                if (name_is(name, len, hop[i]))
                        return true;
        return false;
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

static PyObject *start_response(PyObject *self, PyObject *args, PyObject *kwargs) {
        Response *resp = ((Responder *) self)->resp;
        static char *kwlist[] = { "status", "headers", "exc_info", NULL };
        PyObject *status, *headers, *exc_info = Py_None;     /* borrowed */
        if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|O:start_response", kwlist, &status, &headers, &exc_info))
                return NULL;
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

        if (response_set(resp, status, headers) < 0) {
                resp->bad = true;
                return NULL;
        }
        return PyObject_GetAttrString(self, "write");
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

static PyMethodDef responder_methods[] = {
        { "write", responder_write, METH_O, "write(data): send data (PEP 3333's write callable)" },
        { NULL }
};

static PyTypeObject responder_type = {
        PyVarObject_HEAD_INIT(NULL, 0)
        .tp_name = "unitcorn.StartResponse",
        .tp_basicsize = sizeof(Responder),
        .tp_flags = Py_TPFLAGS_DEFAULT,
        .tp_doc = "start_response(status, headers, exc_info=None)",
        .tp_call = start_response,
        .tp_methods = responder_methods,
};

/* ---- the response bytes ---- */

static void response_send_head(Response *resp, long long known_length) {
        const HttpRequest *req = resp->req;
        const unsigned char *status = PyUnicode_1BYTE_DATA(resp->status);
        Py_ssize_t status_len = PyUnicode_GET_LENGTH(resp->status);
        int code = (status[0] - '0') * 100 + (status[1] - '0') * 10 + (status[2] - '0');
        resp->no_body = req->method == HTTP_HEAD || code < 200 || code == 204 || code == 304;

        StrBuf b = {0};
        sb_addf(&b, "HTTP/1.%d ", req->minor);
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
                if (known_length >= 0)
                        sb_addf(&b, "Content-Length: %lld\r\n", known_length);
                else if (resp->no_body)
                        ;       /* HEAD of a streamed body: no framing to announce */
                else if (req->minor >= 1) {
                        sb_add(&b, "Transfer-Encoding: chunked\r\n");
                        resp->chunked = true;
                } else
                        resp->close = true;
        }
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

        if (out->bytes > OUT_HIGH_WATER && flush_blocking(out, resp->wc->fd, SEND_TIMEOUT_MS) < 0) {
                resp->failed = true;
                return -1;
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

static int add_header(PyObject *environ, const HttpRequest *req, const HttpHeader *h) {
        const char *name = http_req_str(req, h->name);
        /* A '_' in a name would make it indistinguishable from '-' in the
         * environ (header spoofing behind proxies): drop such fields. */
        if (memchr(name, '_', h->name_len))
                return 0;
        PyObject *key;
        if (h->name_len == 12 && strncasecmp(name, "content-type", 12) == 0)
                key = Py_NewRef(k_CONTENT_TYPE);
        else if (h->name_len == 14 && strncasecmp(name, "content-length", 14) == 0)
                key = Py_NewRef(k_CONTENT_LENGTH);
        else
                key = cgi_key(name, h->name_len);
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

static int add_address(PyObject *environ, PyObject *k_addr, PyObject *k_port,
                       const struct sockaddr_storage *sa) {
        char host[INET6_ADDRSTRLEN] = "";
        unsigned port = 0;
        if (sa->ss_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
                inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
                port = ntohs(in->sin_port);
        } else if (sa->ss_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
                inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
                port = ntohs(in6->sin6_port);
        }
        if (set_item(environ, k_addr, PyUnicode_FromString(host)) < 0)
                return -1;
        return set_item(environ, k_port, port ? PyUnicode_FromFormat("%u", port) : Py_NewRef(v_empty));
}

/* SERVER_NAME and SERVER_PORT: from Host when there is one (as gunicorn),
 * else the address the connection came in on. */
static int add_server(PyObject *environ, const HttpRequest *req, const WsgiConn *wc) {
        const HttpHeader *h = http_req_header(req, "host");
        if (!h || h->value_len == 0) {
                struct sockaddr_storage local = {0};
                socklen_t len = sizeof local;
                (void) getsockname(wc->fd, (struct sockaddr *) &local, &len);
                if (local.ss_family == AF_UNIX)
                        return set_item(environ, k_SERVER_NAME, PyUnicode_FromString("localhost")) < 0 ||
                               set_item(environ, k_SERVER_PORT, Py_NewRef(v_empty)) < 0 ? -1 : 0;
                return add_address(environ, k_SERVER_NAME, k_SERVER_PORT, &local);
        }
        const char *v = http_req_str(req, h->value);
        size_t n = h->value_len, hl = n;
        const char *port = NULL;
        const char *bracket = v[0] == '[' ? memchr(v, ']', n) : NULL;
        const char *colon = memrchr(bracket ? bracket : v, ':', n - (size_t) ((bracket ? bracket : v) - v));
        if (colon) {
                hl = (size_t) (colon - v);
                port = colon + 1;
        }
        if (set_item(environ, k_SERVER_NAME, latin1(v, hl)) < 0)
                return -1;
        return set_item(environ, k_SERVER_PORT,
                        port ? latin1(port, n - hl - 1) : PyUnicode_FromString("80"));
}

static PyObject *environ_new(const HttpRequest *req, const WsgiConn *wc) {
        PyObject *environ = PyDict_Copy(base_environ);
        if (!environ)
                return NULL;

        const char *target = http_req_str(req, 0);
        size_t n = req->target_len;
        /* absolute-form (RFC 9112 §3.2.2): the path starts after the authority */
        const char *path = target;
        if ((n > 7 && strncasecmp(target, "http://", 7) == 0) || (n > 8 && strncasecmp(target, "https://", 8) == 0)) {
                const char *auth = strstr(target, "//") + 2;
                path = memchr(auth, '/', n - (size_t) (auth - target));
                if (!path)
                        path = target + n;
        }
        size_t plen = n - (size_t) (path - target);
        const char *hash = memchr(path, '#', plen);
        if (hash)
                plen = (size_t) (hash - path);
        const char *q = memchr(path, '?', plen);
        size_t path_len = q ? (size_t) (q - path) : plen;

        if (set_item(environ, k_REQUEST_METHOD, PyUnicode_InternFromString(llhttp_method_name(req->method))) < 0 ||
            set_item(environ, k_PATH_INFO, path_len == 1 && path[0] == '*' ? Py_NewRef(v_empty) : path_info(path, path_len)) < 0 ||
            set_item(environ, k_QUERY_STRING, q ? latin1(q + 1, plen - path_len - 1) : Py_NewRef(v_empty)) < 0 ||
            set_item(environ, k_RAW_URI, latin1(target, n)) < 0 ||
            set_item(environ, k_SERVER_PROTOCOL, Py_NewRef(req->minor ? v_http11 : v_http10)) < 0 ||
            add_address(environ, k_REMOTE_ADDR, k_REMOTE_PORT, wc->peer) < 0 ||
            add_server(environ, req, wc) < 0 ||
            set_item(environ, k_wsgi_input, input_new(req->body.s, req->body.len)) < 0)
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
        log_error("Error handling request %s %.*s: %s", llhttp_method_name(req->method),
                  (int) MIN(req->target_len, 200), http_req_str(req, 0), what);
        python_print_exception();
}

/* After an error in the app: a 500 if nothing was committed yet, else the
 * connection is cut (the client sees a truncated response).  Returns
 * false: the connection closes either way. */
static bool respond_error(Response *resp) {
        if (!resp->head_sent) {
                size_t len;
                char *r = http_error_response(500, &len);
                out_add_take(resp->wc->out, r, len);
        }
        return false;
}

/* Iterates the app's result, sending each chunk.  Returns false, with the
 * error logged, when the app misbehaved. */
static bool iterate(Response *resp, PyObject *result) {
        const HttpRequest *req = resp->req;
        long long length = known_length(result);
        PyObject *iter = PyObject_GetIter(result);
        if (!iter) {
                log_app_error(req, "the application did not return an iterable");
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

/* PEP 3333: "If the iterable returned by the application has a close()
 * method, the server or gateway must call that method upon completion of
 * the current request, whether the request was completed normally, or
 * terminated early due to an application error". */
static bool close_iterable(const HttpRequest *req, PyObject *result) {
        PyObject *close = PyObject_GetAttrString(result, "close");
        if (!close) {
                if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
                        log_app_error(req, "looking up close() raised");
                        return false;
                }
                PyErr_Clear();
                return true;
        }
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
                return false;
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
 * The response is committed only when the first body bytes (or the end of
 * the iterable) arrive, so any error before that still becomes a clean 500;
 * an error after that cuts the connection. */
static bool call_app(Response *resp, PyObject *environ, PyObject *responder) {
        PyObject *result = PyObject_CallFunctionObjArgs(app, environ, responder, NULL);
        if (!result) {
                log_app_error(resp->req, "the application raised");
                return respond_error(resp);
        }
        bool ok = iterate(resp, result);
        ok = close_iterable(resp->req, result) && ok;
        Py_DECREF(result);
        return ok ? response_finish(resp) : respond_error(resp);
}

bool wsgi_handle(const HttpRequest *req, const WsgiConn *wc) {
        Response resp = { .req = req, .wc = wc, .content_length = -1 };
        bool keep = false;

        PyObject *environ = environ_new(req, wc);
        if (!environ) {
                log_app_error(req, "failed to build the environ");
                return respond_error(&resp);
        }
        Responder *responder = PyObject_New(Responder, &responder_type);
        if (!responder) {
                Py_DECREF(environ);
                log_app_error(req, "failed to create start_response");
                return respond_error(&resp);
        }
        responder->resp = &resp;

        keep = call_app(&resp, environ, (PyObject *) responder);

        responder->resp = NULL;          /* the app may have kept it */
        Py_DECREF(responder);
        Py_DECREF(environ);
        Py_XDECREF(resp.status);
        Py_XDECREF(resp.headers);
        return keep;
}

int wsgi_init(PyObject *application, const Config *c) {
        if (PyType_Ready(&responder_type) < 0 || input_type_ready() < 0)
                goto fail;
#define INTERN_KEY(k) if (!(k_##k = PyUnicode_InternFromString(#k))) goto fail;
        ENVIRON_KEYS(INTERN_KEY)
#undef INTERN_KEY
        if (!(k_wsgi_input = PyUnicode_InternFromString("wsgi.input")) ||
            !(v_http10 = PyUnicode_InternFromString("HTTP/1.0")) ||
            !(v_http11 = PyUnicode_InternFromString("HTTP/1.1")) ||
            !(v_empty = PyUnicode_InternFromString("")))
                goto fail;

        PyObject *errors = PySys_GetObject("stderr");      /* borrowed */
        /* wsgi.input_terminated: the whole body is read before the app
         * runs, so wsgi.input ends where the body does, chunked or not. */
        base_environ = Py_BuildValue("{s(ii)sssOsOsOsOsOss}",
                                     "wsgi.version", 1, 0,
                                     "wsgi.url_scheme", "http",
                                     "wsgi.errors", errors ? errors : Py_None,
                                     "wsgi.multithread", c->threads > 1 ? Py_True : Py_False,
                                     "wsgi.multiprocess", c->workers > 1 ? Py_True : Py_False,
                                     "wsgi.run_once", Py_False,
                                     "wsgi.input_terminated", Py_True,
                                     "SCRIPT_NAME", "");
        if (!base_environ)
                goto fail;
        app = Py_NewRef(application);
        threaded = c->threads > 1;
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
        Py_CLEAR(v_http10);
        Py_CLEAR(v_http11);
        Py_CLEAR(v_empty);
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
