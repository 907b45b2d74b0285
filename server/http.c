/* http.c: see http.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "spool.h"

/* gunicorn's hard ceilings (gunicorn/http/message.py). */
#define MAX_REQUEST_LINE 8190
#define MAX_HEADERS 32768
/* A chunk-size line with its extensions (RFC 9112 §7.1.1): no limit in the
 * RFC; we ignore extensions, so a long one is only a way to hold a
 * connection. */
#define MAX_CHUNK_LINE 4096
/* A body larger than this goes to a spool file instead of the heap.  The
 * body of every connection still reading one is held at once (a request
 * runs only once its body is complete), so this bounds a worker's memory
 * per such connection; 64 KiB keeps common form posts and JSON payloads on
 * the old in-memory path (no system call of its own), while for anything
 * larger one open() and a write per 64 KiB are noise beside receiving it.
 * nginx's client_body_buffer_size (8-16 KiB) plays the same part. */
#define SPOOL_THRESHOLD (64 * 1024)
/* Spooled bodies are written in pieces of about this size, not one write
 * per read from the socket. */
#define SPOOL_WRITE_BUFFER (64 * 1024)

bool http_is_tchar(unsigned char c) {
        static const char extra[] = "!#$%&'*+-.^_`|~";
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr(extra, c));
}

static int hex_digit(unsigned char c);

static HttpParser *hp_of(llhttp_t *p) {
        return p->data;
}

/* A callback refusing the request: remember the status, stop llhttp. */
static int fail(HttpParser *hp, int status) {
        if (!hp->error)
                hp->error = status;
        return HPE_USER;
}

static void spool_close(HttpRequest *r) {
        if (r->spool_fd >= 0) {
                close(r->spool_fd);
                r->spool_fd = -1;
        }
}

static int on_message_begin(llhttp_t *p) {
        HttpParser *hp = hp_of(p);
        HttpRequest *r = &hp->req;
        r->arena.len = 0;
        r->body.len = 0;
        r->body_size = 0;
        spool_close(r);
        r->target_len = 0;
        r->n_headers = 0;
        r->keep_alive = r->expect_continue = r->upgrade = r->headers_done = r->chunked = false;
        hp->line_len = 0;
        hp->field_len = 0;
        hp->in_field = false;
        hp->n_host = 0;
        hp->n_content_type = 0;
        hp->has_te = false;
        hp->version_seen = false;
        hp->in_request = true;
        hp->n_head_fields = 0;
        return 0;
}

static int line_add(HttpParser *hp, size_t n) {
        hp->line_len += n;
        /* the line is METHOD SP TARGET SP HTTP/x.y: count the 7 fixed bytes
         * only once the version arrives, but stop a long target early */
        return hp->line_len > hp->limits.request_line ? fail(hp, 414) : 0;
}

static int on_method(llhttp_t *p, const char *at, size_t len) {
        return line_add(hp_of(p), len);
}

static int on_url(llhttp_t *p, const char *at, size_t len) {
        HttpParser *hp = hp_of(p);
        int r = line_add(hp, len);
        if (r)
                return r;
        sb_addn(&hp->req.arena, at, len);
        hp->req.target_len += len;
        return 0;
}

/* RFC 9112 §3.2: the form of the target goes with the method.  llhttp
 * 8.1 already refuses authority-form ("host:port") but with CONNECT; it
 * takes "*" with any method, and any form with CONNECT. */
static int on_url_complete(llhttp_t *p) {
        HttpParser *hp = hp_of(p);
        const HttpRequest *r = &hp->req;
        const char *t = r->arena.s;
        bool asterisk = r->target_len == 1 && t[0] == '*';
        if (asterisk && llhttp_get_method(p) != HTTP_OPTIONS)
                return fail(hp, 400);
        if (llhttp_get_method(p) == HTTP_CONNECT &&
            (asterisk || r->target_len == 0 || memchr(t, '/', r->target_len)))
                return fail(hp, 400);
        return 0;
}

