/* access.h: the access log, gunicorn's --access-logfile and
 * --access-logformat (off unless a target is given).
 *
 * The format is compiled once at start-up (access_setup()) into literal
 * segments and atoms; each request is rendered into a stack buffer from the
 * HttpRequest, the peer address and what the response did, without a
 * malloc and without running Python code.  Atoms are gunicorn's (glogging's
 * atoms(): h l u t r m U q H s B b f a T D M L p, {name}i {name}o {name}e);
 * an unknown one renders as "-", as gunicorn's SafeAtoms does, and '"' in a
 * string value is escaped as \" like there.  Unlike gunicorn, control bytes
 * (a %0A in the decoded path) are escaped as \xHH, so a client cannot
 * forge lines, and only %(NAME)s and %% are accepted in the format (an
 * error at start-up otherwise).
 *
 * Targets: "-" is stdout; when stdout is the journal ($JOURNAL_STREAM),
 * each request is one entry sent with sd_journal_sendv(): MESSAGE (the
 * formatted line), PRIORITY=6 and the fields HTTP_METHOD, HTTP_PATH (as
 * sent, without the query), HTTP_QUERY, HTTP_VERSION, HTTP_STATUS,
 * HTTP_BYTES (body bytes), HTTP_DURATION_USEC, REMOTE_ADDR, REMOTE_PORT,
 * WORKER_PID, HTTP_USER_AGENT and HTTP_REFERER (when sent).  A path: the
 * master opens it O_APPEND before forking and every worker writes whole
 * lines to it (one write each, so lines never mix); it is not reopened:
 * rotate it with copytruncate, or use the journal. */
#pragma once

/* gunicorn's access_log_format */
#define ACCESS_DEFAULT_FORMAT "%(h)s %(l)s %(u)s %(t)s \"%(r)s\" %(s)s %(b)s \"%(f)s\" \"%(a)s\""

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "python.h"

/* http.h (main.c, which includes this, does not see llhttp's header) */
typedef struct HttpRequest HttpRequest;

typedef struct AccessEntry {
        const HttpRequest *req;
        const struct sockaddr_storage *peer;
        int status;
        unsigned long long sent;        /* body bytes */
        uint64_t start_usec;            /* access_now_usec() when the app was called */
        PyObject *environ;              /* borrowed, or NULL: {name}e */
        PyObject *headers;              /* borrowed tuple of (str, str), or NULL: {name}o */
} AccessEntry;

/* target: NULL (off), "-" (stdout, or the journal) or a file path.
 * format: NULL for gunicorn's default.  Logs and returns -EINVAL for a bad
 * format, -errno when the file cannot be opened. */
int access_setup(const char *target, const char *format);
void access_done(void);

extern bool access_on;
static inline bool access_enabled(void) {
        return access_on;
}

uint64_t access_now_usec(void);
void access_log(const AccessEntry *e);

