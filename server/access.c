/* access.c: see access.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* no CODE_FILE/CODE_LINE/CODE_FUNC of ours: they would always name this
 * file, and the app's records carry their own */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "access.h"
#include "http.h"
#include "log.h"
#include "strbuf.h"

/* A line longer than this is cut (request targets and header values are
 * bounded by --limit-request-line and --limit-request-field_size). */
#define ACCESS_LINE_MAX 8192
/* The journal's structured fields of one entry, all together. */
#define ACCESS_FIELDS_MAX 24576
#define ACCESS_MAX_FIELDS 16

typedef enum AtomKind {
        ATOM_LITERAL,
        ATOM_UNKNOWN,                   /* "-" */
        ATOM_h, ATOM_l, ATOM_u, ATOM_t, ATOM_r, ATOM_m, ATOM_U, ATOM_q, ATOM_H, ATOM_s,
        ATOM_B, ATOM_b, ATOM_f, ATOM_a, ATOM_T, ATOM_D, ATOM_M, ATOM_L, ATOM_p,
        ATOM_REQ_HEADER,                /* {name}i */
        ATOM_RESP_HEADER,               /* {name}o */
        ATOM_ENVIRON,                   /* {name}e */
} AtomKind;

typedef struct Segment {
        AtomKind kind;
        const char *s;                  /* the literal, or the name of {name}X (lower case) */
        size_t len;
} Segment;

bool access_on;
static bool to_journal;
static int access_fd = -1;
static char *format_copy;               /* the segments point into it */
static Segment *segments;
static size_t n_segments;

static const char simple_atoms[] = "hlutrmUqHsBbfaTDMLp";

static int compile(const char *format) {
        format_copy = xstrdup(format);
        size_t cap = 1;
        for (const char *p = format; *p; p++)
                cap += *p == '%' ? 2 : 0;
        segments = xcalloc(cap, sizeof *segments);
        n_segments = 0;

        char *p = format_copy;
        while (*p) {
                char *pct = strchr(p, '%');
                if (pct != p) {
                        size_t n = pct ? (size_t) (pct - p) : strlen(p);
                        segments[n_segments++] = (Segment) { ATOM_LITERAL, p, n };
                        p += n;
                        continue;
                }
                size_t offset = (size_t) (p - format_copy);
                if (p[1] == '%') {
                        segments[n_segments++] = (Segment) { ATOM_LITERAL, p, 1 };
                        p += 2;
                        continue;
                }
                char *close = p[1] == '(' ? strchr(p + 2, ')') : NULL;
                if (!close)
                        return log_error_errno(EINVAL, "--access-logformat: '%%' at offset %zu is neither "
                                               "%%(NAME)s nor %%%%.", offset);
                if (close[1] != 's')
                        return log_error_errno(EINVAL, "--access-logformat: '%.*s' at offset %zu: only the "
                                               "conversion 's' is supported, as in %%(NAME)s.",
                                               (int) (close - p + 2), p, offset);
                char *name = p + 2;
                size_t n = (size_t) (close - name);
                Segment seg = { ATOM_UNKNOWN, name, n };
                const char *simple = n == 1 ? strchr(simple_atoms, name[0]) : NULL;
                if (simple && name[0])
                        seg.kind = ATOM_h + (AtomKind) (simple - simple_atoms);
                else if (n >= 3 && name[0] == '{' && name[n - 2] == '}' && strchr("ioe", name[n - 1])) {
                        seg.kind = name[n - 1] == 'i' ? ATOM_REQ_HEADER :
                                   name[n - 1] == 'o' ? ATOM_RESP_HEADER : ATOM_ENVIRON;
                        seg.s = name + 1;
                        seg.len = n - 3;
                        for (size_t i = 0; i < seg.len; i++)
                                name[1 + i] = (char) tolower((unsigned char) name[1 + i]);
                }
                segments[n_segments++] = seg;
                p = close + 2;
        }
        return 0;
}

int access_setup(const char *target, const char *format) {
        access_done();
        if (!target)
                return 0;
        int r = compile(format ? format : ACCESS_DEFAULT_FORMAT);
        if (r < 0) {
                access_done();
                return r;
        }
        if (streq(target, "-")) {
                access_fd = STDOUT_FILENO;
                to_journal = log_fd_is_journal(STDOUT_FILENO);
        } else {
                access_fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0666);
                if (access_fd < 0) {
                        r = log_error_errno(errno, "Failed to open access log file '%s': %s", target, STRERROR(errno));
                        access_done();
                        return r;
                }
        }
        access_on = true;
        return 0;
}

