/* worker.h: a worker process: one epoll loop accepting from the shared
 * listeners (EPOLLEXCLUSIVE), serving keep-alive and pipelined requests, in
 * order, through the WSGI app: one at a time, or with --threads N, up to N
 * at once in a pool of Python threads (worker.c says how).  Runs in the
 * child the master forked; never returns to the master's code.
 *
 * Slow and idle clients are bounded by --header-timeout and --keep-alive;
 * a refused request gets a lingering close (worker.c).
 *
 * Signals: SIGTERM drains (stop accepting, finish the requests begun,
 * close idle keep-alive connections, exit 0); SIGINT/SIGQUIT stop after
 * the request running (with --threads, the requests the threads run;
 * requests still waiting for a thread are dropped); WORKER_SIGNAL_DUMP
 * writes every thread's Python stack to stderr (faulthandler), for the
 * master's --timeout.
 *
 * --max-requests (+ jitter): the worker that answered its last request
 * stops accepting, drains as on SIGTERM and exits 0 with stats->recycled
 * set, which the master takes for a replacement, not a crash. */
#pragma once

#include <signal.h>
#include <stdint.h>

#include "config.h"
#include "listen.h"

/* Exit statuses a worker reports to the master, as gunicorn's. */
#define WORKER_EXIT_BOOT_ERROR 3
#define WORKER_EXIT_APP_LOAD_ERROR 4

/* What a worker writes to the master's pipe (one write, atomic). */
typedef struct WorkerMessage {
        int pid;
        int kind;
} WorkerMessage;
#define WORKER_MESSAGE_READY 1

/* faulthandler.register()ed in each worker; the master sends it to a
 * worker past --timeout, before SIGKILL. */
#define WORKER_SIGNAL_DUMP SIGUSR1

/* A worker's live figures, in memory shared with the master (master.c
 * says why).  Only the worker writes, only with relaxed atomic stores. */
typedef struct WorkerStats {
        uint64_t served;             /* requests answered */
        uint64_t beat_usec;          /* CLOCK_MONOTONIC of the loop's last turn */
        uint64_t busy_since_usec;    /* --threads > 1: CLOCK_MONOTONIC start of the oldest
                                      * request inside the app, 0: none (the loop keeps
                                      * beating while threads run the app) */
        uint32_t in_flight;          /* requests inside the app (or waiting for a thread) */
        uint32_t recycled;           /* 1 once --max-requests is reached: exits to be replaced */
} WorkerStats;

/* Loads the app (or takes the master's, --preload), tells notify_fd it is ready, serves until told to stop,
 * beating in stats at least every beat_ms (0: no need).  kick_fd: an
 * eventfd shared by all workers, with which one that cannot accept a
 * connection (EMFILE...) wakes another (worker.c); -1: none.  Returns the
 * process exit status. */
int worker_run(const Config *c, const Listeners *ls, int kick_fd, int notify_fd, WorkerStats *stats, unsigned beat_ms);
