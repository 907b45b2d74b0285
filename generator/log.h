/* log.h: the generator's messages.
 *
 * As systemd.generator(7) asks, a generator started by PID 1 does not rely
 * on its stderr: messages go to the journal when journald runs, else to
 * /dev/kmsg (not in a container), else stderr (see log.c).  Every message
 * reads "FILE:LINE: message", so an operator can go straight to the
 * offending line; on the journal, CONFIG_FILE= and CONFIG_LINE= carry the
 * same.  SYSTEMD_LOG_LEVEL (a name or a number, as systemd takes it) sets
 * the threshold; default is info. */
#pragma once

#include <syslog.h>

#include "cleanup.h"

void log_setup(void);
void log_set_level(int level);
int log_get_level(void);

/* Returns -EINVAL, so "return log_error_at(...)" reads naturally. */
int log_at(int prio, const char *file, unsigned line, const char *fmt, ...) _printf_(4, 5);

/* How many messages of priority warning or worse were emitted. */
unsigned log_n_errors(void);
unsigned log_n_warnings(void);

#define log_error_at(file, line, ...) log_at(LOG_ERR, file, line, __VA_ARGS__)
#define log_warning_at(file, line, ...) log_at(LOG_WARNING, file, line, __VA_ARGS__)
#define log_notice_at(file, line, ...) log_at(LOG_NOTICE, file, line, __VA_ARGS__)
#define log_info_at(file, line, ...) log_at(LOG_INFO, file, line, __VA_ARGS__)
#define log_debug_at(file, line, ...) log_at(LOG_DEBUG, file, line, __VA_ARGS__)
#define log_error(...) log_at(LOG_ERR, NULL, 0, __VA_ARGS__)
#define log_warning(...) log_at(LOG_WARNING, NULL, 0, __VA_ARGS__)
#define log_notice(...) log_at(LOG_NOTICE, NULL, 0, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, NULL, 0, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, NULL, 0, __VA_ARGS__)