void access_done(void) {
        if (access_fd > STDERR_FILENO)
                close(access_fd);
        access_fd = -1;
        access_on = to_journal = false;
        free(segments);
        segments = NULL;
        n_segments = 0;
        free(format_copy);
        format_copy = NULL;
}

uint64_t access_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* ---- rendering ---- */

typedef struct Out {
        char *buf;
        size_t len, cap;
} Out;

static void out_raw(Out *o, const char *s, size_t n) {
        n = MIN(n, o->cap - o->len);
        memcpy(o->buf + o->len, s, n);
        o->len += n;
}

/* A string atom: '"' as \" (gunicorn's SafeAtoms), control bytes as \xHH. */
static void out_str(Out *o, const char *s, size_t n) {
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n && o->len < o->cap; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == '"')
                        out_raw(o, "\\\"", 2);
                else if (c < 0x20 || c == 0x7f)
                        out_raw(o, (char[]) { '\\', 'x', hex[c >> 4], hex[c & 15] }, 4);
                else
                        o->buf[o->len++] = (char) c;
        }
}

static void out_u64(Out *o, uint64_t v) {
        char d[24];
        int n = snprintf(d, sizeof d, "%llu", (unsigned long long) v);
        out_raw(o, d, (size_t) n);
}

static void out_dash(Out *o) {
        out_raw(o, "-", 1);
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) (c | 0x20);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* PATH_INFO: %-decoded, as the environ has it. */
static void out_path_info(Out *o, const char *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int hi, lo;
                char c = p[i];
                if (c == '%' && i + 2 < n && (hi = hexval(p[i + 1])) >= 0 && (lo = hexval(p[i + 2])) >= 0) {
                        c = (char) (hi * 16 + lo);
                        i += 2;
                }
                out_str(o, &c, 1);
        }
}

/* The last field of that name (gunicorn builds a dict from the list). */
static const HttpHeader *req_header(const HttpRequest *req, const char *name, size_t n) {
        const HttpHeader *found = NULL;
        for (size_t i = 0; i < req->n_headers; i++)
                if (req->headers[i].name_len == n && strncasecmp(http_req_str(req, req->headers[i].name), name, n) == 0)
                        found = &req->headers[i];
        return found;
}

static void out_req_header(Out *o, const HttpRequest *req, const char *name, size_t n) {
        const HttpHeader *h = req_header(req, name, n);
        if (h)
                out_str(o, http_req_str(req, h->value), h->value_len);
        else
                out_dash(o);
}

/* A str as latin-1 bytes (PEP 3333's native strings), or false. */
static bool py_latin1(PyObject *s, const char **ret, size_t *ret_len) {
        if (!s || !PyUnicode_Check(s) || PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND)
                return false;
        *ret = (const char *) PyUnicode_1BYTE_DATA(s);
        *ret_len = (size_t) PyUnicode_GET_LENGTH(s);
        return true;
}

static bool py_name_is(PyObject *s, const char *name, size_t n) {
        const char *k;
        size_t kl;
        return py_latin1(s, &k, &kl) && kl == n && strncasecmp(k, name, n) == 0;
}

static void out_resp_header(Out *o, PyObject *headers, const char *name, size_t n) {
        const char *v = NULL;
        size_t vl = 0;
        /* start_response() checked it: a tuple of (str, str) */
        for (Py_ssize_t i = 0; headers && i < PyTuple_GET_SIZE(headers); i++) {
                PyObject *h = PyTuple_GET_ITEM(headers, i);      /* borrowed */
                if (py_name_is(PyTuple_GET_ITEM(h, 0), name, n))
                        (void) py_latin1(PyTuple_GET_ITEM(h, 1), &v, &vl);
        }
        if (v)
                out_str(o, v, vl);
        else
                out_dash(o);
}

/* {name}e: the environ's key, compared case-insensitively; a value that
 * is not a str renders as "-" (no Python code runs here). */
static void out_environ(Out *o, PyObject *environ, const char *name, size_t n) {
        PyObject *k, *v;          /* borrowed */
        Py_ssize_t pos = 0;
        const char *s;
        size_t sl;
        while (environ && PyDict_Next(environ, &pos, &k, &v))
                if (py_name_is(k, name, n) && py_latin1(v, &s, &sl)) {
                        out_str(o, s, sl);
                        return;
                }
        out_dash(o);
}

