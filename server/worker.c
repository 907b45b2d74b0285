/* worker.c: see worker.h.
 *
 * A connection is a read buffer, an llhttp parser and an output queue.
 * conn_process() is its whole state machine: flush pending output; if the
 * parser has buffered input, feed it; when a request is complete, run the
 * app and queue the response; only when the buffer is empty and nothing is
 * pending, read more.  Because the parser pauses after each request and we
 * stop reading while output is pending, pipelined requests are answered in
 * order and a client that does not read its answers cannot make us buffer
 * without bound.
 *
 * Timeouts (slow or idle clients) are deadlines kept in three FIFO queues,
 * one per duration (--header-timeout, --keep-alive, the linger time): a
 * timer is only ever (re)armed at now + its queue's duration, so each queue
 * stays sorted, arming is O(1), and epoll_wait() sleeps until the earliest
 * head.  Which timer a connection waits under is decided each time
 * conn_process() returns to epoll (conn_wait_read()).
 *
 * Draining (SIGTERM: a graceful stop, or the old workers of a reload):
 * the listeners leave the epoll set, then whatever is already in their
 * accept queues is accepted (EPOLLEXCLUSIVE woke one worker per connection:
 * one that stopped watching without accepting could leave a connection
 * unserved until the next one arrives).  Requests begun are answered with
 * Connection: close, idle keep-alive connections are closed, connections
 * that sent nothing yet get DRAIN_NEW_MS to start a request, and the
 * worker exits when none is left; --graceful-timeout is the master's.
 *
 * --max-requests: the request that reaches the worker's limit (--max-requests
 * plus a random 0..--max-requests-jitter, drawn once) is answered with
 * Connection: close; before its response leaves, the worker stops watching
 * the listeners and accepts (without serving yet) only what is queued at
 * that moment, so a client's next connection goes to the replacement; then
 * it drains as above and exits 0 with stats->recycled set.
 *
 * Heartbeat: each turn of the loop stores the time in the worker's
 * WorkerStats (shared with the master), and epoll_wait() never sleeps
 * longer than beat_ms; the app's run time is not covered (in_flight).
 *
 * --threads N > 1 (pool.c, wsgi_thread_*()): the loop still owns accepting,
 * reading and parsing, and never holds the GIL.  A complete request takes
 * its connection out of the epoll set and onto the pool's FIFO;
 * a thread runs the app with the GIL, writes the whole response without
 * it, and hands the connection back through the finished list and the
 * wake eventfd; the loop then counts the request and goes on with the
 * connection (the next pipelined request, or keep-alive).  A connection is
 * in at most one thread at a time, so its requests stay in order.  While
 * all N threads are taken (in_flight >= N) the listeners leave the epoll
 * set: new connections wait in the kernel's backlog, where another worker
 * can take them, instead of behind this worker's busy threads; requests
 * on connections already open (keep-alive, pipelined) still queue here,
 * FIFO.  The loop keeps beating while threads run the app: --timeout sees
 * a stuck request through stats->busy_since_usec instead (master.c).
 * N == 1 is the code path above, untouched: no lock, no thread.
 *
 * accept4() failing for want of resources (EMFILE at RLIMIT_NOFILE, ENFILE,
 * ENOBUFS, ENOMEM) or for a reason we do not know: the connection stays in
 * the listen backlog, so the listener stays readable and, epoll being
 * level-triggered, a retry at once fails again, a busy loop.  Instead the
 * listeners leave the epoll set for a delay that starts at
 * ACCEPT_BACKOFF_MIN_MS and doubles with each failed retry up to
 * ACCEPT_BACKOFF_MAX_MS; closing one of our connections (an fd freed)
 * retries at the next turn.  Meanwhile the connections opened wait in the
 * backlog, where another worker may take them, and the ones open here are
 * served as usual.  One warning when it begins, one line when it has
 * caught up (accept_caught_up()): never a line per failure.  But the
 * connection that woke this worker woke only this one (EPOLLEXCLUSIVE):
 * without more, it would wait for the next connection to wake another.
 * So a failed accept also writes to the kick eventfd, which every worker
 * watches the way it watches the listeners (exclusive, and only while
 * accepting): the kernel wakes one other worker waiting, which takes what
 * is queued. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "hooks.h"
#include "http.h"
#include "log.h"
#include "output.h"
#include "pool.h"
#include "python.h"
#include "strbuf.h"
#include "worker.h"
#include "wsgi.h"

#define READ_BUFFER_SIZE (16 * 1024)
#define MAX_EVENTS 64
/* Connections accepted per wake-up of a listener, so one busy listener
 * cannot starve the connections already open. */
#define ACCEPT_BATCH 16
/* After refusing a request, how long we go on reading (and discarding)
 * what the client still sends before closing: closing with unread input
 * makes the kernel send a reset, which can destroy our answer before the
 * client reads it (RFC 9112 §9.6; nginx's "lingering close"). */
#define LINGER_MS 5000
/* Reads per wake-up while lingering, so that a fast sender cannot keep us
 * in one connection. */
#define LINGER_READS 16
/* While draining: how long a connection accepted but still silent has to
 * begin its request. */
#define DRAIN_NEW_MS 1000
/* accept4() failing (EMFILE...): the listeners' pause, doubled per failed
 * retry (see the top of this file). */
#define ACCEPT_BACKOFF_MIN_MS 10
#define ACCEPT_BACKOFF_MAX_MS 1000

