/* notify.h: what the master tells the service manager (sd_notify(3)).
 * A no-op when $NOTIFY_SOCKET is unset.  Only the master sends: workers
 * report to the master, which speaks for the service (MAINPID stays the
 * master).  Not done yet: WATCHDOG=1, RELOADING=1, live STATUS= figures. */
#pragma once

void notify_ready(unsigned workers);
void notify_stopping(void);
void notify_status(const char *status);
