/* http.h: HTTP/1.1 requests (RFC 9112) read with llhttp in strict mode,
 * plus the small shared pieces of responses (reason phrases, Date).
 *
 * The parser copies what it needs (target, header fields, body) out of the
 * caller's buffer, so the caller can reuse its read buffer at once.  It
 * stops (pauses llhttp) at the end of each request, which is how pipelined
 * requests get answered one at a time and in order.  Limits carry
 * gunicorn's names and defaults.  On top of llhttp's strict checks it
 * refuses what DESIGN §6 found llhttp lets through: a space before the
 * colon, obs-fold (CR/LF inside a value); and a missing or repeated Host on
 * HTTP/1.1.
 *
 * Chunked request bodies (RFC 9112 §7.1) are decoded by llhttp, but every
 * byte of the framing is first checked by our own strict scanner
 * (chunk_scan() in http.c): llhttp 8.1 skips the two bytes after chunk data
 * and the byte after each CR of a chunk-size line or of the final empty
 * line, whatever they are.  Transfer-Encoding is checked as a whole (RFC
 * 9112 §6.1, §6.3): a final "chunked" exactly once, else 400; another coding
 * before it, 501 (we decode none); on HTTP/1.0 or with Content-Length, 400.
 * Trailer fields are checked and counted against the header limits, then
 * dropped (WSGI has no place for them).  The body (up to limits.body, else
 * 413) is kept in memory up to SPOOL_THRESHOLD bytes; past that it goes to
 * a spool file (spool.h) as it arrives, in writes of about
 * SPOOL_WRITE_BUFFER bytes, so a worker's memory does not grow with a body.
 *
 * Timeouts are the caller's (worker.c): http_parser_in_request() tells
 * whether a request has begun. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#include "strbuf.h"

typedef struct HttpLimits {
        unsigned request_line;           /* gunicorn limit_request_line, 4094 */
        unsigned fields;                 /* limit_request_fields, 100 */
        unsigned field_size;             /* limit_request_field_size, 8190; 0: none */
        uint64_t body;                   /* --limit-request-body, bytes; 0: none */
} HttpLimits;

typedef struct HttpHeader {
        size_t name, name_len;           /* offsets into HttpRequest.arena */
        size_t value, value_len;
} HttpHeader;

typedef struct HttpRequest {
        StrBuf arena;                       /* target, header names and values */
        size_t target_len;               /* the target is arena[0 .. target_len) */
        HttpHeader *headers;
        size_t n_headers, cap_headers;
        StrBuf body;                     /* de-chunked when chunked: the whole body when
                                          * spool_fd < 0, else bytes not yet written to it */
        int spool_fd;                    /* the body's spool file, or -1; the parser's (closed
                                          * by http_parser_next()): dup() to keep it */
        uint64_t body_size;              /* body bytes so far, in memory or spooled */
        uint8_t method;                  /* llhttp_method_t */
        uint8_t major, minor;
        bool keep_alive;
        bool expect_continue;
        bool headers_done;               /* the body (if any) comes next */
        bool upgrade;                    /* llhttp handed the rest of the stream over */
        bool chunked;                    /* Transfer-Encoding: chunked */
} HttpRequest;

/* Where the strict chunked-framing scanner is (http.c). */
typedef struct ChunkScan {
        uint8_t state;
        unsigned line_len;               /* bytes of the current chunk-size line */
        uint64_t size;                   /* the chunk size being read, then what is left of its data */
        uint64_t total;                  /* data bytes so far */
} ChunkScan;

typedef struct HttpParser {
        llhttp_t parser;
        HttpRequest req;
        HttpLimits limits;
        size_t line_len;
        size_t field_len;
        bool in_field;
        unsigned n_host;
        bool has_te;
        bool in_request;                 /* a request has begun and is not handled yet */
        bool body_pause;                 /* llhttp paused at the end of a chunked request's head */
        uint8_t line_state;              /* line_scan() in http.c: where the request line is */
        char line_prev;                  /* its last byte so far */
        bool scanning;                   /* a chunked body is being read */
        ChunkScan scan;
        size_t n_head_fields;            /* headers[] past this are trailer fields */
        /* obs-fold detection: llhttp hands a folded value over as two spans
         * with the CRLF between them skipped */
        unsigned feed_gen, value_gen;
        const char *feed_start, *feed_end, *value_end;
        bool value_started;
        int error;                       /* the status to answer, set by a callback */
} HttpParser;

enum {
        HTTP_MORE = 0,                   /* all input consumed, request incomplete */
        HTTP_DONE = 1,                   /* a request is complete: handle it, then http_parser_next() */
};

void http_parser_init(HttpParser *hp, const HttpLimits *limits);
void http_parser_done(HttpParser *hp);
/* Feeds len bytes.  Returns HTTP_MORE or HTTP_DONE with *ret_consumed set,
 * or the negative HTTP status to answer (-400, -413, -414, -431, -501,
 * -505) after which the connection must be closed: nothing after the
 * offending byte has been parsed. */
int http_parser_feed(HttpParser *hp, const char *data, size_t len, size_t *ret_consumed);
/* After HTTP_DONE, once the request is handled: ready for the next one. */
void http_parser_next(HttpParser *hp);
/* Whether bytes of a request (beyond empty lines) arrived and that request
 * is not complete yet: what tells a slow client from an idle one. */
static inline bool http_parser_in_request(const HttpParser *hp) {
        return hp->in_request;
}

static inline const char *http_req_str(const HttpRequest *r, size_t off) {
        return r->arena.s + off;
}
/* The value of the first header named name (case-insensitive), or NULL. */
const HttpHeader *http_req_header(const HttpRequest *r, const char *name);

const char *http_reason(int status);
/* "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n", recomputed once a second (per thread). */
const char *http_date_header(size_t *ret_len);
/* A complete error response with Connection: close (malloc'd). */
char *http_error_response(int status, size_t *ret_len);

/* RFC 9110 §5.6.2 tchar. */
bool http_is_tchar(unsigned char c);

/* A request target split as the environ and the logs want it: the path
 * (of an absolute-form target too, RFC 9112 §3.2.2) and the query, both
 * without the '?' and any '#fragment'. */
void http_split_target(const char *t, size_t n, const char **ret_path, size_t *ret_path_len,
                       const char **ret_query, size_t *ret_query_len);