/* What a connection is waiting for, and so which timeout applies. */
typedef enum TimerKind {
        TIMER_NONE,
        TIMER_NEW,                   /* accepted, no request yet: --header-timeout, then closed silently */
        TIMER_IDLE,                  /* between requests: --keep-alive, then closed silently */
        TIMER_HEAD,                  /* a request's head: --header-timeout from its first byte, then 408 */
        TIMER_BODY,                  /* its body: --header-timeout without a byte, then 408 */
        TIMER_SEND,                  /* the client to read our output: --header-timeout without progress */
        TIMER_LINGER,                /* after a refusal: LINGER_MS */
        TIMER_DRAIN,                 /* draining, no request yet: DRAIN_NEW_MS, then closed */
} TimerKind;

struct Conn;
typedef struct TimerQueue {
        struct Conn *head, *tail;    /* sorted by deadline: see the top of this file */
        uint64_t duration_ms;        /* 0: this timeout is off */
} TimerQueue;

typedef enum SourceKind {
        SOURCE_LISTENER,
        SOURCE_KICK,
        SOURCE_WAKE,
        SOURCE_CONN,
} SourceKind;

typedef struct Source {
        SourceKind kind;
        int fd;
} Source;

typedef struct Conn {
        Source src;                  /* first: epoll hands us a Source * */
        struct Conn *prev, *next;
        char *rbuf;                  /* NULL, the worker's shared buffer, or (unparsed bytes kept) its own */
        size_t rstart, rlen;         /* unparsed input: rbuf[rstart .. rlen) */
        HttpParser hp;
        OutQueue out;
        struct sockaddr_storage peer;
        uint32_t events;             /* what epoll watches for */
        bool close_after;            /* close once the output is flushed */
        bool linger;                 /* ... and linger first (a refused request) */
        bool lingering;
        bool continue_sent;
        bool served;                 /* a request was answered on this connection */
        bool keep;                   /* --threads: the pool thread's answer, keep the connection */
        bool last;                   /* its request was the worker's last (--max-requests) */
        bool head_grace;             /* this request's head had its one late read (conn_expire()) */
        PoolJob job;
        TimerKind timer;
        TimerQueue *tq;              /* the queue it is in, or NULL */
        uint64_t deadline;           /* CLOCK_MONOTONIC ms */
        struct Conn *tprev, *tnext;
} Conn;

typedef struct Worker {
        const Config *config;
        char *rbuf;                  /* READ_BUFFER_SIZE: every connection reads into it (conn_park()) */
        int epoll_fd;
        Source wake;
        Source *listeners;
        size_t n_listeners;
        Source kick;                 /* shared by the workers (see the top of this file); fd -1: none */
        HttpLimits limits;
        Conn *conns;
        TimerQueue q_client, q_keep_alive, q_linger, q_drain;
        WorkerStats *stats;
        unsigned beat_ms;
        uint64_t max_requests;       /* this worker's limit, jitter included; 0: none */
        bool accepting;              /* not stopped (draining, --max-requests) */
        bool accepting_queued;       /* worker_stop_accepting() takes what is queued */
        bool listening;              /* the listeners are in the epoll set: worker_sync_listeners() */
        /* accept4() failing (see the top of this file) */
        uint64_t backoff_until;      /* CLOCK_MONOTONIC ms the listeners come back; 0: not paused */
        uint64_t backoff_ms;         /* the current delay */
        uint64_t backoff_since;      /* the first failure of this episode */
        unsigned backoff_failures;   /* failures since the last accept that worked; 0: none */
        bool recycle;                /* the limit was reached: drain and exit */
        bool draining;
        /* --threads > 1 */
        Pool *pool;
        unsigned threads;
        unsigned in_flight;          /* requests in the pool, running or waiting */
        uint64_t dispatched;         /* requests handed to the pool */
        bool paused;                 /* all threads taken: the listeners leave the epoll set */
} Worker;

static volatile sig_atomic_t drain_requested, quit_requested;
static int wake_fd = -1;

static void on_stop_signal(int sig) {
        int saved = errno;
        if (sig == SIGTERM)
                drain_requested = 1;
        else
                quit_requested = 1;
        uint64_t one = 1;
        ssize_t r = write(wake_fd, &one, sizeof one);
        (void) r;
        errno = saved;
}

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void beat(Worker *w) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        __atomic_store_n(&w->stats->beat_usec, (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000,
                         __ATOMIC_RELAXED);
}

/* wsgi.c's, while a streamed body waits for its client (WsgiConn). */
static void worker_beat(void *w) {
        beat(w);
}

static TimerQueue *timer_queue(Worker *w, TimerKind kind) {
        switch (kind) {
        case TIMER_NONE:
                return NULL;
        case TIMER_IDLE:
                return &w->q_keep_alive;
        case TIMER_LINGER:
                return &w->q_linger;
        case TIMER_DRAIN:
                return &w->q_drain;
        default:
                return &w->q_client;
        }
}

static void timer_stop(Conn *c) {
        TimerQueue *q = c->tq;
        if (!q)
                return;
        if (c->tprev)
                c->tprev->tnext = c->tnext;
        else
                q->head = c->tnext;
        if (c->tnext)
                c->tnext->tprev = c->tprev;
        else
                q->tail = c->tprev;
        c->tprev = c->tnext = NULL;
        c->tq = NULL;
}

/* Waits under kind from now on; restart: even if it already does (a timeout
 * without progress rather than one for a whole phase). */