static int on_version(llhttp_t *p, const char *at, size_t len) {
        hp_of(p)->version_seen = true;
        return line_add(hp_of(p), len);
}

static int on_version_complete(llhttp_t *p) {
        return line_add(hp_of(p), strlen("  HTTP/"));
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
        HttpParser *hp = hp_of(p);
        HttpRequest *r = &hp->req;
        if (!hp->in_field) {
                if (r->n_headers >= hp->limits.fields)
                        return fail(hp, 431);
                if (r->n_headers == r->cap_headers) {
                        r->cap_headers = r->cap_headers ? r->cap_headers * 2 : 16;
                        r->headers = xrealloc(r->headers, r->cap_headers * sizeof *r->headers);
                }
                r->headers[r->n_headers++] = (HttpHeader) { .name = r->arena.len };
                hp->in_field = true;
                hp->field_len = 0;
        }
        hp->field_len += len;
        if (hp->limits.field_size && hp->field_len > hp->limits.field_size)
                return fail(hp, 431);
        sb_addn(&r->arena, at, len);
        r->headers[r->n_headers - 1].name_len += len;
        return 0;
}

static int on_header_field_complete(llhttp_t *p) {
        HttpParser *hp = hp_of(p);
        HttpRequest *r = &hp->req;
        /* ": value", an empty name (RFC 9110 §5.1: a token, one tchar at
         * least), which would reach the app as "HTTP_": llhttp 8.1 takes
         * it, with an empty on_header_field span (or none at all, and then
         * headers[] has no entry of its own) */
        if (!hp->in_field || r->headers[r->n_headers - 1].name_len == 0)
                return fail(hp, 400);
        HttpHeader *h = &r->headers[r->n_headers - 1];
        /* llhttp 8.1 hands over "Host " for "Host : x"; RFC 9112 §5.1 says
         * reject it. */
        for (size_t i = 0; i < h->name_len; i++)
                if (!http_is_tchar((unsigned char) r->arena.s[h->name + i]))
                        return fail(hp, 400);
        h->value = r->arena.len;
        h->value_len = 0;
        hp->value_started = false;
        return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
        HttpParser *hp = hp_of(p);
        HttpRequest *r = &hp->req;
        /* A value continues in a second span either right where the first
         * ended (same input buffer) or at the start of the next buffer when
         * the first ran to the end of its own.  Anything else means llhttp
         * skipped bytes: an obs-fold (RFC 9112 §5.2), which we refuse. */
        if (hp->value_started) {
                bool contiguous = hp->value_gen == hp->feed_gen ? at == hp->value_end :
                                  hp->value_end == NULL && at == hp->feed_start;
                if (!contiguous)
                        return fail(hp, 400);
        }
        hp->value_started = true;
        hp->value_gen = hp->feed_gen;
        hp->value_end = at + len == hp->feed_end ? NULL : at + len;
        hp->field_len += len;
        if (hp->limits.field_size && hp->field_len > hp->limits.field_size)
                return fail(hp, 431);
        sb_addn(&r->arena, at, len);
        r->headers[r->n_headers - 1].value_len += len;
        return 0;
}

static bool name_is(const HttpRequest *r, const HttpHeader *h, const char *name) {
        return h->name_len == strlen(name) && strncasecmp(r->arena.s + h->name, name, h->name_len) == 0;
}

