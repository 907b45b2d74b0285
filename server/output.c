/* output.c: see output.h. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "output.h"
#include "strbuf.h"

/* Segments per writev(); the kernel's limit is IOV_MAX (1024). */
#define OUT_IOV_MAX 64
/* Bytes per sendfile(2) call (the kernel's own cap is about 2 GiB). */
#define OUT_SENDFILE_MAX (1 << 30)

static void seg_release(OutSeg *s) {
        if (s->file)
                close(s->fd);
        else if (s->release)
                s->release(s->owner);
        else
                free(s->owner);
        *s = (OutSeg) {0};
}

static void out_push(OutQueue *q, OutSeg seg) {
        if (seg.len == 0) {
                seg_release(&seg);
                return;
        }
        if (q->first == q->n)
                q->first = q->n = 0;
        if (q->n == q->cap) {
                q->cap = q->cap ? q->cap * 2 : 16;
                q->segs = xrealloc(q->segs, q->cap * sizeof *q->segs);
        }
        q->segs[q->n++] = seg;
        q->bytes += seg.len;
}

void out_add_static(OutQueue *q, const char *p, size_t len) {
        out_push(q, (OutSeg) { .p = p, .len = len });
}

void out_add_copy(OutQueue *q, const char *p, size_t len) {
        char *c = xmalloc(len);
        memcpy(c, p, len);
        out_add_take(q, c, len);
}

void out_add_take(OutQueue *q, char *p, size_t len) {
        out_push(q, (OutSeg) { .p = p, .len = len, .owner = p });
}

void out_add_ref(OutQueue *q, const char *p, size_t len, void *owner, OutRelease release) {
        out_push(q, (OutSeg) { .p = p, .len = len, .owner = owner, .release = release });
}

void out_add_file(OutQueue *q, int fd, off_t off, size_t len) {
        out_push(q, (OutSeg) { .len = len, .file = true, .fd = fd, .off = off });
}

/* One sendfile(2) of the first segment, a file range (the caller moves
 * s->off on, as it moves p on for the others). */
static ssize_t send_file(const OutSeg *s, int fd) {
        off_t off = s->off;
        ssize_t w = sendfile(fd, s->fd, &off, MIN(s->len, (size_t) OUT_SENDFILE_MAX));
        if (w == 0) {
                log_warning("A file sent as a response body ended %zu bytes early (changed while sent?), closing the connection.",
                            s->len);
                errno = ENODATA;
                return -1;
        }
        return w;
}

/* One writev(2) of the memory segments up to the next file range, if any:
 * with MSG_MORE when one follows. */
static ssize_t send_memory(OutQueue *q, int fd) {
        struct iovec iov[OUT_IOV_MAX];
        size_t k = 0;
        bool more = false;
        for (size_t i = q->first; i < q->n && k < OUT_IOV_MAX; i++, k++) {
                if (q->segs[i].file) {
                        more = true;
                        break;
                }
                iov[k] = (struct iovec) { .iov_base = (void *) q->segs[i].p, .iov_len = q->segs[i].len };
        }
        if (!more)
                return writev(fd, iov, (int) k);
        struct msghdr m = { .msg_iov = iov, .msg_iovlen = k };
        return sendmsg(fd, &m, MSG_MORE);
}

int out_flush(OutQueue *q, int fd) {
        while (q->first < q->n) {
                ssize_t w = q->segs[q->first].file ? send_file(&q->segs[q->first], fd) : send_memory(q, fd);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                size_t left = (size_t) w;
                q->bytes -= left;
                while (left > 0) {
                        OutSeg *s = &q->segs[q->first];
                        if (left < s->len) {
                                if (s->file)
                                        s->off += (off_t) left;
                                else
                                        s->p += left;
                                s->len -= left;
                                break;
                        }
                        left -= s->len;
                        seg_release(s);
                        q->first++;
                }
        }
        q->first = q->n = 0;
        return 1;
}

int out_flush_blocking(OutQueue *q, int fd, int timeout_ms) {
        for (;;) {
                int r = out_flush(q, fd);
                if (r != 0)
                        return r < 0 ? r : 0;
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                r = poll(&p, 1, timeout_ms);
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
        }
}

void out_cut(OutQueue *q, int fd) {
        struct linger l = { .l_onoff = 1, .l_linger = 0 };
        (void) setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        q->cut = true;
}

void out_trim(OutQueue *q) {
        if (!out_pending(q))
                out_clear(q);
}

void out_clear(OutQueue *q) {
        for (size_t i = q->first; i < q->n; i++)
                seg_release(&q->segs[i]);
        free(q->segs);
        *q = (OutQueue) { .cut = q->cut };      /* a cut stays cut until the close */
}
