/* notify.h: what the master tells the service manager (sd_notify(3)).
 * A no-op when $NOTIFY_SOCKET is unset.  Only the master sends: workers
 * report to the master, which speaks for the service (MAINPID stays the
 * master).  Failures are logged and ignored: the service goes on.  Never
 * blocks for long on a manager that does not read (see notify.c). */
#pragma once

#include <stdbool.h>

/* READY=1, with status as STATUS= */
void notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC= (systemd 253's Type=notify-reload wants
 * it; older managers ignore it); READY=1 must follow. */
void notify_reloading(void);
void notify_stopping(void);
void notify_watchdog(void);
/* false: the manager's queue was full, not sent: send it again later */
bool notify_status(const char *status);