static void timer_set(Worker *w, Conn *c, TimerKind kind, bool restart) {
        if (c->timer == kind && !restart)
                return;
        timer_stop(c);
        c->timer = kind;
        TimerQueue *q = timer_queue(w, kind);
        if (!q || q->duration_ms == 0)
                return;
        c->deadline = now_ms() + q->duration_ms;
        c->tprev = q->tail;
        if (q->tail)
                q->tail->tnext = c;
        else
                q->head = c;
        q->tail = c;
        c->tq = q;
}

static void conn_free(Worker *w, Conn *c) {
        timer_stop(c);
        if (c->prev)
                c->prev->next = c->next;
        else
                w->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        (void) epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, c->src.fd, NULL);
        close(c->src.fd);
        if (w->backoff_until > 0)
                w->backoff_until = MIN(w->backoff_until, now_ms());    /* an fd is free: retry at the next turn */
        out_clear(&c->out);
        http_parser_done(&c->hp);
        if (c->rbuf != w->rbuf)
                free(c->rbuf);
        free(c);
}

/* Connections read into the worker's one buffer, and the parser copies
 * what it keeps: an idle connection costs no buffer.  Only unparsed bytes
 * left when the connection waits (pipelined requests behind a response
 * still going out, or handed to a thread) move to a buffer of its own. */
static void conn_park(Worker *w, Conn *c) {
        if (c->rbuf != w->rbuf)
                return;                 /* none, or its own already */
        if (c->rstart == c->rlen) {
                c->rbuf = NULL;
                c->rstart = c->rlen = 0;
                return;
        }
        size_t n = c->rlen - c->rstart;
        char *own = xmalloc(READ_BUFFER_SIZE);
        memcpy(own, c->rbuf + c->rstart, n);
        c->rbuf = own;
        c->rstart = 0;
        c->rlen = n;
}

static int conn_watch(Worker *w, Conn *c, uint32_t events) {
        if (c->events == events)
                return 0;
        struct epoll_event ev = { .events = events, .data.ptr = &c->src };
        if (epoll_ctl(w->epoll_fd, EPOLL_CTL_MOD, c->src.fd, &ev) < 0)
                return -errno;
        c->events = events;
        return 0;
}

static void conn_queue_error(Conn *c, int status) {
        size_t len;
        char *r = http_error_response(status, &len);
        out_add_take(&c->out, r, len);
        c->close_after = true;
        c->linger = true;
}

/* The connection waits for input: under which timeout.  False: close it
 * (idle while draining). */
static bool conn_wait_read(Worker *w, Conn *c) {
        if (c->lingering)
                return true;            /* LINGER_MS from its start */
        if (http_parser_in_request(&c->hp)) {
                if (c->hp.req.headers_done)
                        timer_set(w, c, TIMER_BODY, true);
                else
                        timer_set(w, c, TIMER_HEAD, false);
        } else if (w->draining) {
                /* Closed, gracefully (conn_linger()): a request the client
                 * sends meanwhile meets our FIN, not a reset, and the client
                 * retries it elsewhere (RFC 9112 §9.3.1). */
                if (c->served) {
                        c->close_after = c->linger = true;
                        return true;
                }
                timer_set(w, c, TIMER_DRAIN, false);
        } else if (c->served) {
                /* idle keep-alive: it keeps its Conn only (tests/bench/idle-conns) */
                if (c->timer != TIMER_IDLE) {
                        http_parser_trim(&c->hp);
                        out_trim(&c->out);
                }
                timer_set(w, c, TIMER_IDLE, false);
        } else
                timer_set(w, c, TIMER_NEW, false);
        return true;
}

/* After the answer to a refused request: stop writing, then read and drop
 * whatever comes until EOF or LINGER_MS.  Returns 0 to wait for more,
 * -1 to close now. */
static int conn_linger(Worker *w, Conn *c) {
        if (!c->lingering) {
                if (shutdown(c->src.fd, SHUT_WR) < 0)
                        return -1;
                c->lingering = true;
                timer_set(w, c, TIMER_LINGER, true);
        }
        for (int i = 0; i < LINGER_READS; i++) {
                ssize_t n = recv(c->src.fd, w->rbuf, READ_BUFFER_SIZE, 0);
                if (n > 0 || (n < 0 && errno == EINTR))
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                return -1;              /* EOF or an error */
        }
        return conn_watch(w, c, EPOLLIN) < 0 ? -1 : 0;
}

/* Whether what the connection waits for is there already. */
static bool conn_ready(const Conn *c) {
        struct pollfd p = { .fd = c->src.fd, .events = c->events & EPOLLOUT ? POLLOUT : POLLIN };
        return poll(&p, 1, 0) > 0;
}

/* A timeout expired: a client that started a request and stalled gets a
 * 408 (written only if the socket takes it at once); the others are closed
 * silently, as gunicorn and nginx do with idle connections. */
static void conn_expire(Worker *w, Conn *c) {
        /* The worker may have been busy in the app past this deadline while
         * the client's next bytes (or its reading) waited for us: a timeout
         * for idleness must not count that time.  Only the head's deadline
         * is absolute. */
        if (c->timer != TIMER_HEAD && c->timer != TIMER_LINGER && conn_ready(c)) {
                timer_set(w, c, c->timer, true);
                return;         /* epoll reports it next */
        }
        /* The head's rest may have come while the worker was in the app,
         * its event still to come: read it before the 408.  Once per
         * request, so a trickler gains one period at most. */
        if (c->timer == TIMER_HEAD && !c->head_grace && conn_ready(c)) {
                c->head_grace = true;
                timer_set(w, c, TIMER_HEAD, true);
                return;
        }
        if (c->timer == TIMER_HEAD || c->timer == TIMER_BODY) {
                /* nothing of this request was answered: we read only with
                 * no output pending */
                size_t len;
                char *r = http_error_response(408, &len);
                out_add_take(&c->out, r, len);
                (void) out_flush(&c->out, c->src.fd);
        }
        /* a response cut off must not end like a whole one (a
         * close-delimited body): a reset, which also frees what the
         * kernel still holds for a client that does not read */
        if (c->timer == TIMER_SEND)
                out_cut(&c->out, c->src.fd);
        conn_free(w, c);
}

