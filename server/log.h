/* log.h: the server's own messages (not the access log, not the app's).
 *
 * One line per message on stderr, "unitcorn[PID]: message".  When stderr is
 * the journal ($JOURNAL_STREAM names it), each line carries the sd-daemon(3)
 * "<N>" priority prefix so journald files it at the right priority.
 * Structured fields with sd_journal_send() (DESIGN §4.4) are not done yet. */
#pragma once

#include <syslog.h>

#include "cleanup.h"

void log_setup(void);
void log_set_level(int level);

/* Logs at prio.  Returns -|errno_val| (or -EINVAL when 0), so that
 * "return log_error_errno(r, \"...: %s\", STRERROR(r))" reads naturally. */
int log_full(int prio, int errno_val, const char *fmt, ...) _printf_(3, 4);

#define log_error_errno(e, ...) log_full(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full(LOG_WARNING, (e), __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full(LOG_DEBUG, 0, __VA_ARGS__)
