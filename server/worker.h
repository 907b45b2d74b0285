/* worker.h: a worker process: one epoll loop accepting from the shared
 * listeners (EPOLLEXCLUSIVE), serving keep-alive and pipelined requests one
 * at a time, in order, through the WSGI app.  Runs in the child the master
 * forked; never returns to the master's code.
 *
 * Slow and idle clients are bounded by --header-timeout and --keep-alive;
 * a refused request gets a lingering close (worker.c).
 *
 * Not done yet: --threads, --max-requests, heartbeats for --timeout,
 * graceful draining of in-flight connections (SIGTERM ends the worker
 * after the request it is running). */
#pragma once

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

/* Loads the app, tells notify_fd it is ready, serves until told to stop.
 * Returns the process exit status. */
int worker_run(const Config *c, const Listeners *ls, int notify_fd);