static int on_header_value_complete(llhttp_t *p) {
        HttpParser *hp = hp_of(p);
        HttpRequest *r = &hp->req;
        HttpHeader *h = &r->headers[r->n_headers - 1];
        hp->in_field = false;

        const char *v = r->arena.s + h->value;
        while (h->value_len > 0 && (v[h->value_len - 1] == ' ' || v[h->value_len - 1] == '\t'))
                h->value_len--;
        /* obs-fold (RFC 9112 §5.2) reaches us as CR/LF inside the value:
         * refuse, as we refuse NUL and the other controls but HTAB. */
        for (size_t i = 0; i < h->value_len; i++) {
                unsigned char c = (unsigned char) v[i];
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return fail(hp, 400);
        }

        if (r->headers_done) {
                /* A trailer field: checked above, dropped at the end.  One
                 * that would frame or route the request (RFC 9110 §6.5.1)
                 * is no client's mistake: refuse it. */
                if (name_is(r, h, "content-length") || name_is(r, h, "transfer-encoding") ||
                    name_is(r, h, "host"))
                        return fail(hp, 400);
        } else if (name_is(r, h, "host"))
                hp->n_host++;
        else if (name_is(r, h, "content-type"))
                hp->n_content_type++;
        else if (name_is(r, h, "transfer-encoding"))
                hp->has_te = true;
        else if (name_is(r, h, "expect") && h->value_len == strlen("100-continue") &&
                 strncasecmp(v, "100-continue", h->value_len) == 0)
                r->expect_continue = true;
        return 0;
}

/* RFC 3986 §3.2.2 reg-name: unreserved, sub-delims and "%" HEXDIG HEXDIG. */
static bool is_reg_name_char(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("-._~!$&'()*+,;=", c));
}

/* RFC 9112 §3.2: Host = uri-host [ ":" port ], or empty; a bad one is a
 * 400 (it becomes SERVER_NAME, from which apps build their URLs).  An
 * IP-literal is taken as hex digits, ':' and '.' between brackets
 * (IPvFuture is refused). */
static bool host_valid(const char *v, size_t n) {
        size_t i = 0;
        if (n > 0 && v[0] == '[') {
                for (i = 1; i < n && v[i] != ']'; i++)
                        if (!(hex_digit((unsigned char) v[i]) >= 0 || v[i] == ':' || v[i] == '.'))
                                return false;
                if (i == n || i == 1)
                        return false;
                i++;
        } else
                for (; i < n && v[i] != ':'; i++) {
                        unsigned char c = (unsigned char) v[i];
                        if (c == '%') {
                                if (i + 2 >= n || hex_digit((unsigned char) v[i + 1]) < 0 ||
                                    hex_digit((unsigned char) v[i + 2]) < 0)
                                        return false;
                                i += 2;
                        } else if (!is_reg_name_char(c))
                                return false;
                }
        if (i == n)
                return true;
        if (v[i] != ':')
                return false;
        for (i++; i < n; i++)
                if (v[i] < '0' || v[i] > '9')
                        return false;
        return true;
}

static bool is_ows(char c) {
        return c == ' ' || c == '\t';
}

/* Transfer-Encoding, all its fields as one list (RFC 9110 §5.3): 0 when it
 * is exactly one final "chunked", else the status to answer.  Stricter than
 * RFC 9110 §5.6.1 in one point: an empty list element is refused, not
 * skipped, as are parameters: on a framing header every oddity is a
 * smuggling attempt until proven otherwise. */
static int te_check(const HttpRequest *r) {
        bool chunked = false, unknown = false;
        for (size_t i = 0; i < r->n_headers; i++) {
                const HttpHeader *h = &r->headers[i];
                if (!name_is(r, h, "transfer-encoding"))
                        continue;
                const char *v = http_req_str(r, h->value), *end = v + h->value_len;
                for (;;) {
                        const char *comma = memchr(v, ',', (size_t) (end - v));
                        const char *e = comma ? comma : end;
                        while (v < e && is_ows(*v))
                                v++;
                        const char *t = e;
                        while (t > v && is_ows(t[-1]))
                                t--;
                        if (t == v)
                                return 400;
                        for (const char *q = v; q < t; q++)
                                if (!http_is_tchar((unsigned char) *q))
                                        return 400;
                        /* chunked must be last, and once (RFC 9112 §6.1, §7) */
                        if (chunked)
                                return 400;
                        if (t - v == 7 && strncasecmp(v, "chunked", 7) == 0)
                                chunked = true;
                        else
                                unknown = true;
                        if (!comma)
                                break;
                        v = comma + 1;
                }
        }
        if (!chunked)
                return 400;     /* RFC 9112 §6.3: the length cannot be determined */
        return unknown ? 501 : 0;
}

