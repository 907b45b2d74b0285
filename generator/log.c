/* log.c: see log.h.
 *
 * Where a message goes, when PID 1 runs us (as systemd's own generators
 * decide, "journal-or-kmsg"): to the journal if journald is running (at
 * every daemon-reload it is), with CONFIG_FILE= and CONFIG_LINE= fields;
 * else to /dev/kmsg, which journald imports at boot; inside a container,
 * where /dev/kmsg is the host's, to stderr instead.  Run by hand: stderr.
 * SYSTEMD_LOG_TARGET=journal|kmsg|console forces one.
 * Reference: systemd's native journal protocol (systemd.journal-fields(7),
 * "Native Journal Protocol"). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "strbuf.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

typedef enum Target {
        TARGET_CONSOLE,
        TARGET_KMSG,
        TARGET_JOURNAL,
} Target;

static int max_level = LOG_INFO;
static Target target = TARGET_CONSOLE;
static int log_fd = -1;   /* kmsg, or the journal's datagram socket */
static unsigned n_errors, n_warnings;

static int level_from_string(const char *s) {
        static const char *const names[] = { "emerg", "alert", "crit", "err",
                                             "warning", "notice", "info", "debug" };
        for (int i = 0; i < (int) ELEMENTSOF(names); i++)
                if (strcasecmp(s, names[i]) == 0)
                        return i;
        if (strcasecmp(s, "error") == 0)
                return LOG_ERR;
        char *end;
        long l = strtol(s, &end, 10);
        if (*s && !*end && l >= 0 && l <= 7)
                return (int) l;
        return -1;
}

static bool open_journal(void) {
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                close(fd);
                return false;
        }
        log_fd = fd;
        target = TARGET_JOURNAL;
        return true;
}

static bool open_kmsg(void) {
        log_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (log_fd < 0)
                return false;
        target = TARGET_KMSG;
        return true;
}

void log_setup(void) {
        const char *e = getenv("SYSTEMD_LOG_LEVEL");
        if (e && level_from_string(e) >= 0)
                max_level = level_from_string(e);

        const char *t = getenv("SYSTEMD_LOG_TARGET");
        if (t && strcmp(t, "journal") == 0)
                (void) open_journal();
        else if (t && strcmp(t, "kmsg") == 0)
                (void) open_kmsg();
        else if (!t && (getenv("SYSTEMD_SCOPE") || getppid() == 1))
                /* Run by the service manager (it sets $SYSTEMD_SCOPE for
                 * generators, and runs them from a helper, not as PID 1's
                 * children): our stderr goes nowhere an operator looks. */
                (void) (open_journal() || (!getenv("container") && open_kmsg()));
}

void log_set_level(int level) {
        max_level = level;
}

int log_get_level(void) {
        return max_level;
}

unsigned log_n_errors(void) {
        return n_errors;
}

unsigned log_n_warnings(void) {
        return n_warnings;
}

/* A native-protocol field; the binary form, so values may hold newlines. */
static void journal_field(StrBuf *b, const char *name, const char *value, size_t len) {
        sb_add(b, name);
        sb_addc(b, '\n');
        uint64_t le = htole64((uint64_t) len);
        sb_addn(b, (const char *) &le, sizeof le);
        sb_addn(b, value, len);
        sb_addc(b, '\n');
}

static bool send_journal(int prio, const char *file, unsigned line, const char *text, size_t len) {
        _cleanup_sb_ StrBuf b = {0};
        char num[32];
        snprintf(num, sizeof num, "%d", prio);
        journal_field(&b, "PRIORITY", num, strlen(num));
        journal_field(&b, "SYSLOG_IDENTIFIER", "unitcorn-generator", strlen("unitcorn-generator"));
        snprintf(num, sizeof num, "%d", (int) getpid());
        journal_field(&b, "SYSLOG_PID", num, strlen(num));
        if (file) {
                journal_field(&b, "CONFIG_FILE", file, strlen(file));
                if (line > 0) {
                        snprintf(num, sizeof num, "%u", line);
                        journal_field(&b, "CONFIG_LINE", num, strlen(num));
                }
        }
        journal_field(&b, "MESSAGE", text, len);
        /* never wait for journald: PID 1 waits for us, and journald may be
         * waiting for PID 1 (systemd's own generators avoid the journal in
         * the system scope for that reason; a non-blocking send is safe) */
        return send(log_fd, b.s, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0;
}

int log_at(int prio, const char *file, unsigned line, const char *fmt, ...) {
        /* counted atomically: unit writing may run on two threads */
        if (prio <= LOG_ERR)
                __atomic_fetch_add(&n_errors, 1, __ATOMIC_RELAXED);
        else if (prio == LOG_WARNING)
                __atomic_fetch_add(&n_warnings, 1, __ATOMIC_RELAXED);
        if (prio > max_level)
                return -EINVAL;

        int saved_errno = errno;
        /* "FILE:LINE: message", the same text on every target */
        _cleanup_sb_ StrBuf text = {0};
        if (file && line > 0)
                sb_addf(&text, "%s:%u: ", file, line);
        else if (file)
                sb_addf(&text, "%s: ", file);
        errno = saved_errno;
        va_list ap;
        va_start(ap, fmt);
        sb_vaddf(&text, fmt, ap);
        va_end(ap);

        if (target == TARGET_JOURNAL && send_journal(prio, file, line, text.s, text.len))
                return -EINVAL;

        _cleanup_sb_ StrBuf b = {0};
        if (target == TARGET_KMSG)
                sb_addf(&b, "<%d>", LOG_DAEMON | prio);
        sb_addf(&b, "unitcorn-generator[%d]: %s\n", (int) getpid(), text.s);
        if (target != TARGET_KMSG || write(log_fd, b.s, b.len) < 0) {
                /* stderr, without the kmsg prefix */
                const char *s = target == TARGET_KMSG ? strchr(b.s, '>') + 1 : b.s;
                ssize_t r = write(STDERR_FILENO, s, b.len - (size_t) (s - b.s));
                (void) r;
        }
        return -EINVAL;
}