static int b64val(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* %(u)s: the user of "Authorization: Basic base64(user:password)". */
static void out_user(Out *o, const HttpRequest *req) {
        const HttpHeader *h = req_header(req, "authorization", 13);
        const char *v = h ? http_req_str(req, h->value) : NULL;
        if (!v || h->value_len < 6 || strncasecmp(v, "basic ", 6) != 0) {
                out_dash(o);
                return;
        }
        char user[256];
        size_t k = 0;
        unsigned acc = 0, bits = 0;
        for (size_t i = 6; i < h->value_len && v[i] != '='; i++) {
                if (v[i] == ' ' && k == 0)
                        continue;
                int d = b64val(v[i]);
                if (d < 0)
                        break;
                acc = (acc << 6) | (unsigned) d;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        char c = (char) ((acc >> bits) & 0xff);
                        if (c == ':') {
                                out_str(o, user, k);
                                return;
                        }
                        if (k < sizeof user)
                                user[k++] = c;
                }
        }
        out_dash(o);               /* no "user:": gunicorn has no user either */
}

/* [25/Nov/2026:17:00:00 +0000], once a second per thread */
static void out_time(Out *o) {
        static __thread time_t cached = -1;
        static __thread char text[48];
        static __thread size_t text_len;
        time_t now = time(NULL);
        if (now != cached) {
                struct tm tm;
                text_len = strftime(text, sizeof text, "[%d/%b/%Y:%H:%M:%S %z]", localtime_r(&now, &tm));
                cached = now;
        }
        out_raw(o, text, text_len);
}

typedef struct Request {
        const AccessEntry *e;
        const char *path, *query;
        size_t path_len, query_len;
        char addr[INET6_ADDRSTRLEN];
        unsigned port;
        uint64_t usec;
} Request;

static void render(Out *o, const Request *r) {
        const HttpRequest *req = r->e->req;
        const char *method = llhttp_method_name(req->method);
        const char *version = req->minor ? "HTTP/1.1" : "HTTP/1.0";
        for (size_t i = 0; i < n_segments; i++) {
                const Segment *s = &segments[i];
                switch (s->kind) {
                case ATOM_LITERAL:
                        out_raw(o, s->s, s->len);
                        break;
                case ATOM_UNKNOWN:
                case ATOM_l:
                        out_dash(o);
                        break;
                case ATOM_h:
                        if (r->addr[0])
                                out_raw(o, r->addr, strlen(r->addr));
                        else
                                out_dash(o);
                        break;
                case ATOM_u:
                        out_user(o, req);
                        break;
                case ATOM_t:
                        out_time(o);
                        break;
                case ATOM_r:
                        out_raw(o, method, strlen(method));
                        out_raw(o, " ", 1);
                        out_str(o, http_req_str(req, 0), req->target_len);
                        out_raw(o, " ", 1);
                        out_raw(o, version, 8);
                        break;
                case ATOM_m:
                        out_raw(o, method, strlen(method));
                        break;
                case ATOM_U:
                        out_path_info(o, r->path, r->path_len);
                        break;
                case ATOM_q:
                        out_str(o, r->query, r->query_len);
                        break;
                case ATOM_H:
                        out_raw(o, version, 8);
                        break;
                case ATOM_s:
                        out_u64(o, (uint64_t) r->e->status);
                        break;
                case ATOM_B:
                case ATOM_b:            /* gunicorn: "-" only when nothing was sent at all, never for 0 */
                        out_u64(o, r->e->sent);
                        break;
                case ATOM_f:
                        out_req_header(o, req, "referer", 7);
                        break;
                case ATOM_a:
                        out_req_header(o, req, "user-agent", 10);
                        break;
                case ATOM_T:
                        out_u64(o, r->usec / 1000000);
                        break;
                case ATOM_D:
                        out_u64(o, r->usec);
                        break;
                case ATOM_M:
                        out_u64(o, r->usec / 1000);
                        break;
                case ATOM_L: {
                        char d[40];
                        int n = snprintf(d, sizeof d, "%llu.%06llu", (unsigned long long) (r->usec / 1000000),
                                         (unsigned long long) (r->usec % 1000000));
                        out_raw(o, d, (size_t) n);
                        break;
                }
                case ATOM_p: {
                        char d[24];
                        int n = snprintf(d, sizeof d, "<%d>", (int) log_pid());
                        out_raw(o, d, (size_t) n);
                        break;
                }
                case ATOM_REQ_HEADER:
                        out_req_header(o, req, s->s, s->len);
                        break;
                case ATOM_RESP_HEADER:
                        out_resp_header(o, r->e->headers, s->s, s->len);
                        break;
                case ATOM_ENVIRON:
                        out_environ(o, r->e->environ, s->s, s->len);
                        break;
                }
        }
}

