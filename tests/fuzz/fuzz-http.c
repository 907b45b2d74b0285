/* fuzz-http: the server's request path, as a worker runs it: bytes into
 * the parser glue (server/http.c over llhttp), each complete request
 * checked and then handed to wsgi_handle() (server/wsgi.c) with an app,
 * written in Python below, that checks the environ it gets.
 *
 * Input: byte 0 chooses the limits (gunicorn's defaults, or small ones so
 * that 413, 414 and 431 are reachable in a few bytes), the peer (trusted
 * for X-Forwarded-Proto or not, IPv4, IPv6 or a UNIX socket), and whether
 * to deliver byte by byte; byte 1 the number of split points, which the
 * next bytes place; the rest is what the client sends on one connection.
 *
 * Checks, beyond "no crash, no sanitizer report":
 *   - delivered whole, in the input's pieces and (when asked) byte by byte,
 *     the stream yields the same requests (method, version, target, header
 *     fields, body, keep-alive...) and ends the same way (the same error
 *     status, or the same state of an unfinished request): RFC 9112 parsing
 *     must not depend on where reads happen to split it (one leeway, see
 *     compare());
 *   - every request that parsed is within the bytes it was read from:
 *     "METHOD TARGET HTTP/1.x" and each "name:" are there, names are
 *     tokens, values have no control characters and no edge whitespace,
 *     the limits hold, HTTP/1.1 has exactly one Host, Content-Length is
 *     one run of digits equal to the body's size, a chunked body comes
 *     with a Transfer-Encoding ending in chunked and no Content-Length;
 *   - every refusal is one of the statuses http.h documents;
 *   - the app sees PEP 3333's environ for exactly that request
 *     (REQUEST_METHOD, RAW_URI, PATH_INFO %-decoded as latin-1,
 *     QUERY_STRING, SERVER_PROTOCOL, HTTP_* for each field without '_' (but Proxy:),
 *     repeated fields joined with ',', CONTENT_TYPE/CONTENT_LENGTH,
 *     REMOTE_ADDR, wsgi.url_scheme 'http' from an untrusted peer,
 *     wsgi.input giving the body), and the response starts with a status
 *     line and ends up in the connection's output queue. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "forwarded.h"
#include "http.h"
#include "log.h"
#include "output.h"
#include "python.h"
#include "report.h"
#include "strbuf.h"
#include "wsgi.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SPLITS 8

static const HttpLimits default_limits = { 4094, 100, 8190, 0 };
static const HttpLimits small_limits = { 64, 8, 64, 100 };

/* The app.  It compares the environ with `expect` (set by the harness for
 * each request) and keeps the first difference in `failure`, which the
 * harness reports: an exception in the app would only be a 500. */
