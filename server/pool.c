/* pool.c: see pool.h.  One mutex guards both lists; threads wait on one
 * condition variable.  The loop never waits on the mutex for long: a
 * thread holds it only to move a job between lists. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"
#include "strbuf.h"

typedef struct PoolThread {
        struct Pool *pool;
        pthread_t tid;
        uint64_t busy_since;         /* relaxed atomic: µs, 0 while idle */
} PoolThread;

struct Pool {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        PoolJob *head, *tail;        /* waiting for a thread */
        PoolJob *done_head, *done_tail;
        bool stop;
        PoolCallbacks cb;
        void *userdata;
        int wake_fd;
        PoolThread *threads;
        unsigned n_threads;          /* started */
};

static __thread PoolThread *current;

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void *pool_thread(void *arg) {
        PoolThread *t = arg;
        Pool *p = t->pool;
        current = t;
        void *state = p->cb.thread_init(p->userdata);

        pthread_mutex_lock(&p->lock);
        for (;;) {
                while (!p->head && !p->stop)
                        pthread_cond_wait(&p->cond, &p->lock);
                if (p->stop)
                        break;
                PoolJob *job = p->head;
                p->head = job->next;
                if (!p->head)
                        p->tail = NULL;
                job->next = NULL;
                pthread_mutex_unlock(&p->lock);

                /* never 0: that means idle */
                __atomic_store_n(&t->busy_since, now_usec() | 1, __ATOMIC_RELAXED);
                p->cb.run(job, state);
                __atomic_store_n(&t->busy_since, 0, __ATOMIC_RELAXED);

                pthread_mutex_lock(&p->lock);
                if (p->done_tail)
                        p->done_tail->next = job;
                else
                        p->done_head = job;
                p->done_tail = job;
                pthread_mutex_unlock(&p->lock);
                uint64_t one = 1;
                ssize_t r = write(p->wake_fd, &one, sizeof one);
                (void) r;            /* EAGAIN: the counter is full, the loop wakes anyway */
                pthread_mutex_lock(&p->lock);
        }
        pthread_mutex_unlock(&p->lock);
        p->cb.thread_done(state);
        return NULL;
}

int pool_new(unsigned n, const PoolCallbacks *cb, void *userdata, int wake_fd, Pool **ret) {
        Pool *p = xcalloc(1, sizeof *p);
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->cond, NULL);
        p->cb = *cb;
        p->userdata = userdata;
        p->wake_fd = wake_fd;
        p->threads = xcalloc(n, sizeof *p->threads);
        /* The threads block every signal, so the worker's signals (SIGTERM,
         * the --timeout stack dump and the worker_abort hook it runs) go to
         * its loop, the main thread: the only one that sees EINTR and can
         * run Python's signal handlers. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        int r = 0;
        for (unsigned i = 0; i < n && r == 0; i++) {
                p->threads[i].pool = p;
                r = pthread_create(&p->threads[i].tid, NULL, pool_thread, &p->threads[i]);
                if (r == 0)
                        p->n_threads++;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0) {
                pool_free(p);
                return -r;
        }
        *ret = p;
        return 0;
}

void pool_submit(Pool *p, PoolJob *job) {
        job->next = NULL;
        pthread_mutex_lock(&p->lock);
        if (p->tail)
                p->tail->next = job;
        else
                p->head = job;
        p->tail = job;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
}

PoolJob *pool_collect(Pool *p) {
        pthread_mutex_lock(&p->lock);
        PoolJob *l = p->done_head;
        p->done_head = p->done_tail = NULL;
        pthread_mutex_unlock(&p->lock);
        return l;
}

void pool_job_idle(void) {
        if (current)
                __atomic_store_n(&current->busy_since, 0, __ATOMIC_RELAXED);
}

void pool_job_busy(void) {
        if (current)
                __atomic_store_n(&current->busy_since, now_usec() | 1, __ATOMIC_RELAXED);
}

uint64_t pool_busy_since(Pool *p) {
        uint64_t oldest = 0;
        for (unsigned i = 0; i < p->n_threads; i++) {
                uint64_t t = __atomic_load_n(&p->threads[i].busy_since, __ATOMIC_RELAXED);
                if (t && (!oldest || t < oldest))
                        oldest = t;
        }
        return oldest;
}

Pool *pool_free(Pool *p) {
        if (!p)
                return NULL;
        pthread_mutex_lock(&p->lock);
        p->stop = true;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < p->n_threads; i++)
                pthread_join(p->threads[i].tid, NULL);
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        free(p->threads);
        free(p);
        return NULL;
}
