/* notify.c: see notify.h. */
#include <stdbool.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"
#include "notify.h"

static void notify(const char *msg) {
        int r = sd_notify(false, msg);
        if (r < 0)
                log_warning_errno(r, "Failed to notify the service manager (%s): %s, ignoring.", msg, STRERROR(r));
}

void notify_ready(const char *status) {
        int r = sd_notifyf(false, "READY=1\nSTATUS=%s", status);
        if (r < 0)
                log_warning_errno(r, "Failed to send READY=1: %s, ignoring.", STRERROR(r));
}

void notify_reloading(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        unsigned long long usec = (unsigned long long) ts.tv_sec * 1000000ULL + (unsigned long long) ts.tv_nsec / 1000;
        int r = sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading", usec);
        if (r < 0)
                log_warning_errno(r, "Failed to send RELOADING=1: %s, ignoring.", STRERROR(r));
}

void notify_stopping(void) {
        notify("STOPPING=1\nSTATUS=stopping");
}

void notify_watchdog(void) {
        notify("WATCHDOG=1");
}

void notify_status(const char *status) {
        int r = sd_notifyf(false, "STATUS=%s", status);
        if (r < 0)
                log_warning_errno(r, "Failed to send STATUS=: %s, ignoring.", STRERROR(r));
}