static const char app_source[] =
        "import traceback, urllib.parse\n"
        "expect = None\n"
        "failure = None\n"
        "def split_target(t):\n"
        "    path = t\n"
        "    low = t[:8].lower()\n"
        "    if low.startswith('http://') and len(t) > 7 or low.startswith('https://') and len(t) > 8:\n"
        "        i = t.index('/') + 2\n"
        "        j = t.find('/', i)\n"
        "        path = t[j:] if j >= 0 else ''\n"
        "    path = path.split('#', 1)[0]\n"
        "    path, _, query = path.partition('?')\n"
        "    return path, query\n"
        "def check(environ):\n"
        "    e = expect\n"
        "    for k, v in environ.items():\n"
        "        assert type(k) is str, ('key', k)\n"
        "        if k.isupper():\n"
        "            assert type(v) is str and all(ord(c) < 256 for c in v), (k, v)\n"
        "    assert environ['REQUEST_METHOD'] == e['method'], environ['REQUEST_METHOD']\n"
        "    target = e['target'].decode('latin-1')\n"
        "    assert environ['RAW_URI'] == target, environ['RAW_URI']\n"
        "    path, query = split_target(target)\n"
        "    want = '' if path == '*' else urllib.parse.unquote_to_bytes(path.encode('latin-1')).decode('latin-1')\n"
        "    assert environ['PATH_INFO'] == want, (environ['PATH_INFO'], want)\n"
        "    assert environ['QUERY_STRING'] == query, (environ['QUERY_STRING'], query)\n"
        "    assert environ['SCRIPT_NAME'] == ''\n"
        "    assert environ['SERVER_PROTOCOL'] == e['protocol'], environ['SERVER_PROTOCOL']\n"
        "    assert environ['REMOTE_ADDR'] == e['remote'], environ['REMOTE_ADDR']\n"
        "    if not e['trusted']:\n"
        "        assert environ['wsgi.url_scheme'] == 'http', environ['wsgi.url_scheme']\n"
        "    want = {}\n"
        "    for name, value in e['headers']:\n"
        "        if b'_' in name:\n"
        "            continue\n"
        "        key = name.decode().upper().replace('-', '_')\n"
        "        if key == 'PROXY':\n"
        "            continue\n"
        "        if key not in ('CONTENT_TYPE', 'CONTENT_LENGTH'):\n"
        "            key = 'HTTP_' + key\n"
        "        v = value.decode('latin-1')\n"
        "        want[key] = want[key] + ',' + v if key in want else v\n"
        "    got = {k: v for k, v in environ.items() if k.startswith('HTTP_') or k in ('CONTENT_TYPE', 'CONTENT_LENGTH')}\n"
        "    assert got == want, (got, want)\n"
        "    inp = environ['wsgi.input']\n"
        "    half = len(e['body']) // 2\n"
        "    body = inp.read(half) + b''.join(inp.readlines()) + inp.read()\n"
        "    assert body == e['body'], (len(body), len(e['body']))\n"
        "def app(environ, start_response):\n"
        "    global failure\n"
        "    try:\n"
        "        check(environ)\n"
        "    except Exception:\n"
        "        if failure is None:\n"
        "            failure = traceback.format_exc()\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'ok\\n']\n";

static PyObject *module, *app;
static int conn_fds[2] = { -1, -1 };

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        report_init();
        /* Python's objects on the C heap, where ASan sees every misuse of
         * one by our code (a reference dropped once too often...) */
        setenv("PYTHONMALLOC", "malloc", 1);
        log_setup();
        log_set_level(LOG_DEBUG);              /* every message formatted */
        Config c = { .app = (char *) "fuzz", .workers = 1, .threads = 1 };
        char *trusted[] = { (char *) "127.0.0.1", (char *) "::1", NULL };
        if (python_init(&c) < 0 || forwarded_init(trusted) < 0)
                abort();
        PyObject *code = Py_CompileString(app_source, "fuzz-http-app", Py_file_input);
        module = code ? PyImport_ExecCodeModule("fuzz_http_app", code) : NULL;
        Py_XDECREF(code);
        app = module ? PyObject_GetAttrString(module, "app") : NULL;
        if (!app || wsgi_init(app, &c) < 0) {
                PyErr_Print();
                abort();
        }
        /* the connection wsgi_handle() answers on: a UNIX socket pair (its
         * address is what SERVER_NAME falls back to without Host) */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, conn_fds) < 0)
                abort();
        return 0;
}

/* ---- the requests, as a canonical byte string per delivery ---- */

static void add_field(StrBuf *b, const char *s, size_t n) {
        sb_addf(b, "%zu:", n);
        sb_addn(b, s, n);
        sb_addc(b, ' ');
}

static void body_of(const HttpRequest *r, StrBuf *ret) {
        if (r->spool_fd < 0) {
                sb_addn(ret, r->body.s ? r->body.s : "", r->body.len);
                return;
        }
        char buf[4096];
        for (off_t off = 0;;) {
                ssize_t n = pread(r->spool_fd, buf, sizeof buf, off);
                if (n < 0)
                        report_fail("cannot read the spool file: %s", strerror(errno));
                if (n == 0)
                        break;
                sb_addn(ret, buf, (size_t) n);
                off += n;
        }
}