static int on_headers_complete(llhttp_t *p) {
        HttpParser *hp = hp_of(p);
        HttpRequest *r = &hp->req;
        r->method = llhttp_get_method(p);
        r->major = llhttp_get_http_major(p);
        r->minor = llhttp_get_http_minor(p);
        /* "GET /" without a version: HTTP/0.9's form, no head to answer */
        if (!hp->version_seen)
                return fail(hp, 400);
        if (r->major != 1 || r->minor > 1)
                return fail(hp, 505);
        /* RFC 9112 §3.2: exactly one Host on 1.1; at most one on 1.0; a
         * valid value. */
        if (hp->n_host > 1 || (r->minor == 1 && hp->n_host == 0))
                return fail(hp, 400);
        const HttpHeader *host = http_req_header(r, "host");
        if (host && !host_valid(http_req_str(r, host->value), host->value_len))
                return fail(hp, 400);
        /* RFC 9110 §8.3: one media type.  Joined ("a,b"), as repeated
         * fields are for the environ, two would be a value of neither. */
        if (hp->n_content_type > 1)
                return fail(hp, 400);
        /* RFC 9110 §9.3.6: a CONNECT request has no content; llhttp takes
         * what follows its head for the tunnel, never for a body, so the
         * app would see a Content-Length whose bytes it never gets. */
        if (r->method == HTTP_CONNECT &&
            (hp->has_te || ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0)))
                return fail(hp, 400);
        /* RFC 9110 §10.1.1: an HTTP/1.0 client knows no 100 Continue */
        if (r->minor == 0)
                r->expect_continue = false;
        hp->n_head_fields = r->n_headers;
        if (hp->has_te) {
                /* RFC 9112 §6.1: TE on 1.0 means faulty framing; CL with TE is
                 * the classic smuggling pair (llhttp refuses it too, but the
                 * system's llhttp may be another version). */
                if (r->minor == 0 || (p->flags & F_CONTENT_LENGTH))
                        return fail(hp, 400);
                int status = te_check(r);
                if (status)
                        return fail(hp, status);
                r->chunked = true;
                r->headers_done = true;
                /* Stop here so that http_parser_feed() knows where the body
                 * starts and runs chunk_scan() ahead of llhttp. */
                hp->body_pause = true;
                return HPE_PAUSED;
        }
        if ((p->flags & F_CONTENT_LENGTH) && hp->limits.body && p->content_length > hp->limits.body)
                return fail(hp, 413);   /* before reading a byte of it */
        r->headers_done = true;
        return 0;
}

/* The body, de-chunked, as it arrives: in memory while it is small, then
 * to the spool file (see SPOOL_THRESHOLD), with req.body as the buffer of
 * what is not written yet.  A spool that fails (no space left...) is a
 * 500: the client did nothing wrong. */
static int on_body(llhttp_t *p, const char *at, size_t len) {
        HttpParser *hp = hp_of(p);
        HttpRequest *r = &hp->req;
        r->body_size += len;
        if (r->spool_fd < 0) {
                if (r->body_size <= SPOOL_THRESHOLD) {
                        sb_addn(&r->body, at, len);
                        return 0;
                }
                r->spool_fd = spool_open();
                if (r->spool_fd < 0)
                        return fail(hp, 500);
        }
        if (r->body.len + len < SPOOL_WRITE_BUFFER) {
                sb_addn(&r->body, at, len);
                return 0;
        }
        int e = spool_write(r->spool_fd, r->body.s, r->body.len, at, len);
        r->body.len = 0;
        return e < 0 ? fail(hp, 500) : 0;
}

