/* pool.h: --threads N: a worker's threads (DESIGN §4.1), as plain pthreads
 * behind a FIFO of jobs.  Python-agnostic: what a thread does with a job,
 * and with the interpreter, is the caller's (worker.c and wsgi.c's
 * wsgi_thread_*()).
 *
 * The worker's loop (one thread) submits jobs and collects the finished
 * ones; each pool thread takes the oldest job waiting, runs it, puts it on
 * the finished list and writes 1 to the loop's eventfd.  A job is never
 * run by two threads, and one is submitted again only once collected:
 * that is what keeps pipelined requests of a connection in order.
 *
 * For --timeout, each thread publishes when it started the job it is
 * running, or resumed it (pool_job_idle(), pool_job_busy());
 * pool_busy_since() is the oldest. */
#pragma once

#include <stdint.h>

typedef struct PoolJob {
        struct PoolJob *next;        /* the pool's, while submitted */
} PoolJob;

typedef struct PoolCallbacks {
        /* In each new thread, before any job: its state, passed to the
         * others. */
        void *(*thread_init)(void *userdata);
        void (*run)(PoolJob *job, void *thread);
        /* When the pool stops, in each thread. */
        void (*thread_done)(void *thread);
} PoolCallbacks;

typedef struct Pool Pool;

/* Starts n threads.  wake_fd: an eventfd written when a job is finished. */
int pool_new(unsigned n, const PoolCallbacks *cb, void *userdata, int wake_fd, Pool **ret);
void pool_submit(Pool *p, PoolJob *job);
/* The finished jobs, oldest first, as a list through ->next; NULL: none. */
PoolJob *pool_collect(Pool *p);
/* CLOCK_MONOTONIC µs at which the oldest running job started; 0: none. */
uint64_t pool_busy_since(Pool *p);
/* In a pool thread's run(): from now on this job does not count for
 * pool_busy_since() (it waits for a client, not for the app), until
 * pool_job_busy() (from now).  No-ops in other threads. */
void pool_job_idle(void);
void pool_job_busy(void);
/* Stops the threads: each finishes the job it runs (jobs still waiting are
 * dropped: the caller owns them) and calls thread_done; then joins them.
 * NULL is fine.  Returns NULL. */
Pool *pool_free(Pool *p);