static void describe(StrBuf *b, const HttpRequest *r, const StrBuf *body) {
        sb_addf(b, "[%s HTTP/%u.%u ka=%d up=%d ch=%d ex=%d ", llhttp_method_name(r->method), r->major, r->minor,
                r->keep_alive, r->upgrade, r->chunked, r->expect_continue);
        add_field(b, http_req_str(r, 0), r->target_len);
        sb_addf(b, "%zu fields ", r->n_headers);
        for (size_t i = 0; i < r->n_headers; i++) {
                add_field(b, http_req_str(r, r->headers[i].name), r->headers[i].name_len);
                add_field(b, http_req_str(r, r->headers[i].value), r->headers[i].value_len);
        }
        sb_addf(b, "body %" PRIu64 " ", r->body_size);
        add_field(b, body->s ? body->s : "", body->len);
        sb_add(b, "]\n");
}

/* ---- the checks of one parsed request ---- */

static bool within(const char *hay, size_t n, const char *needle, size_t m) {
        return m <= n && memmem(hay, n, needle, m) != NULL;
}

static bool is_name(const HttpRequest *r, const HttpHeader *h, const char *name) {
        return h->name_len == strlen(name) && strncasecmp(http_req_str(r, h->name), name, h->name_len) == 0;
}

static void check_request(const HttpParser *hp, const HttpRequest *r, const char *from, size_t n,
                          const StrBuf *body) {
        if (r->major != 1 || r->minor > 1)
                report_fail("version HTTP/%u.%u accepted", r->major, r->minor);
        if (r->target_len == 0)
                report_fail("empty target accepted");
        for (size_t i = 0; i < r->target_len; i++) {
                unsigned char c = (unsigned char) http_req_str(r, 0)[i];
                if (c <= 0x20 || c == 0x7f)
                        report_fail("target byte 0x%02x accepted", c);
        }
        /* exactly "METHOD SP TARGET SP HTTP/1.x CRLF" (RFC 9112 §3) */
        _cleanup_free_ char *line = xasprintf("%s %.*s HTTP/%u.%u\r\n", llhttp_method_name(r->method),
                                              (int) r->target_len, http_req_str(r, 0), r->major, r->minor);
        if (!within(from, n, line, strlen(line)))
                report_fail("request line '%s' is not in the bytes it was parsed from", line);
        if (strlen(line) - 2 > hp->limits.request_line)
                report_fail("request line of %zu bytes over the limit %u", strlen(line) - 2,
                            hp->limits.request_line);
        if (r->n_headers > hp->limits.fields)
                report_fail("%zu fields over the limit %u", r->n_headers, hp->limits.fields);

        size_t n_host = 0, n_cl = 0, n_te = 0;
        const HttpHeader *cl = NULL, *te = NULL;
        for (size_t i = 0; i < r->n_headers; i++) {
                const HttpHeader *h = &r->headers[i];
                const char *name = http_req_str(r, h->name), *value = http_req_str(r, h->value);
                if (h->name_len == 0)
                        report_fail("empty field name accepted");
                for (size_t j = 0; j < h->name_len; j++)
                        if (!http_is_tchar((unsigned char) name[j]))
                                report_fail("field name byte 0x%02x accepted", (unsigned char) name[j]);
                _cleanup_free_ char *colon = xasprintf("%.*s:", (int) h->name_len, name);
                if (!within(from, n, colon, strlen(colon)))
                        report_fail("field '%s' is not in the bytes it was parsed from", colon);
                for (size_t j = 0; j < h->value_len; j++) {
                        unsigned char c = (unsigned char) value[j];
                        if ((c < 0x20 && c != '\t') || c == 0x7f)
                                report_fail("control byte 0x%02x in the value of '%s'", c, colon);
                }
                if (h->value_len > 0 && strchr(" \t", value[0]))
                        report_fail("leading whitespace in the value of '%s'", colon);
                if (h->value_len > 0 && strchr(" \t", value[h->value_len - 1]))
                        report_fail("trailing whitespace in the value of '%s'", colon);
                if (!within(from, n, value, h->value_len))
                        report_fail("the value of '%s' is not in the bytes it was parsed from", colon);
                if (hp->limits.field_size && h->name_len + h->value_len > hp->limits.field_size)
                        report_fail("field '%s' over the limit %u", colon, hp->limits.field_size);
                if (is_name(r, h, "host"))
                        n_host++;
                if (is_name(r, h, "content-length"))
                        n_cl++, cl = h;
                if (is_name(r, h, "transfer-encoding"))
                        n_te++, te = h;
        }
        if (n_host > 1 || (r->minor == 1 && n_host != 1))
                report_fail("%zu Host fields accepted on HTTP/1.%u", n_host, r->minor);

        if (r->body_size != body->len)
                report_fail("body_size %" PRIu64 " but %zu body bytes", r->body_size, body->len);
        if (hp->limits.body && r->body_size > hp->limits.body)
                report_fail("a body of %" PRIu64 " bytes over the limit %" PRIu64, r->body_size, hp->limits.body);
        if (r->chunked) {
                if (n_cl > 0 || n_te == 0 || r->minor == 0)
                        report_fail("chunked with %zu Content-Length, %zu Transfer-Encoding on HTTP/1.%u", n_cl,
                                    n_te, r->minor);
                const char *v = http_req_str(r, te->value);
                if (te->value_len < 7 || strncasecmp(v + te->value_len - 7, "chunked", 7) != 0)
                        report_fail("chunked, but the last Transfer-Encoding is '%.*s'", (int) te->value_len, v);
        } else if (n_te > 0)
                report_fail("Transfer-Encoding accepted without chunked framing");
        else if (n_cl > 1)
                report_fail("%zu Content-Length fields accepted", n_cl);
        else if (n_cl == 1) {
                const char *v = http_req_str(r, cl->value);
                uint64_t len = 0;
                if (cl->value_len == 0)
                        report_fail("empty Content-Length accepted");
                for (size_t j = 0; j < cl->value_len; j++) {
                        if (v[j] < '0' || v[j] > '9')
                                report_fail("Content-Length '%.*s' accepted", (int) cl->value_len, v);
                        if (len > (UINT64_MAX - 9) / 10)
                                report_fail("overflowing Content-Length '%.*s' accepted", (int) cl->value_len, v);
                        len = len * 10 + (uint64_t) (v[j] - '0');
                }
                if (len != r->body_size)
                        report_fail("Content-Length %" PRIu64 " but a body of %" PRIu64, len, r->body_size);
        } else if (r->body_size != 0)
                report_fail("a body of %" PRIu64 " bytes without Content-Length or chunked", r->body_size);
}