/* ---- the journal entry ---- */

typedef struct Fields {
        struct iovec iov[ACCESS_MAX_FIELDS];
        size_t n;
        char arena[ACCESS_FIELDS_MAX];
        size_t used;
} Fields;

/* "NAME=value"; a value that does not fit is cut, a field beyond
 * ACCESS_MAX_FIELDS dropped. */
static void field(Fields *f, const char *name, const char *value, size_t len) {
        size_t nl = strlen(name);
        if (f->n >= ACCESS_MAX_FIELDS || f->used + nl + 1 >= sizeof f->arena)
                return;
        char *start = f->arena + f->used;
        len = MIN(len, sizeof f->arena - f->used - nl - 1);
        memcpy(start, name, nl);
        start[nl] = '=';
        memcpy(start + nl + 1, value, len);
        f->used += nl + 1 + len;
        f->iov[f->n++] = (struct iovec) { start, nl + 1 + len };
}

static void field_u64(Fields *f, const char *name, uint64_t v) {
        char d[24];
        int n = snprintf(d, sizeof d, "%llu", (unsigned long long) v);
        field(f, name, d, (size_t) n);
}

static void field_header(Fields *f, const char *name, const HttpRequest *req, const char *header) {
        const HttpHeader *h = req_header(req, header, strlen(header));
        if (h)
                field(f, name, http_req_str(req, h->value), h->value_len);
}

static void send_journal(const Request *r, const char *msg, size_t len) {
        const HttpRequest *req = r->e->req;
        Fields f;
        f.n = f.used = 0;
        f.iov[f.n++] = (struct iovec) { (char *) msg, len };        /* "MESSAGE=..." */
        field(&f, "PRIORITY", "6", 1);
        f.iov[f.n++] = (struct iovec) { (char *) LOG_SYSLOG_IDENTIFIER, strlen(LOG_SYSLOG_IDENTIFIER) };
        const char *method = llhttp_method_name(req->method);
        field(&f, "HTTP_METHOD", method, strlen(method));
        field(&f, "HTTP_PATH", r->path, r->path_len);
        field(&f, "HTTP_QUERY", r->query, r->query_len);
        field(&f, "HTTP_VERSION", req->minor ? "HTTP/1.1" : "HTTP/1.0", 8);
        field_u64(&f, "HTTP_STATUS", (uint64_t) r->e->status);
        field_u64(&f, "HTTP_BYTES", r->e->sent);
        field_u64(&f, "HTTP_DURATION_USEC", r->usec);
        if (r->addr[0]) {
                field(&f, "REMOTE_ADDR", r->addr, strlen(r->addr));
                field_u64(&f, "REMOTE_PORT", r->port);
        }
        pid_t w = log_worker_pid();
        if (w > 0)
                field_u64(&f, "WORKER_PID", (uint64_t) w);
        field_header(&f, "HTTP_USER_AGENT", req, "user-agent");
        field_header(&f, "HTTP_REFERER", req, "referer");
        (void) sd_journal_sendv(f.iov, (int) f.n);
}

void access_log(const AccessEntry *e) {
        if (!access_on)
                return;
        Request r = { .e = e };
        uint64_t now = access_now_usec();
        r.usec = now > e->start_usec ? now - e->start_usec : 0;
        http_split_target(http_req_str(e->req, 0), e->req->target_len, &r.path, &r.path_len,
                            &r.query, &r.query_len);
        if (e->peer->ss_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) e->peer;
                inet_ntop(AF_INET, &in->sin_addr, r.addr, sizeof r.addr);
                r.port = ntohs(in->sin_port);
        } else if (e->peer->ss_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) e->peer;
                inet_ntop(AF_INET6, &in6->sin6_addr, r.addr, sizeof r.addr);
                r.port = ntohs(in6->sin6_port);
        }

        /* "MESSAGE=" first, so the journal gets the buffer as it is; the
         * last byte is kept for the file's newline. */
        char line[ACCESS_LINE_MAX];
        memcpy(line, "MESSAGE=", 8);
        Out o = { line, 8, sizeof line - 1 };
        render(&o, &r);
        if (to_journal) {
                send_journal(&r, line, o.len);
                return;
        }
        line[o.len++] = '\n';
        ssize_t n = write(access_fd, line + 8, o.len - 8);
        (void) n;
}