static void worker_stop_accepting(Worker *w, bool process);

/* A listener (or the kick fd) in or out of the epoll set: -errno. */
static int watch_listener(Worker *w, Source *src, bool add) {
        /* EPOLLEXCLUSIVE: one worker wakes per new connection, not all. */
        struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = src };
        return epoll_ctl(w->epoll_fd, add ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, src->fd, &ev) < 0 ? -errno : 0;
}

/* The listeners are in the epoll set exactly while the worker accepts, has
 * a thread free (--threads) and is not backing off from a failed accept4(). */
static void worker_sync_listeners(Worker *w) {
        bool want = w->accepting && !w->paused && w->backoff_until == 0;
        if (want == w->listening)
                return;
        w->listening = want;
        for (size_t i = 0; i <= w->n_listeners; i++) {
                Source *src = i < w->n_listeners ? &w->listeners[i] : &w->kick;
                int r = src->fd >= 0 ? watch_listener(w, src, want) : 0;
                if (r < 0)
                        log_warning_errno(r, "Failed to %s listening: %s, ignoring.",
                                          want ? "resume" : "pause", STRERROR(r));
        }
}

static bool accept_connections(Worker *w, int listen_fd, bool process);

static void worker_kick(Worker *w) {
        uint64_t one = 1;
        ssize_t k = write(w->kick.fd, &one, sizeof one);
        (void) k;
}

/* Another worker could not accept a connection waiting (see the top of
 * this file): take what is queued. */
static void worker_kicked(Worker *w) {
        if (!w->listening) {
                /* stopped since epoll_wait() (earlier in this batch): the
                 * kernel woke only us, so pass it on */
                worker_kick(w);
                return;
        }
        uint64_t v;
        ssize_t k = read(w->kick.fd, &v, sizeof v);
        (void) k;               /* another worker may have read it first */
        for (size_t i = 0; i < w->n_listeners; i++)
                while (w->listening && accept_connections(w, w->listeners[i].fd, true))
                        ;
}

/* accept4() failed with error: the listeners pause (see the top of this
 * file).  Logged for the first failure of an episode only. */
static void accept_backoff(Worker *w, int error) {
        uint64_t now = now_ms();
        if (w->backoff_failures == 0) {
                char limit[64] = "";
                struct rlimit rl;
                if (error == EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0)
                        snprintf(limit, sizeof limit, " (RLIMIT_NOFILE is %llu)", (unsigned long long) rl.rlim_cur);
                log_warning_errno(error, "Failed to accept connections: %s%s. Pausing accepting, retrying "
                                  "every %d to %d ms; new connections wait in the listen backlog.",
                                  STRERROR(error), limit, ACCEPT_BACKOFF_MIN_MS, ACCEPT_BACKOFF_MAX_MS);
                w->backoff_since = now;
                w->backoff_ms = ACCEPT_BACKOFF_MIN_MS;
        } else
                w->backoff_ms = MIN(w->backoff_ms * 2, (uint64_t) ACCEPT_BACKOFF_MAX_MS);
        w->backoff_failures++;
        w->backoff_until = now + w->backoff_ms;
        worker_sync_listeners(w);
        /* after this worker stopped watching it: another one wakes */
        if (w->kick.fd >= 0)
                worker_kick(w);
}

/* accept4() said EAGAIN: it had an fd for us (the kernel takes one first)
 * and nothing was waiting.  Only that ends an episode: an accept that
 * works while connections still wait, at the limit, would log a line per
 * connection. */
static void accept_caught_up(Worker *w) {
        if (w->backoff_failures == 0)
                return;
        log_info("Accepting connections again: caught up after %u failed attempt%s over %llu ms.",
                 w->backoff_failures, w->backoff_failures == 1 ? "" : "s",
                 (unsigned long long) (now_ms() - w->backoff_since));
        w->backoff_failures = 0;
}

/* The request about to be answered is the worker's last (--max-requests):
 * before its response leaves, see the top of this file. */
static void worker_recycle(Worker *w) {
        w->recycle = true;
        __atomic_store_n(&w->stats->recycled, 1, __ATOMIC_RELAXED);
        log_info("Worker %d reached --max-requests (%llu requests), restarting.",
                 (int) getpid(), (unsigned long long) w->max_requests);
        worker_stop_accepting(w, false);
}

/* --threads: all threads taken, or one free again (see the top of this
 * file). */
static void worker_pause_accepting(Worker *w, bool pause) {
        if (w->paused == pause)
                return;
        w->paused = pause;
        worker_sync_listeners(w);
}

static void stats_in_flight(Worker *w) {
        __atomic_store_n(&w->stats->in_flight, w->in_flight, __ATOMIC_RELAXED);
        worker_pause_accepting(w, w->in_flight >= w->threads);
}

/* --threads: hands the complete request to the pool; the connection
 * leaves the epoll set until it comes back (worker_collect()). */