static int on_message_complete(llhttp_t *p) {
        HttpParser *hp = hp_of(p);
        HttpRequest *r = &hp->req;
        if (r->spool_fd >= 0 && r->body.len > 0) {
                int e = spool_write(r->spool_fd, r->body.s, r->body.len, NULL, 0);
                r->body.len = 0;
                if (e < 0)
                        return fail(hp, 500);
        }
        hp->in_request = false;
        hp->head = (HeadScan) { .active = true };       /* the next request's */
        hp->req.n_headers = hp->n_head_fields;          /* drop trailer fields */
        hp->req.keep_alive = llhttp_should_keep_alive(p);
        /* An Upgrade or CONNECT request: WSGI cannot switch protocols, so it
         * is answered as a plain request and the connection closed after. */
        if (llhttp_get_upgrade(p)) {
                hp->req.upgrade = true;
                hp->req.keep_alive = false;
        }
        /* Stop here: the caller answers this request before we read the
         * next pipelined one. */
        return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
        .on_message_begin = on_message_begin,
        .on_method = on_method,
        .on_url = on_url,
        .on_url_complete = on_url_complete,
        .on_version = on_version,
        .on_version_complete = on_version_complete,
        .on_header_field = on_header_field,
        .on_header_field_complete = on_header_field_complete,
        .on_header_value = on_header_value,
        .on_header_value_complete = on_header_value_complete,
        .on_headers_complete = on_headers_complete,
        .on_body = on_body,
        .on_message_complete = on_message_complete,
};

void http_parser_init(HttpParser *hp, const HttpLimits *limits) {
        *hp = (HttpParser) { .limits = *limits, .req.spool_fd = -1, .head.active = true };
        /* gunicorn's clamping: 0 or too large means its hard ceiling. */
        if (hp->limits.request_line == 0 || hp->limits.request_line > MAX_REQUEST_LINE)
                hp->limits.request_line = MAX_REQUEST_LINE;
        if (hp->limits.fields == 0 || hp->limits.fields > MAX_HEADERS)
                hp->limits.fields = MAX_HEADERS;
        /* Strict: no llhttp_set_lenient_*() anywhere. */
        llhttp_init(&hp->parser, HTTP_REQUEST, &settings);
        hp->parser.data = hp;
}

void http_parser_done(HttpParser *hp) {
        sb_done(&hp->req.arena);
        sb_done(&hp->req.body);
        spool_close(&hp->req);
        free(hp->req.headers);
        hp->req.headers = NULL;
}

/* ---- chunked framing, checked ahead of llhttp ----
 *
 * RFC 9112 §7.1, byte by byte:
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size   = 1*HEXDIG
 *   chunk-ext    = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
 *
 * No sign, "0x", "_" or space in a size, no BWS at all (llhttp refuses it
 * too, so accepting it here would gain nothing), and every line end exactly
 * CRLF.  Trailer lines are only checked for their line ends, a leading
 * space (obs-fold) and controls here: llhttp and the header callbacks do the
 * rest.  The scanner stops right after the final CRLF.  (llhttp 8.1 is
 * stricter than the RFC on two extension forms, a quoted-pair and another
 * extension after a token value: it refuses those chunks, a 400.) */
enum {
        CS_SIZE_START,
        CS_SIZE,
        CS_EXT_NAME_START,
        CS_EXT_NAME,
        CS_EXT_VALUE_START,
        CS_EXT_TOKEN,
        CS_EXT_QUOTED,
        CS_EXT_QUOTED_PAIR,
        CS_EXT_QUOTED_END,
        CS_SIZE_LF,
        CS_DATA,
        CS_DATA_CR,
        CS_DATA_LF,
        CS_TRAILER_START,
        CS_TRAILER_LINE,
        CS_TRAILER_LF,
        CS_END_LF,
        CS_DONE,
};

