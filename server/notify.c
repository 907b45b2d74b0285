/* notify.c: see notify.h. */
#include <stdbool.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"

static void notify(const char *msg) {
        int r = sd_notify(false, msg);
        if (r < 0)
                log_warning_errno(r, "Failed to notify the service manager (%s): %s, ignoring.", msg, STRERROR(r));
}

void notify_ready(unsigned workers) {
        int r = sd_notifyf(false, "READY=1\nSTATUS=%u worker%s accepting", workers, workers == 1 ? "" : "s");
        if (r < 0)
                log_warning_errno(r, "Failed to send READY=1: %s, ignoring.", STRERROR(r));
}

void notify_stopping(void) {
        notify("STOPPING=1\nSTATUS=stopping");
}

void notify_status(const char *status) {
        int r = sd_notifyf(false, "STATUS=%s", status);
        if (r < 0)
                log_warning_errno(r, "Failed to send STATUS=: %s, ignoring.", STRERROR(r));
}