static void conn_dispatch(Worker *w, Conn *c) {
        bool last = w->max_requests > 0 && w->dispatched + 1 >= w->max_requests;
        if (w->config->keep_alive == 0 || w->draining || drain_requested || last)
                c->hp.req.keep_alive = false;
        w->dispatched++;
        c->last = last;
        if (last && !w->recycle)
                worker_recycle(w);
        (void) epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, c->src.fd, NULL);
        c->events = 0;
        w->in_flight++;
        stats_in_flight(w);
        pool_submit(w->pool, &c->job);
}

/* Runs the connection as far as it can go without blocking.  Returns
 * false when it freed it. */
static bool conn_run(Worker *w, Conn *c) {
        /* The last recv() emptied the socket: with level-triggered epoll,
         * waiting costs less than a recv() that says EAGAIN (nginx's way). */
        bool emptied = false;
        for (;;) {
                if (out_pending(&c->out)) {
                        int r = out_flush(&c->out, c->src.fd);
                        if (r < 0) {
                                /* cut short (a file that shrank): as conn_expire() */
                                out_cut(&c->out, c->src.fd);
                                goto close;
                        }
                        if (r == 0) {
                                if (conn_watch(w, c, EPOLLOUT) < 0)
                                        goto close;
                                timer_set(w, c, TIMER_SEND, true);
                                return true;
                        }
                }
                if (c->close_after) {
                        /* After an answer, too, the client may have sent
                         * more (requests pipelined after a "Connection:
                         * close" or an upgrade): close gracefully, as after a
                         * refusal, never on unread input; but a response cut
                         * short ends in a reset (out_cut()), never a FIN. */
                        if (!c->out.cut && (c->linger || c->served) && conn_linger(w, c) == 0)
                                return true;
                        goto close;
                }

                if (c->rstart < c->rlen) {
                        size_t consumed = 0;
                        int r = http_parser_feed(&c->hp, c->rbuf + c->rstart, c->rlen - c->rstart, &consumed);
                        c->rstart += consumed;
                        if (r < 0) {
                                conn_queue_error(c, -r);
                                continue;
                        }
                        if (r == HTTP_DONE) {
                                WsgiConn wc = { .fd = c->src.fd, .out = &c->out, .peer = &c->peer,
                                                .beat = worker_beat, .beat_data = w,
                                                .stopping = &drain_requested };
                                /* the timer of this request's phase ends here */
                                timer_stop(c);
                                c->timer = TIMER_NONE;
                                c->head_grace = false;
                                if (w->pool) {
                                        /* before the thread has it */
                                        conn_park(w, c);
                                        conn_dispatch(w, c);
                                        return false;   /* the thread's now: not to be touched */
                                }
                                bool last = w->max_requests > 0 &&
                                        w->stats->served + 1 >= w->max_requests;
                                if (w->config->keep_alive == 0 || w->draining || drain_requested || last)
                                        c->hp.req.keep_alive = false;   /* --keep-alive 0 */
                                __atomic_store_n(&w->stats->in_flight, 1, __ATOMIC_RELAXED);
                                bool keep = wsgi_handle(&c->hp.req, &wc);
                                __atomic_store_n(&w->stats->in_flight, 0, __ATOMIC_RELAXED);
                                __atomic_store_n(&w->stats->served, w->stats->served + 1, __ATOMIC_RELAXED);
                                beat(w);
                                /* A SIGTERM that came while the app ran: the
                                 * connection goes on to the drain, which answers
                                 * a request already sent or closes gracefully. */
                                if (!keep || last)
                                        c->close_after = true;
                                if (last && !w->recycle)
                                        worker_recycle(w);
                                http_parser_next(&c->hp);
                                c->continue_sent = false;
                                c->served = true;
                                continue;
                        }
                        c->rstart = c->rlen = 0;
                        /* RFC 9110 §10.1.1: a client waiting for 100 Continue
                         * before it sends the body. */
                        if (c->hp.req.headers_done && c->hp.req.expect_continue && !c->continue_sent) {
                                out_add_static(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
                                c->continue_sent = true;
                                continue;
                        }
                }

                ssize_t n;
                if (emptied) {
                        n = -1;
                        errno = EAGAIN;
                } else {
                        /* all of the buffer was parsed: back to the shared one */
                        if (c->rbuf && c->rbuf != w->rbuf)
                                free(c->rbuf);
                        c->rbuf = w->rbuf;
                        c->rstart = c->rlen = 0;
                        n = recv(c->src.fd, c->rbuf, READ_BUFFER_SIZE, 0);
                }
                if (n > 0) {
                        c->rstart = 0;
                        c->rlen = (size_t) n;
                        emptied = (size_t) n < READ_BUFFER_SIZE;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        if (conn_watch(w, c, EPOLLIN) < 0 || !conn_wait_read(w, c))
                                goto close;
                        if (c->close_after)
                                continue;
                        return true;
                }
                /* EOF or a reset: an unfinished request is simply dropped */
                goto close;
        }
close:
        conn_free(w, c);
        return false;
}

static void conn_process(Worker *w, Conn *c) {
        if (conn_run(w, c))
                conn_park(w, c);
}

/* --threads: the connections whose response a thread has written. */
static void worker_collect(Worker *w) {
        for (PoolJob *j = pool_collect(w->pool), *next; j; j = next) {
                next = j->next;
                Conn *c = (Conn *) ((char *) j - offsetof(Conn, job));
                w->in_flight--;
                __atomic_store_n(&w->stats->served, w->stats->served + 1, __ATOMIC_RELAXED);
                /* The response said close: conn_run() closes gracefully
                 * (conn_linger()).  Else, after a SIGTERM that came while
                 * the app ran, the connection goes on as below: the client
                 * may have sent its next request already (it has had the
                 * answer for a while), and conn_process() answers that one
                 * with Connection: close, or closes an idle connection,
                 * rather than closing on unread input (a reset). */
                if (!c->keep || c->last)
                        c->close_after = c->linger = true;     /* conn_run(): gracefully */
                else {
                        http_parser_next(&c->hp);
                        c->continue_sent = false;
                        c->served = true;
                }
                struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->src };
                if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, c->src.fd, &ev) < 0) {
                        conn_free(w, c);
                        continue;
                }
                c->events = EPOLLIN;
                conn_process(w, c);
        }
        stats_in_flight(w);
}