static int hex_digit(unsigned char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* qdtext and the second byte of a quoted-pair (RFC 9110 §5.6.4), but '"'
 * and '\\' which the caller handles. */
static bool is_qdtext(unsigned char c) {
        return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Where a chunk-size line may end its size or an extension. */
static int ext_next(ChunkScan *cs, unsigned char c) {
        if (c == ';')
                cs->state = CS_EXT_NAME_START;
        else if (c == '\r')
                cs->state = CS_SIZE_LF;
        else
                return -400;
        return 0;
}

/* Scans up to len bytes, stopping after the end of the body.  Returns the
 * bytes accepted, or -400 / -413. */
static ssize_t chunk_scan(ChunkScan *cs, uint64_t limit, const char *data, size_t len) {
        size_t i = 0;
        while (i < len && cs->state != CS_DONE) {
                unsigned char c = (unsigned char) data[i];
                int d;

                if (cs->state == CS_DATA) {
                        size_t n = cs->size < len - i ? (size_t) cs->size : len - i;
                        cs->size -= n;
                        i += n;
                        if (cs->size == 0)
                                cs->state = CS_DATA_CR;
                        continue;
                }
                if (cs->state <= CS_SIZE_LF && ++cs->line_len > MAX_CHUNK_LINE)
                        return -400;

                switch (cs->state) {
                case CS_SIZE_START:
                        if ((d = hex_digit(c)) < 0)
                                return -400;
                        cs->size = (uint64_t) d;
                        cs->state = CS_SIZE;
                        break;
                case CS_SIZE:
                        if ((d = hex_digit(c)) >= 0) {
                                if (cs->size > UINT64_MAX >> 4)
                                        return -400;
                                cs->size = cs->size << 4 | (uint64_t) d;
                                break;
                        }
                        /* the size is known: refuse it before its data comes */
                        if (limit && (cs->size > limit || cs->total + cs->size > limit))
                                return -413;
                        if (ext_next(cs, c) < 0)
                                return -400;
                        break;
                case CS_EXT_NAME_START:
                        if (!http_is_tchar(c))
                                return -400;
                        cs->state = CS_EXT_NAME;
                        break;
                case CS_EXT_NAME:
                        if (http_is_tchar(c))
                                break;
                        if (c == '=')
                                cs->state = CS_EXT_VALUE_START;
                        else if (ext_next(cs, c) < 0)
                                return -400;
                        break;
                case CS_EXT_VALUE_START:
                        if (c == '"')
                                cs->state = CS_EXT_QUOTED;
                        else if (http_is_tchar(c))
                                cs->state = CS_EXT_TOKEN;
                        else
                                return -400;
                        break;
                case CS_EXT_TOKEN:
                        if (!http_is_tchar(c) && ext_next(cs, c) < 0)
                                return -400;
                        break;
                case CS_EXT_QUOTED:
                        if (c == '"')
                                cs->state = CS_EXT_QUOTED_END;
                        else if (c == '\\')
                                cs->state = CS_EXT_QUOTED_PAIR;
                        else if (!is_qdtext(c))
                                return -400;
                        break;
                case CS_EXT_QUOTED_PAIR:
                        if (!is_qdtext(c))
                                return -400;
                        cs->state = CS_EXT_QUOTED;
                        break;
                case CS_EXT_QUOTED_END:
                        if (ext_next(cs, c) < 0)
                                return -400;
                        break;
                case CS_SIZE_LF:
                        if (c != '\n')
                                return -400;
                        cs->line_len = 0;
                        cs->total += cs->size;
                        cs->state = cs->size ? CS_DATA : CS_TRAILER_START;
                        break;
                case CS_DATA_CR:
                        if (c != '\r')
                                return -400;
                        cs->state = CS_DATA_LF;
                        break;
                case CS_DATA_LF:
                        if (c != '\n')
                                return -400;
                        cs->state = CS_SIZE_START;
                        break;
                case CS_TRAILER_START:
                        if (c == '\r') {
                                cs->state = CS_END_LF;
                                break;
                        }
                        if (c == ' ' || c == '\t' || c < 0x20 || c == 0x7f)
                                return -400;
                        cs->state = CS_TRAILER_LINE;
                        break;
                case CS_TRAILER_LINE:
                        if (c == '\r')
                                cs->state = CS_TRAILER_LF;
                        else if ((c < 0x20 && c != '\t') || c == 0x7f)
                                return -400;
                        break;
                case CS_TRAILER_LF:
                        if (c != '\n')
                                return -400;
                        cs->state = CS_TRAILER_START;
                        break;
                case CS_END_LF:
                        if (c != '\n')
                                return -400;
                        cs->state = CS_DONE;
                        break;
                }
                i++;
        }
        return (ssize_t) i;
}

/* ---- the head, checked ahead of llhttp ----
 *
 * RFC 9112 §2.2: every line of the head ends in CRLF; a bare CR is
 * refused, and so is a bare LF (the RFC allows a recipient to take it as a
 * line end, but a proxy in front of us may not: the classic request
 * smuggling split).  llhttp 8.1 built without LLHTTP_STRICT_MODE takes a
 * bare LF after the request line and as the empty line ending the head.
 * In the request line (§3): single spaces between its three parts, no
 * control byte (HTAB, NUL...) anywhere, which llhttp lets through in the
 * target.  Empty lines before the request line are skipped (§2.2), as
 * llhttp does.  The scanner stops right after the LF ending the head; the
 * rest (the body, the next request) is not its business. */
static size_t head_scan(HeadScan *hs, const char *data, size_t len) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) data[i];
                if (hs->cr) {
                        if (c != '\n')
                                goto bad;
                        hs->cr = false;
                        if (hs->line_len == 0 && hs->line_seen) {
                                hs->active = false;
                                return i + 1;
                        }
                        hs->in_request_line = false;
                        hs->line_len = 0;
                        hs->prev = 0;
                        continue;
                }
                if (c == '\r') {
                        hs->cr = true;
                        continue;
                }
                if (c == '\n')
                        goto bad;
                if (!hs->line_seen)
                        hs->line_seen = hs->in_request_line = true;
                if (hs->in_request_line &&
                    ((c < 0x20 || c == 0x7f) || (c == ' ' && (hs->prev == ' ' || hs->line_len == 0))))
                        goto bad;
                hs->prev = c;
                hs->line_len++;
                continue;
        bad:
                hs->bad = true;
                return i;
        }
        return len;
}