/* ---- the app ---- */

typedef struct Peer {
        struct sockaddr_storage addr;
        const char *text;            /* REMOTE_ADDR */
        bool trusted;
} Peer;

static void handle(const HttpRequest *r, const StrBuf *body, const Peer *peer) {
        PyObject *headers = PyList_New(0);
        for (size_t i = 0; headers && i < r->n_headers; i++) {
                PyObject *t = Py_BuildValue("(y#y#)", http_req_str(r, r->headers[i].name),
                                            (Py_ssize_t) r->headers[i].name_len,
                                            http_req_str(r, r->headers[i].value),
                                            (Py_ssize_t) r->headers[i].value_len);
                if (!t || PyList_Append(headers, t) < 0)
                        abort();
                Py_DECREF(t);
        }
        PyObject *expect = Py_BuildValue("{sssy#sssssOsNsy#}",
                                         "method", llhttp_method_name(r->method),
                                         "target", http_req_str(r, 0), (Py_ssize_t) r->target_len,
                                         "protocol", r->minor ? "HTTP/1.1" : "HTTP/1.0",
                                         "remote", peer->text,
                                         "trusted", peer->trusted ? Py_True : Py_False,
                                         "headers", headers,
                                         "body", body->s ? body->s : "", (Py_ssize_t) body->len);
        if (!expect || PyObject_SetAttrString(module, "expect", expect) < 0) {
                PyErr_Print();
                abort();
        }
        Py_DECREF(expect);

        OutQueue out = {0};
        WsgiConn wc = { .fd = conn_fds[0], .out = &out, .peer = &peer->addr };
        bool keep = wsgi_handle(r, &wc);

        PyObject *failure = PyObject_GetAttrString(module, "failure");
        if (!failure)
                abort();
        if (failure != Py_None)
                report_fail("the app's environ check failed:\n%s", PyUnicode_AsUTF8(failure));
        Py_DECREF(failure);
        if (keep && !r->keep_alive)
                report_fail("wsgi_handle() keeps a connection the request closes");
        /* the response: whatever went to the socket, then the queue */
        StrBuf resp = {0};
        char buf[4096];
        ssize_t k;
        while ((k = recv(conn_fds[1], buf, sizeof buf, 0)) > 0)
                sb_addn(&resp, buf, (size_t) k);
        for (size_t i = out.first; i < out.n; i++)
                if (!out.segs[i].file)
                        sb_addn(&resp, out.segs[i].p, out.segs[i].len);
        out_clear(&out);
        free(out.segs);
        /* the app's 200 in the request's version; or our 400 for
         * contradictory scheme headers, which only a trusted peer's count */
        char ok[16];
        snprintf(ok, sizeof ok, "HTTP/1.%u 200 ", r->minor);
        bool refused = resp.len >= 13 && memcmp(resp.s, "HTTP/1.1 400 ", 13) == 0;
        if (resp.len < 13 || (memcmp(resp.s, ok, 13) != 0 && !refused))
                report_fail("response starts with '%.*s'", (int) MIN(resp.len, 40), resp.s ? resp.s : "");
        if (refused && !peer->trusted)
                report_fail("400 from wsgi_handle() for an untrusted peer");
        sb_done(&resp);
}