/* Returns true when it stopped at ACCEPT_BATCH: there may be more.
 * process: serve what the new connections already sent; else they wait
 * for epoll (under TIMER_NEW). */
static bool accept_connections(Worker *w, int listen_fd, bool process) {
        for (int i = 0; i < ACCEPT_BATCH; i++) {
                /* the request just served reached --max-requests: no more */
                if (!w->accepting && !w->accepting_queued)
                        return false;
                /* --threads: all taken by the connections just accepted */
                if (w->paused && !w->accepting_queued)
                        return false;
                /* a listener's event in the batch that began the back-off */
                if (w->backoff_until > 0 && !w->accepting_queued)
                        return false;
                struct sockaddr_storage peer = {0};
                socklen_t len = sizeof peer;
                int fd = accept4(listen_fd, (struct sockaddr *) &peer, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                        if (errno == EAGAIN)
                                accept_caught_up(w);
                        if (errno == EAGAIN || errno == EINTR)
                                return false;
                        if (errno == ECONNABORTED || errno == EPROTO)
                                continue;
                        /* The kernel takes an fd before it looks at the
                         * queue: EMFILE also comes with nothing waiting
                         * (after the batch's last connection took the last
                         * fd).  Only a connection left waiting was refused. */
                        int e = errno;
                        struct pollfd p = { .fd = listen_fd, .events = POLLIN };
                        if (poll(&p, 1, 0) > 0)
                                accept_backoff(w, e);
                        return false;
                }
                Conn *c = calloc(1, sizeof *c);
                if (!c) {
                        close(fd);      /* the client sees it closed: better than waiting */
                        accept_backoff(w, ENOMEM);
                        return false;
                }
                c->src = (Source) { .kind = SOURCE_CONN, .fd = fd };
                c->peer = peer;
                c->events = EPOLLIN;
                http_parser_init(&c->hp, &w->limits);
                struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->src };
                if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        log_warning_errno(errno, "Failed to watch a connection: %s, ignoring.", STRERROR(errno));
                        http_parser_done(&c->hp);
                        free(c);
                        close(fd);
                        continue;
                }
                c->next = w->conns;
                if (w->conns)
                        w->conns->prev = c;
                w->conns = c;
                /* The request is often there already: no need to wait for epoll. */
                if (process)
                        conn_process(w, c);
                else
                        timer_set(w, c, TIMER_NEW, false);
        }
        return true;
}

/* Takes the listeners out of the epoll set, then accepts what is already
 * queued (see the top of this file).  Once. */
static void worker_stop_accepting(Worker *w, bool process) {
        if (!w->accepting)
                return;
        w->accepting = false;
        worker_sync_listeners(w);
        w->accepting_queued = true;
        for (size_t i = 0; i < w->n_listeners; i++)
                while (accept_connections(w, w->listeners[i].fd, process))
                        ;
        w->accepting_queued = false;
}

/* SIGTERM, or --max-requests: see the top of this file. */
static void worker_start_drain(Worker *w) {
        w->draining = true;
        log_info("Worker %d draining.", (int) getpid());
        worker_stop_accepting(w, true);
        for (Conn *c = w->conns, *next; c; c = next) {
                next = c->next;
                /* idle keep-alive connections: a request that came already
                 * is answered (Connection: close), else they close
                 * gracefully (conn_wait_read()) */
                if (c->timer == TIMER_IDLE)
                        conn_process(w, c);
                else if (c->timer == TIMER_NEW)
                        timer_set(w, c, TIMER_DRAIN, true);
        }
}

/* epoll_wait()'s timeout: until the earliest deadline or the next
 * heartbeat, -1 if neither. */
static int next_timeout(const Worker *w) {
        const TimerQueue *qs[] = { &w->q_client, &w->q_keep_alive, &w->q_linger, &w->q_drain };
        uint64_t now = now_ms();
        uint64_t earliest = w->beat_ms > 0 ? now + w->beat_ms : UINT64_MAX;
        if (w->backoff_until > 0 && w->backoff_until < earliest)
                earliest = w->backoff_until;
        for (size_t i = 0; i < ELEMENTSOF(qs); i++)
                if (qs[i]->head && qs[i]->head->deadline < earliest)
                        earliest = qs[i]->head->deadline;
        if (earliest == UINT64_MAX)
                return -1;
        if (earliest <= now)
                return 0;
        return earliest - now > INT_MAX ? INT_MAX : (int) (earliest - now);
}