/* One llhttp_execute(), with what the obs-fold check needs to know. */
static llhttp_errno_t execute(HttpParser *hp, const char *data, size_t len) {
        hp->feed_gen++;
        hp->feed_start = data;
        hp->feed_end = data + len;
        return llhttp_execute(&hp->parser, data, len);
}

static int parse_error(HttpParser *hp) {
        /* including HPE_PAUSED_UPGRADE, unreachable: the connection closes
         * after an upgrade request (on_message_complete) */
        return -(hp->error ? hp->error : 400);
}

int http_parser_feed(HttpParser *hp, const char *data, size_t len, size_t *ret_consumed) {
        size_t off = 0;
        for (;;) {
                if (hp->scanning) {
                        /* llhttp sees only what the scanner accepted, and
                         * must end the message exactly where it does. */
                        ssize_t n = chunk_scan(&hp->scan, hp->limits.body, data + off, len - off);
                        if (n < 0)
                                return (int) n;
                        llhttp_errno_t e = execute(hp, data + off, (size_t) n);
                        if (hp->scan.state != CS_DONE) {
                                if (e != HPE_OK)
                                        return parse_error(hp);
                                *ret_consumed = len;
                                return HTTP_MORE;
                        }
                        hp->scanning = false;
                        if (e != HPE_PAUSED || llhttp_get_error_pos(&hp->parser) != data + off + n)
                                return parse_error(hp);
                        *ret_consumed = off + (size_t) n;
                        return HTTP_DONE;
                }

                /* In a head, llhttp sees only what head_scan() accepted:
                 * up to a byte it refuses (llhttp may refuse an earlier
                 * one: its status wins, the same however the input was
                 * split), or to the end of the head. */
                size_t end = hp->head.active ? off + head_scan(&hp->head, data + off, len - off) : len;
                llhttp_errno_t e = execute(hp, data + off, end - off);
                if (hp->head.bad)
                        return e == HPE_OK ? -400 : parse_error(hp);
                switch (e) {
                case HPE_OK:
                        if (end < len) {
                                /* the head ended at end: the body follows */
                                off = end;
                                continue;
                        }
                        *ret_consumed = len;
                        return HTTP_MORE;
                case HPE_PAUSED:
                        off = (size_t) (llhttp_get_error_pos(&hp->parser) - data);
                        if (hp->body_pause) {
                                /* the head of a chunked request ended at off */
                                hp->body_pause = false;
                                hp->scanning = true;
                                hp->scan = (ChunkScan) { .state = CS_SIZE_START };
                                llhttp_resume(&hp->parser);
                                continue;
                        }
                        *ret_consumed = off;
                        return HTTP_DONE;
                default:
                        return parse_error(hp);
                }
        }
}

