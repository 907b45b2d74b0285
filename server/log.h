/* log.h: the server's own messages (not the access log: access.h; not the
 * app's Python logging: pylog.h).
 *
 * When stderr is the journal ($JOURNAL_STREAM names it, systemd.exec(5)),
 * each message is one journal entry sent with sd_journal_sendv(): MESSAGE
 * (newlines and all: a traceback stays one entry), PRIORITY, WORKER_PID in
 * a worker, and whatever fields the caller adds.  Otherwise, or with
 * --error-logfile PATH, gunicorn's line format, on stderr or appended to
 * the file:
 *
 *   [2026-11-25 17:00:00 +0000] [PID] [LEVEL] message
 *
 * --log-level (gunicorn's names) filters both.  Not done: reopening the
 * error log file (SIGUSR1 is --timeout's stack dump). */
#pragma once

/* Our journal entries' identifier: without one journald would take the
 * process's name, which the process title (-n) has overwritten. */
#define LOG_SYSLOG_IDENTIFIER "SYSLOG_IDENTIFIER=unitcorn"

#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <syslog.h>

#include "cleanup.h"

void log_setup(void);
/* gunicorn's --log-level names: debug, info, warning, error, critical.
 * -EINVAL for anything else. */
int log_parse_level(const char *name, int *ret_level);
/* gunicorn's name of a level log_parse_level() gives. */
const char *log_level_name(int level);
void log_set_level(int level);
int log_get_level(void);
/* --error-logfile: "-" (or NULL) is stderr; else the file, opened
 * O_APPEND, replaces stderr and the journal for the server's messages. */
int log_open_file(const char *path);
/* Whether fd is the stream $JOURNAL_STREAM names. */
bool log_fd_is_journal(int fd);
/* Whether the server's messages go to the journal. */
bool log_to_journal(void);
/* This process's pid when it is not the master (a worker), else 0;
 * cached, updated across fork(). */
pid_t log_worker_pid(void);
/* getpid(), cached the same way: no system call per request. */
pid_t log_pid(void);

/* Logs at prio.  Returns -|errno_val| (or -EINVAL when 0), so that
 * "return log_error_errno(r, \"...: %s\", STRERROR(r))" reads naturally. */
int log_full(int prio, int errno_val, const char *fmt, ...) _printf_(3, 4);

/* Logs msg[0..len) (any length, newlines kept) at prio; in the journal
 * with the extra fields, each a "NAME=value" iovec. */
void log_message(int prio, const char *msg, size_t len, const struct iovec *fields, size_t n_fields);
/* The same without the --log-level filter: the app's Python logging
 * records, which Python's levels filter. */
void log_send(int prio, const char *msg, size_t len, const struct iovec *fields, size_t n_fields);

#define log_error_errno(e, ...) log_full(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full(LOG_WARNING, (e), __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full(LOG_DEBUG, 0, __VA_ARGS__)