static void expire_timers(Worker *w) {
        TimerQueue *qs[] = { &w->q_client, &w->q_keep_alive, &w->q_linger, &w->q_drain };
        uint64_t now = now_ms();
        for (size_t i = 0; i < ELEMENTSOF(qs); i++)
                while (qs[i]->head && qs[i]->head->deadline <= now)
                        conn_expire(w, qs[i]->head);
        /* the back-off is over (or an fd was freed): the listeners come
         * back, and epoll reports at once a connection waiting */
        if (w->backoff_until > 0 && w->backoff_until <= now) {
                w->backoff_until = 0;
                worker_sync_listeners(w);
        }
}

static int worker_setup_signals(void) {
        /* The master blocks its signals for sd-event; an app's subprocesses
         * must not inherit that. */
        sigset_t all;
        sigemptyset(&all);
        if (sigprocmask(SIG_SETMASK, &all, NULL) < 0)
                return -errno;
        struct sigaction sa = { .sa_handler = on_stop_signal };
        sigemptyset(&sa.sa_mask);
        int sigs[] = { SIGTERM, SIGINT, SIGQUIT };
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                if (sigaction(sigs[i], &sa, NULL) < 0)
                        return -errno;
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        (void) sigaction(SIGCHLD, &dfl, NULL);
        (void) sigaction(SIGHUP, &dfl, NULL);
        return 0;
}

/* faulthandler.register(WORKER_SIGNAL_DUMP): the master's --timeout gets
 * the stack of a worker stuck in Python on stderr before killing it.  Not
 * fatal: the worker still serves without it. */
static void install_stack_dump(void) {
        /* the worker_abort hook, if any, runs after the dump (chain) */
        bool chain = hooks_install_abort(WORKER_SIGNAL_DUMP);
        _cleanup_pyobj_ PyObject *fh = PyImport_ImportModule("faulthandler");
        _cleanup_pyobj_ PyObject *reg = fh ? PyObject_GetAttrString(fh, "register") : NULL;
        _cleanup_pyobj_ PyObject *args = Py_BuildValue("(i)", WORKER_SIGNAL_DUMP);
        _cleanup_pyobj_ PyObject *kwargs = Py_BuildValue("{sO}", "chain", chain ? Py_True : Py_False);
        _cleanup_pyobj_ PyObject *r = reg && args && kwargs ? PyObject_Call(reg, args, kwargs) : NULL;
        if (!r) {
                python_print_exception();
                log_warning("Failed to install faulthandler, ignoring: no Python stack on --timeout.");
        }
}

/* --threads: what a pool thread does (pool.h): the app, then the whole
 * response, written without the GIL.  Waiting for the client to read is
 * --header-timeout's business (as TIMER_SEND in the loop), not
 * --timeout's. */
static int send_timeout_ms;

static void *pool_thread_init(void *userdata) {
        return wsgi_thread_new();
}

static void pool_thread_run(PoolJob *job, void *thread) {
        Conn *c = (Conn *) ((char *) job - offsetof(Conn, job));
        WsgiConn wc = { .fd = c->src.fd, .out = &c->out, .peer = &c->peer,
                        .stopping = &drain_requested };
        bool keep = wsgi_thread_handle(thread, &c->hp.req, &wc);
        pool_job_idle();
        if (out_flush_blocking(&c->out, c->src.fd, send_timeout_ms) < 0) {
                out_clear(&c->out);     /* the client is gone, or did not read: as conn_expire() */
                out_cut(&c->out, c->src.fd);
                keep = false;
        }
        c->keep = keep;
}

static void pool_thread_done(void *thread) {
        wsgi_thread_free(thread);
}

static const PoolCallbacks pool_callbacks = {
        .thread_init = pool_thread_init,
        .run = pool_thread_run,
        .thread_done = pool_thread_done,
};