void http_parser_next(HttpParser *hp) {
        /* the request is answered: its spool's disk space goes now, not
         * when (if ever) the next request begins */
        spool_close(&hp->req);
        if (llhttp_get_errno(&hp->parser) == HPE_PAUSED)
                llhttp_resume(&hp->parser);
}

void http_parser_trim(HttpParser *hp) {
        HttpRequest *r = &hp->req;
        sb_done(&r->arena);
        sb_done(&r->body);
        free(r->headers);
        r->headers = NULL;
        r->n_headers = r->cap_headers = 0;
        r->target_len = 0;
}

const HttpHeader *http_req_header(const HttpRequest *r, const char *name) {
        for (size_t i = 0; i < r->n_headers; i++)
                if (name_is(r, &r->headers[i], name))
                        return &r->headers[i];
        return NULL;
}

const char *http_reason(int status) {
        switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 408: return "Request Timeout";
        case 413: return "Request Entity Too Large";
        case 414: return "Request-URI Too Large";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 505: return "HTTP Version Not Supported";
        default:  return "Unknown";
        }
}

const char *http_date_header(size_t *ret_len) {
        /* Names spelled out: strftime()'s %a/%b follow LC_TIME, which an app
         * may have changed. */
        static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
        static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        /* per thread: with --threads, pool threads and the worker's loop
         * (error responses) format it at the same time */
        static __thread char buf[64];
        static __thread size_t len;
        static __thread time_t cached = -1;

        struct timespec ts;
        clock_gettime(CLOCK_REALTIME_COARSE, &ts);
        if (ts.tv_sec != cached) {
                struct tm tm;
                gmtime_r(&ts.tv_sec, &tm);
                int n = snprintf(buf, sizeof buf, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
                                 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
                                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
                len = n > 0 && (size_t) n < sizeof buf ? (size_t) n : 0;
                cached = ts.tv_sec;
        }
        *ret_len = len;
        return buf;
}

char *http_error_response(int status, size_t *ret_len) {
        StrBuf b = {0};
        size_t dlen;
        const char *date = http_date_header(&dlen);
        const char *reason = http_reason(status);
        sb_addf(&b, "HTTP/1.1 %d %s\r\nServer: unitcorn\r\n", status, reason);
        sb_addn(&b, date, dlen);
        sb_addf(&b, "Connection: close\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s\n",
                 strlen(reason) + 1, reason);
        *ret_len = b.len;
        return b.s;
}

void http_split_target(const char *t, size_t n, const char **ret_path, size_t *ret_path_len,
                       const char **ret_query, size_t *ret_query_len) {
        const char *path = t;
        /* absolute-form (RFC 9112 §3.2.2): the path starts after the authority */
        if ((n > 7 && strncasecmp(t, "http://", 7) == 0) || (n > 8 && strncasecmp(t, "https://", 8) == 0)) {
                const char *auth = memchr(t, '/', n);
                auth += 2;
                path = memchr(auth, '/', n - (size_t) (auth - t));
                if (!path)
                        path = t + n;
        }
        size_t plen = n - (size_t) (path - t);
        const char *hash = memchr(path, '#', plen);
        if (hash)
                plen = (size_t) (hash - path);
        const char *q = memchr(path, '?', plen);
        *ret_path = path;
        *ret_path_len = q ? (size_t) (q - path) : plen;
        *ret_query = q ? q + 1 : path + plen;
        *ret_query_len = q ? plen - *ret_path_len - 1 : 0;
}
