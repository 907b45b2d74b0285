/* output.h: a connection's pending output, a queue of byte segments sent
 * with writev(2).
 *
 * A segment either owns a malloc'd copy (response heads, chunk sizes), is
 * static, or borrows memory kept alive by an owner released once the bytes
 * are on the wire (a Python bytes object: no copy of response bodies).
 * Python-agnostic: owners are released through a callback.
 *
 * A segment may also be a range of a file (wsgi.file_wrapper), sent with
 * sendfile(2) from a descriptor the queue owns: the file goes out from the
 * worker's loop like any other output, so a slow client holds a
 * connection, not the worker.  The bytes before it are sent with MSG_MORE,
 * so that a response head and the start of its file share packets. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef void (*OutRelease)(void *owner);

typedef struct OutSeg {
        const char *p;
        size_t len;
        void *owner;             /* freed with release, or free() if release is NULL */
        OutRelease release;
        bool file;               /* a file range: len bytes of fd from off, not p */
        int fd;
        off_t off;
} OutSeg;

typedef struct OutQueue {
        OutSeg *segs;
        size_t first, n, cap;    /* pending: segs[first .. n) */
        size_t bytes;            /* pending bytes */
        bool cut;                /* out_cut(): the connection ends in a reset */
} OutQueue;

void out_add_static(OutQueue *q, const char *p, size_t len);
void out_add_copy(OutQueue *q, const char *p, size_t len);
/* Takes a malloc'd buffer. */
void out_add_take(OutQueue *q, char *p, size_t len);
/* Borrows p, kept alive by owner until sent; release(owner) then. */
void out_add_ref(OutQueue *q, const char *p, size_t len, void *owner, OutRelease release);
/* len bytes of the file fd from offset off; takes fd (closed once sent or
 * dropped).  A file that turns out shorter fails the flush (-ENODATA). */
void out_add_file(OutQueue *q, int fd, off_t off, size_t len);

/* Writes what it can without blocking.  Returns 1 when everything went out,
 * 0 when the socket is full (try again when writable), -errno on error. */
int out_flush(OutQueue *q, int fd);
/* Writes everything, waiting up to timeout_ms for the socket each time it
 * is full: a streaming response from a synchronous worker.  Returns 0 or
 * -errno (-ETIMEDOUT). */
int out_flush_blocking(OutQueue *q, int fd, int timeout_ms);
/* Makes the coming close() of the socket fd a reset (SO_LINGER 0): for a
 * response cut short, whose end must not look like a whole one.  Marks q
 * (cut), so that the connection is not closed gracefully (a FIN first). */
void out_cut(OutQueue *q, int fd);
/* Drops everything pending, releasing owners. */
void out_clear(OutQueue *q);
/* Nothing pending: frees the segment array (an idle connection's). */
void out_trim(OutQueue *q);
static inline bool out_pending(const OutQueue *q) { return q->first < q->n; }