/* ---- one delivery of the stream ---- */

typedef struct Delivery {
        HttpParser hp;
        StrBuf log;                  /* describe() of each request, then the end */
        bool closed;                 /* an error, or a request without keep-alive */
        int status;                  /* the refusal's; 0: none */
} Delivery;

static bool is_documented_status(int status) {
        return status == 400 || status == 413 || status == 414 || status == 431 || status == 501 ||
               status == 505;
}

/* Feeds one read's worth, as conn_run() does: a complete request is
 * handled before the rest of the buffer is parsed. */
static void deliver(Delivery *d, const char *stream, size_t off, size_t len, const Peer *peer, bool run_app,
                    size_t *req_start) {
        const char *data = stream + off;
        size_t pos = 0;
        while (!d->closed && pos < len) {
                size_t consumed = 0;
                int r = http_parser_feed(&d->hp, data + pos, len - pos, &consumed);
                if (r < 0) {
                        if (!is_documented_status(-r))
                                report_fail("refused with status %d", -r);
                        sb_add(&d->log, "refused\n");
                        d->status = -r;
                        d->closed = true;
                        return;
                }
                if (consumed > len - pos)
                        report_fail("consumed %zu of %zu bytes", consumed, len - pos);
                pos += consumed;
                if (r == HTTP_MORE) {
                        if (pos != len)
                                report_fail("HTTP_MORE with %zu bytes not consumed", len - pos);
                        continue;
                }
                const HttpRequest *req = &d->hp.req;
                size_t end = off + pos;
                StrBuf body = {0};
                body_of(req, &body);
                check_request(&d->hp, req, stream + *req_start, end - *req_start, &body);
                describe(&d->log, req, &body);
                if (run_app)
                        handle(req, &body, peer);
                sb_done(&body);
                if (!req->keep_alive)
                        d->closed = true;
                http_parser_next(&d->hp);
                *req_start = end;
        }
}

static void finish(Delivery *d) {
        if (!d->closed)
                sb_addf(&d->log, "open, %s\n", http_parser_in_request(&d->hp) ? "in a request" : "idle");
}

static bool is_limit(int status) {
        return status == 413 || status == 414 || status == 431;
}

