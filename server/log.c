/* log.c: see log.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* no CODE_FILE/CODE_LINE/CODE_FUNC of ours: they would always name this
 * file, and the app's records carry their own */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"

/* Messages are formatted on the stack up to this size; a longer one (a
 * traceback) is formatted again on the heap, never cut. */
#define LOG_LINE_MAX 4096
/* The journal fields log_message() adds besides the caller's. */
#define LOG_OWN_FIELDS 4

static int max_level = LOG_INFO;
static bool journal;                    /* stderr is the journal and no --error-logfile */
static int log_fd = STDERR_FILENO;
static pid_t master_pid, cached_pid;

static void after_fork_child(void) {
        cached_pid = getpid();
}

bool log_fd_is_journal(int fd) {
        /* $JOURNAL_STREAM is "DEV:INODE" of the stream systemd connected;
         * it only counts if that is still the fd (not redirected). */
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        return e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(fd, &st) == 0 &&
                st.st_dev == (dev_t) dev && st.st_ino == (ino_t) ino;
}

void log_setup(void) {
        master_pid = cached_pid = getpid();
        (void) pthread_atfork(NULL, NULL, after_fork_child);
        journal = log_fd_is_journal(STDERR_FILENO);
}

static const struct {
        const char *name;
        int level;
} levels[] = {
        { "debug",    LOG_DEBUG },
        { "info",     LOG_INFO },       /* notices too: they are between info and warning */
        { "warning",  LOG_WARNING },
        { "error",    LOG_ERR },
        { "critical", LOG_CRIT },
};

int log_parse_level(const char *name, int *ret_level) {
        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                if (strcasecmp(name, levels[i].name) == 0) {
                        *ret_level = levels[i].level;
                        return 0;
                }
        return -EINVAL;
}

const char *log_level_name(int level) {
        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                if (levels[i].level == level)
                        return levels[i].name;
        return "info";
}

void log_set_level(int level) {
        max_level = level;
}

int log_get_level(void) {
        return max_level;
}

int log_open_file(const char *path) {
        if (!path || streq(path, "-"))
                return 0;
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0666);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open error log file '%s': %s", path, STRERROR(errno));
        if (log_fd != STDERR_FILENO)
                close(log_fd);
        log_fd = fd;
        journal = false;
        return 0;
}

bool log_to_journal(void) {
        return journal;
}

pid_t log_pid(void) {
        return cached_pid > 0 ? cached_pid : getpid();
}

pid_t log_worker_pid(void) {
        return cached_pid != master_pid ? cached_pid : 0;
}

static const char *level_name(int prio) {
        static const char *const names[] = {
                [LOG_EMERG] = "CRITICAL", [LOG_ALERT] = "CRITICAL", [LOG_CRIT] = "CRITICAL",
                [LOG_ERR] = "ERROR", [LOG_WARNING] = "WARNING", [LOG_NOTICE] = "NOTICE",
                [LOG_INFO] = "INFO", [LOG_DEBUG] = "DEBUG",
        };
        return prio >= 0 && prio <= LOG_DEBUG ? names[prio] : "INFO";
}

/* One writev(): with O_APPEND, lines of several processes never mix. */
static void write_line(int prio, const char *msg, size_t len) {
        char prefix[96];
        time_t now = time(NULL);
        struct tm tm;
        size_t n = strftime(prefix, sizeof prefix, "[%Y-%m-%d %H:%M:%S %z] ", localtime_r(&now, &tm));
        n += (size_t) snprintf(prefix + n, sizeof prefix - n, "[%d] [%s] ", (int) cached_pid, level_name(prio));
        struct iovec iov[] = {
                { prefix, MIN(n, sizeof prefix - 1) },
                { (char *) msg, len },
                { (char *) "\n", 1 },
        };
        ssize_t r = writev(log_fd, iov, ELEMENTSOF(iov));
        (void) r;
}

void log_message(int prio, const char *msg, size_t len, const struct iovec *fields, size_t n_fields) {
        if (prio <= max_level)
                log_send(prio, msg, len, fields, n_fields);
}

void log_send(int prio, const char *msg, size_t len, const struct iovec *fields, size_t n_fields) {
        while (len > 0 && msg[len - 1] == '\n')
                len--;
        if (!journal) {
                write_line(prio, msg, len);
                return;
        }

        /* "MESSAGE=" and the message must be one iovec */
        char stack[LOG_LINE_MAX];
        _cleanup_free_ char *heap = NULL;
        char *m = stack;
        if (len + 8 > sizeof stack) {
                m = heap = malloc(len + 8);
                if (!heap) {
                        write_line(prio, msg, len);
                        return;
                }
        }
        memcpy(m, "MESSAGE=", 8);
        memcpy(m + 8, msg, len);

        char priority[16], worker[32];
        struct iovec iov[LOG_OWN_FIELDS + 16];
        size_t k = 0;
        iov[k++] = (struct iovec) { m, len + 8 };
        iov[k++] = (struct iovec) { priority, (size_t) snprintf(priority, sizeof priority, "PRIORITY=%d", prio) };
        iov[k++] = (struct iovec) { (char *) LOG_SYSLOG_IDENTIFIER, strlen(LOG_SYSLOG_IDENTIFIER) };
        pid_t w = log_worker_pid();
        if (w > 0)
                iov[k++] = (struct iovec) { worker, (size_t) snprintf(worker, sizeof worker, "WORKER_PID=%d", (int) w) };
        for (size_t i = 0; i < n_fields && k < ELEMENTSOF(iov); i++)
                iov[k++] = fields[i];
        if (sd_journal_sendv(iov, (int) k) < 0)
                write_line(prio, msg, len);     /* journald is gone: keep the message */
}

int log_full(int prio, int errno_val, const char *fmt, ...) {
        int ret = errno_val == 0 ? -EINVAL : errno_val < 0 ? errno_val : -errno_val;
        if (prio > max_level)
                return ret;

        int saved_errno = errno;
        char line[LOG_LINE_MAX];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        if (n < 0)
                n = 0;
        if ((size_t) n < sizeof line)
                log_message(prio, line, (size_t) n, NULL, 0);
        else {
                _cleanup_free_ char *big = NULL;
                va_start(ap, fmt);
                int k = vasprintf(&big, fmt, ap);
                va_end(ap);
                if (k >= 0)
                        log_message(prio, big, (size_t) k, NULL, 0);
                else
                        log_message(prio, line, sizeof line - 1, NULL, 0);
        }
        errno = saved_errno;
        return ret;
}
