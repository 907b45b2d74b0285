/* notify.c: see notify.h.
 *
 * Our own sender, not libsystemd's sd_notify(): that one sends blocking,
 * and a manager that does not read $NOTIFY_SOCKET (its queue full) would
 * then hold the master in sendmsg() with its signals blocked (sd-event's
 * signalfd): no reaping, no SIGTERM, no --timeout.  Here the socket is
 * non-blocking and connect()ed, so poll() can wait on the manager's queue:
 * a state change (READY, RELOADING, STOPPING) waits for it at most
 * STATE_WAIT_MS, STATUS= and WATCHDOG=1 not at all (a lost one is
 * replaced by the next).  The kernel attaches our credentials, as with
 * sd_notify(), when the manager asks for them (SO_PASSCRED). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "cleanup.h"
#include "log.h"
#include "notify.h"

#define STATE_WAIT_MS 2000

/* A message was dropped, the manager's queue full: said once until one
 * goes through again. */
static bool lagging;

/* 1: sent; 0: no $NOTIFY_SOCKET; -errno: not sent. */
static int notify_send(const char *msg, int wait_ms) {
        const char *e = getenv("NOTIFY_SOCKET");
        if (!e || !*e)
                return 0;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = strlen(e);
        if ((e[0] != '/' && e[0] != '@') || n >= sizeof sa.sun_path)
                return -EAFNOSUPPORT;
        memcpy(sa.sun_path, e, n);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';       /* the abstract namespace: no NUL after it */
        socklen_t len = offsetof(struct sockaddr_un, sun_path) + n + (e[0] == '/');
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, len) < 0)
                return -errno;
        size_t mlen = strlen(msg);
        for (bool waited = false;;) {
                if (send(fd, msg, mlen, MSG_NOSIGNAL) >= 0)
                        return 1;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN || waited || wait_ms <= 0)
                        return -errno;
                /* connected: POLLOUT once the manager's queue has room */
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                if (poll(&p, 1, wait_ms) < 0 && errno != EINTR)
                        return -errno;
                waited = true;
        }
}

static int notify(int wait_ms, const char *what, const char *fmt, ...) _printf_(3, 4);
static int notify(int wait_ms, const char *what, const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        int r = notify_send(msg, wait_ms);
        if (r == -EAGAIN) {
                if (!lagging)
                        log_warning("The service manager does not read $NOTIFY_SOCKET (its queue is full): "
                                    "%s dropped, and further updates while it stays full.", what);
                lagging = true;
        } else if (r < 0)
                log_warning_errno(r, "Failed to send %s to the service manager: %s, ignoring.", what, STRERROR(r));
        else if (r > 0 && lagging) {
                log_info("The service manager reads $NOTIFY_SOCKET again.");
                lagging = false;
        }
        return r;
}

void notify_ready(const char *status) {
        notify(STATE_WAIT_MS, "READY=1", "READY=1\nSTATUS=%s", status);
}

void notify_reloading(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        unsigned long long usec = (unsigned long long) ts.tv_sec * 1000000ULL + (unsigned long long) ts.tv_nsec / 1000;
        notify(STATE_WAIT_MS, "RELOADING=1", "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading", usec);
}

void notify_stopping(void) {
        notify(STATE_WAIT_MS, "STOPPING=1", "STOPPING=1\nSTATUS=stopping");
}

void notify_watchdog(void) {
        notify(0, "WATCHDOG=1", "WATCHDOG=1");
}

bool notify_status(const char *status) {
        return notify(0, "STATUS=", "STATUS=%s", status) != -EAGAIN;
}