/* The same requests, the same end.  One leeway: a request with both a
 * byte llhttp refuses (400) and a span over a limit (413, 414, 431) may be
 * refused for either, since llhttp hands a span over at the end of each
 * buffer and stops at a bad byte at once: which comes first depends on
 * where reads end.  Either way it is refused and closed. */
static void compare(const Delivery *a, const Delivery *b, const char *how) {
        bool same_status = a->status == b->status || (a->status == 400 && is_limit(b->status)) ||
                           (b->status == 400 && is_limit(a->status));
        if (!streq(a->log.s, b->log.s) || !same_status)
                report_fail("whole and %s deliveries differ:\n--- whole (%d):\n%s--- %s (%d):\n%s", how,
                            a->status, a->log.s, how, b->status, b->log.s);
}

static void make_peer(uint8_t kind, Peer *p) {
        /* trusted: in the list forwarded_init() got (LLVMFuzzerInitialize),
         * or a UNIX peer, a local front end (as gunicorn) */
        static const struct { int family; uint16_t port; const char *text; bool trusted; } peers[] = {
                { AF_INET, 40000, "127.0.0.1", true },
                { AF_INET, 40001, "192.0.2.7", false },
                { AF_INET6, 40002, "2001:db8::1", false },
                { AF_UNIX, 0, "", true },
        };
        *p = (Peer) { .text = peers[kind & 3].text, .trusted = peers[kind & 3].trusted };
        p->addr.ss_family = peers[kind & 3].family;
        if (p->addr.ss_family == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *) &p->addr;
                in->sin_port = htons(peers[kind & 3].port);
                inet_pton(AF_INET, p->text, &in->sin_addr);
        } else if (p->addr.ss_family == AF_INET6) {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &p->addr;
                in6->sin6_port = htons(peers[kind & 3].port);
                inet_pton(AF_INET6, p->text, &in6->sin6_addr);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 2)
                return 0;
        uint8_t flags = data[0];
        size_t n_splits = data[1] % (MAX_SPLITS + 1);
        if (size < 2 + n_splits)
                return 0;
        const char *stream = (const char *) data + 2 + n_splits;
        size_t len = size - 2 - n_splits;
        const HttpLimits *limits = flags & 1 ? &small_limits : &default_limits;
        Peer peer;
        make_peer((uint8_t) (flags >> 1), &peer);

        /* whole: one read; the app runs here */
        Delivery whole = {0};
        http_parser_init(&whole.hp, limits);
        size_t start = 0;
        deliver(&whole, stream, 0, len, &peer, true, &start);
        finish(&whole);

        /* in the input's pieces */
        size_t cuts[MAX_SPLITS + 2];
        size_t n_cuts = 0;
        cuts[n_cuts++] = 0;
        for (size_t i = 0; i < n_splits; i++)
                cuts[n_cuts++] = (size_t) data[2 + i] * len / 256;
        cuts[n_cuts++] = len;
        for (size_t i = 1; i < n_cuts; i++)            /* sort: insertion */
                for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                        size_t t = cuts[j];
                        cuts[j] = cuts[j - 1];
                        cuts[j - 1] = t;
                }
        Delivery split = {0};
        http_parser_init(&split.hp, limits);
        start = 0;
        for (size_t i = 0; i + 1 < n_cuts; i++)
                deliver(&split, stream, cuts[i], cuts[i + 1] - cuts[i], &peer, false, &start);
        finish(&split);
        compare(&whole, &split, "split");

        if (flags & 0x80) {
                Delivery bytes = {0};
                http_parser_init(&bytes.hp, limits);
                start = 0;
                for (size_t i = 0; i < len; i++)
                        deliver(&bytes, stream, i, 1, &peer, false, &start);
                finish(&bytes);
                compare(&whole, &bytes, "byte-by-byte");
                http_parser_done(&bytes.hp);
                sb_done(&bytes.log);
        }
        http_parser_done(&whole.hp);
        http_parser_done(&split.hp);
        sb_done(&whole.log);
        sb_done(&split.log);
        return 0;
}