int worker_run(const Config *c, const Listeners *ls, int kick_fd, int notify_fd, WorkerStats *stats, unsigned beat_ms) {
        Worker w = {
                .config = c,
                .limits = {
                        .request_line = c->limit_request_line,
                        .fields = c->limit_request_fields,
                        .field_size = c->limit_request_field_size,
                        .body = c->limit_request_body,
                },
                .q_client = { .duration_ms = (uint64_t) c->header_timeout * 1000 },
                .q_keep_alive = { .duration_ms = (uint64_t) c->keep_alive * 1000 },
                .q_linger = { .duration_ms = LINGER_MS },
                .q_drain = { .duration_ms = DRAIN_NEW_MS },
                .stats = stats,
                .beat_ms = beat_ms,
                .threads = c->threads,
        };
        /* freed on every return, the early ones (boot errors) too */
        _cleanup_free_ char *rbuf = w.rbuf = xmalloc(READ_BUFFER_SIZE);
        _cleanup_free_ Source *listeners = w.listeners = xmalloc(ls->n * sizeof *w.listeners);
        PyThreadState *main_ts = NULL;
        pid_t master = getppid();

        /* A worker must not outlive its master (gunicorn's workers check
         * their parent on every loop; the kernel does it for us). */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != master)
                return WORKER_EXIT_BOOT_ERROR;

        wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        w.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (wake_fd < 0 || w.epoll_fd < 0) {
                log_error_errno(errno, "Failed to set up the worker's event loop: %s", STRERROR(errno));
                return WORKER_EXIT_BOOT_ERROR;
        }
        int r = worker_setup_signals();
        if (r < 0) {
                log_error_errno(r, "Failed to set up the worker's signals: %s", STRERROR(r));
                return WORKER_EXIT_BOOT_ERROR;
        }

        log_info("Booting worker with pid: %d", (int) getpid());
        install_stack_dump();
        PyObject *app = c->preload ? python_preloaded_app() : NULL;
        if (!app && python_load_app(c->app, &app) < 0)
                return WORKER_EXIT_APP_LOAD_ERROR;
        r = wsgi_init(app, c);
        Py_DECREF(app);    /* wsgi holds its own reference */
        if (r < 0 || hooks_post_worker_init() < 0)
                return WORKER_EXIT_BOOT_ERROR;

        w.wake = (Source) { .kind = SOURCE_WAKE, .fd = wake_fd };
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w.wake };
        if (epoll_ctl(w.epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev) < 0) {
                log_error_errno(errno, "Failed to watch the wake-up fd: %s", STRERROR(errno));
                return WORKER_EXIT_BOOT_ERROR;
        }
        w.n_listeners = ls->n;
        for (size_t i = 0; i < ls->n; i++) {
                w.listeners[i] = (Source) { .kind = SOURCE_LISTENER, .fd = ls->items[i].fd };
                r = watch_listener(&w, &w.listeners[i], true);
                if (r < 0) {
                        log_error_errno(r, "Failed to watch listener '%s': %s", ls->items[i].name, STRERROR(r));
                        return WORKER_EXIT_BOOT_ERROR;
                }
        }
        w.kick = (Source) { .kind = SOURCE_KICK, .fd = kick_fd };
        r = kick_fd >= 0 ? watch_listener(&w, &w.kick, true) : 0;
        if (r < 0) {
                log_error_errno(r, "Failed to watch the workers' kick fd: %s", STRERROR(r));
                return WORKER_EXIT_BOOT_ERROR;
        }

        w.accepting = w.listening = true;
        if (c->max_requests > 0) {
                /* gunicorn: max_requests + randint(0, jitter), per worker */
                uint32_t rnd = 0;
                if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t) sizeof rnd)
                        rnd = (uint32_t) getpid() ^ (uint32_t) now_ms();
                w.max_requests = (uint64_t) c->max_requests +
                        (c->max_requests_jitter > 0 ? rnd % ((uint64_t) c->max_requests_jitter + 1) : 0);
        }

        if (c->threads > 1) {
                /* The loop lets the GIL go for good: it never runs Python.
                 * First, so that threads started can take it (and, should
                 * pool_new() fail, finish). */
                send_timeout_ms = c->header_timeout == 0 ? -1 :
                        c->header_timeout > INT_MAX / 1000 ? INT_MAX : (int) c->header_timeout * 1000;
                main_ts = PyEval_SaveThread();
                r = pool_new(c->threads, &pool_callbacks, NULL, wake_fd, &w.pool);
                if (r < 0) {
                        log_error_errno(r, "Failed to start %u threads: %s", c->threads, STRERROR(r));
                        return WORKER_EXIT_BOOT_ERROR;
                }
        }

        WorkerMessage msg = { .pid = (int) getpid(), .kind = WORKER_MESSAGE_READY };
        if (write(notify_fd, &msg, sizeof msg) != (ssize_t) sizeof msg)
                log_warning_errno(errno, "Failed to tell the master this worker is ready: %s, ignoring.", STRERROR(errno));
        close(notify_fd);

        while (!quit_requested) {
                if ((drain_requested || w.recycle) && !w.draining)
                        worker_start_drain(&w);
                if (w.draining && !w.conns)
                        break;
                beat(&w);
                if (w.pool)
                        __atomic_store_n(&w.stats->busy_since_usec, pool_busy_since(w.pool), __ATOMIC_RELAXED);
                struct epoll_event events[MAX_EVENTS];
                int n = epoll_wait(w.epoll_fd, events, MAX_EVENTS, next_timeout(&w));
                if (n < 0) {
                        if (errno == EINTR) {
                                /* The loop holds no GIL with threads: Python's
                                 * own signal handlers (the worker_abort hook's)
                                 * run only when the main thread asks. */
                                if (w.pool) {
                                        PyEval_RestoreThread(main_ts);
                                        if (PyErr_CheckSignals() < 0)
                                                python_print_exception();
                                        main_ts = PyEval_SaveThread();
                                }
                                continue;
                        }
                        log_error_errno(errno, "epoll_wait() failed: %s", STRERROR(errno));
                        break;
                }
                for (int i = 0; i < n && !quit_requested; i++) {
                        Source *s = events[i].data.ptr;
                        if (s->kind == SOURCE_LISTENER && w.accepting)
                                (void) accept_connections(&w, s->fd, true);
                        else if (s->kind == SOURCE_KICK)
                                worker_kicked(&w);
                        else if (s->kind == SOURCE_WAKE) {
                                uint64_t v;
                                ssize_t k = read(wake_fd, &v, sizeof v);
                                (void) k;
                                if (w.pool)
                                        worker_collect(&w);
                        }
                        else if (s->kind == SOURCE_CONN)
                                /* a Conn freed earlier in this batch cannot
                                 * appear: each fd yields one event per wait */
                                conn_process(&w, (Conn *) s);
                }
                /* after the events, never before: a connection closed here
                 * must not be among the events still to handle */
                expire_timers(&w);
        }

        if (w.draining)
                log_info("Worker exiting (pid: %d)", (int) getpid());
        if (w.pool) {
                /* SIGINT/SIGQUIT: the requests running finish first */
                w.pool = pool_free(w.pool);
                PyEval_RestoreThread(main_ts);
        }
        while (w.conns)
                conn_free(&w, w.conns);
        close(w.epoll_fd);
        hooks_worker_exit();
        wsgi_done();
        python_finalize();
        return 0;
}
