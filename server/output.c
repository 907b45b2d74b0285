/* output.c: see output.h. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "strbuf.h"

/* Segments per writev(); the kernel's limit is IOV_MAX (1024). */
#define OUT_IOV_MAX 64

static void seg_release(OutSeg *s) {
        if (s->release)
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

int out_flush(OutQueue *q, int fd) {
        while (q->first < q->n) {
                struct iovec iov[OUT_IOV_MAX];
                size_t k = 0;
                for (size_t i = q->first; i < q->n && k < OUT_IOV_MAX; i++, k++)
                        iov[k] = (struct iovec) { .iov_base = (void *) q->segs[i].p, .iov_len = q->segs[i].len };
                ssize_t w = writev(fd, iov, (int) k);
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

void out_clear(OutQueue *q) {
        for (size_t i = q->first; i < q->n; i++)
                seg_release(&q->segs[i]);
        free(q->segs);
        *q = (OutQueue) {0};
}
