/* master.c: see master.h.
 *
 * Workers report to the master through two channels:
 *
 *  - a pipe, for READY: an event the master acts on at once (READY=1, or
 *    the end of a reload);
 *  - a shared anonymous mapping of one WorkerStats per slot, for what
 *    changes on every request: requests served, whether the worker is
 *    inside the app, and its loop's last heartbeat.  A worker updates its
 *    own entry with relaxed atomic stores: no system call on the request
 *    path (a message per request would be a write(2) each, and a worker
 *    stuck in the app could not say so).  The master reads every entry on
 *    its one-second tick (STATUS=, --timeout) and before each WATCHDOG=1.
 *
 * Slots: SLOTS_PER_WORKER times --workers, so that during a reload the
 * serving workers, the new ones and the previous generation still draining
 * each have their own entry.  A SIGHUP while a reload runs, or while too
 * few slots are free, is remembered and acted on when possible.
 *
 * Health, as DESIGN §4.1 divides it:
 *  - --timeout: a worker whose loop has not beaten for longer than the
 *    timeout (stuck in the app, or importing it), or, with --threads, whose
 *    oldest request has been inside the app that long (busy_since_usec:
 *    there the loop goes on beating), gets WORKER_SIGNAL_DUMP
 *    (faulthandler writes every thread's Python stack to stderr), then
 *    SIGKILL DUMP_GRACE_USEC later, and is replaced.
 *  - WATCHDOG=1 (when $WATCHDOG_USEC is set): sent every half interval by
 *    the master's loop, so a hung master stops it; withheld while a ready
 *    worker's loop has not beaten within the interval although it is not
 *    inside the app.  A worker inside the app is --timeout's business: a
 *    long request must not get the whole service restarted.
 *
 * A worker that exits 0 with its entry's `recycled` set reached
 * --max-requests: it is replaced at once, without counting as a crash.
 * --preload imports the app here, before the first fork.
 *
 * Also here, where gunicorn's Arbiter does them: the process titles
 * (proctitle.c), the pid file, and the master's server hooks (hooks.h);
 * a forked child sets its title and runs post_fork before worker_run(),
 * and worker_exit after it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "hooks.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "pidfile.h"
#include "proctitle.h"
#include "python.h"
#include "strbuf.h"
#include "worker.h"

/* Respawn back-off: a worker that dies within WORKER_STABLE_USEC of its
 * start counts as a crash; consecutive crashes double the delay before the
 * next fork, from BACKOFF_MIN_USEC up to BACKOFF_MAX_USEC. */
#define WORKER_STABLE_USEC (5 * 1000000ULL)
#define BACKOFF_MIN_USEC (100 * 1000ULL)
#define BACKOFF_MAX_USEC (10 * 1000000ULL)
/* STATUS= is sent at most once per tick, and --timeout checked on it. */
#define TICK_USEC (1000000ULL)
/* From the stack-dump signal to SIGKILL for a worker past --timeout. */
#define DUMP_GRACE_USEC (1000000ULL)
/* Serving, new, draining: see the top of this file. */
#define SLOTS_PER_WORKER 3
/* Workers beat at least every quarter of --timeout or of the watchdog
 * interval, but not more often than this. */
#define MIN_BEAT_MS 50

typedef struct Master Master;

typedef struct Slot {
        Master *master;
        WorkerStats *stats;          /* in the shared mapping */
        bool used;                   /* holds a worker, or one about to be respawned */
        pid_t pid;                   /* 0: no process */
        unsigned generation;         /* bumped by each reload */
        bool ready;
        bool retiring;               /* sent SIGTERM after a reload: draining */
        bool timed_out;              /* past --timeout: dumped, SIGKILL follows */
        uint64_t started;            /* CLOCK_MONOTONIC usec */
        unsigned crashes;            /* consecutive early deaths */
        unsigned age;                /* gunicorn's worker.age: 1, 2, ... per fork */
        sd_event_source *respawn;
        sd_event_source *kill;       /* SIGKILL when it fires */
} Slot;

struct Master {
        const Config *config;
        Listeners *listeners;
        sd_event *event;
        Slot *slots;
        size_t n_slots;
        WorkerStats *stats;          /* n_slots entries, MAP_SHARED */
        unsigned generation;         /* the serving one */
        unsigned worker_age;         /* forks so far */
        bool reloading;              /* workers of generation + 1 are starting */
        bool reload_pending;
        uint64_t served_gone;        /* requests served by workers since reaped */
        int pipe_read, pipe_write;   /* workers -> master */
        int kick_fd;                 /* shared by the workers: worker_run() */
        unsigned beat_ms;
        uint64_t watchdog_usec;      /* 0: no watchdog */
        bool unhealthy;              /* withholding WATCHDOG=1 (logged once) */
        bool notified_ready;
        bool stopping;
        int exit_status;
        char status[128];            /* the last STATUS= sent */
        sd_event_source *kill_timer, *tick, *watchdog;
};

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static size_t live_workers(const Master *m) {
        size_t n = 0;
        for (size_t i = 0; i < m->n_slots; i++)
                n += m->slots[i].pid > 0;
        return n;
}

static size_t free_slots(const Master *m) {
        size_t n = 0;
        for (size_t i = 0; i < m->n_slots; i++)
                n += !m->slots[i].used;
        return n;
}

static Slot *slot_by_pid(Master *m, pid_t pid) {
        for (size_t i = 0; i < m->n_slots; i++)
                if (m->slots[i].pid == pid && pid > 0)
                        return &m->slots[i];
        return NULL;
}

/* The worker is gone: keep its count, clear its entry for the next one. */
static void slot_collect(Master *m, Slot *s) {
        m->served_gone += __atomic_load_n(&s->stats->served, __ATOMIC_RELAXED);
        memset(s->stats, 0, sizeof *s->stats);
        s->kill = sd_event_source_disable_unref(s->kill);
}

static void slot_free(Master *m, Slot *s) {
        slot_collect(m, s);
        s->respawn = sd_event_source_disable_unref(s->respawn);
        *s = (Slot) { .master = m, .stats = s->stats };
}

static int spawn_worker(Master *m, Slot *s, unsigned generation) {
        /* its first heartbeat: --timeout counts from the fork (as gunicorn,
         * importing the app must not take longer) */
        __atomic_store_n(&s->stats->beat_usec, now_usec(), __ATOMIC_RELAXED);
        s->age = ++m->worker_age;
        hooks_pre_fork(s->age);
        python_before_fork();
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                python_after_fork_parent();
                return log_error_errno(e, "Failed to fork a worker: %s", STRERROR(e));
        }
        if (pid == 0) {
                /* The child never returns into the master's loop: the
                 * sd-event objects it inherited are left untouched (sd-event
                 * refuses use from another process anyway). */
                if (python_after_fork_child(m->config) < 0)
                        _exit(WORKER_EXIT_BOOT_ERROR);
                close(m->pipe_read);
                proctitle_set("worker", m->config->proc_name ? m->config->proc_name : m->config->app);
                /* as gunicorn: an exception in post_fork is a boot error */
                if (hooks_post_fork(s->age) < 0) {
                        hooks_worker_exit();
                        _exit(WORKER_EXIT_BOOT_ERROR);
                }
                int status = worker_run(m->config, m->listeners, m->kick_fd, m->pipe_write, s->stats, m->beat_ms);
                hooks_worker_exit();     /* when worker_run() returned early; else done already */
                _exit(status);
        }
        python_after_fork_parent();
        s->used = true;
        s->pid = pid;
        s->generation = generation;
        s->started = now_usec();
        s->ready = s->retiring = s->timed_out = false;
        return 0;
}

static void stop(Master *m, int sig, int exit_status);
static void start_reload(Master *m);

static int on_respawn_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        Slot *s = userdata;
        Master *m = s->master;
        s->respawn = sd_event_source_unref(s->respawn);
        if (!m->stopping && spawn_worker(m, s, s->generation) < 0)
                stop(m, SIGTERM, EXIT_FAILURE);
        return 0;
}

/* recycled: it exited after --max-requests, which is no crash. */
static void schedule_respawn(Master *m, Slot *s, uint64_t lived, bool recycled) {
        if (lived < WORKER_STABLE_USEC && !recycled)
                s->crashes++;
        else
                s->crashes = 0;
        uint64_t delay = 0;
        if (s->crashes > 0) {
                delay = BACKOFF_MIN_USEC;
                for (unsigned i = 1; i < s->crashes && delay < BACKOFF_MAX_USEC; i++)
                        delay *= 2;
                delay = MIN(delay, BACKOFF_MAX_USEC);
        }
        int r = sd_event_add_time_relative(m->event, &s->respawn, CLOCK_MONOTONIC, delay, 0,
                                           on_respawn_timer, s);
        if (r < 0) {
                log_error_errno(r, "Failed to schedule a worker respawn: %s", STRERROR(r));
                stop(m, SIGTERM, EXIT_FAILURE);
                return;
        }
}

static int on_slot_kill(sd_event_source *src, uint64_t usec, void *userdata) {
        Slot *s = userdata;
        s->kill = sd_event_source_unref(s->kill);
        if (s->pid <= 0)
                return 0;
        if (!s->timed_out)
                log_warning("Worker %d did not stop in time, killing it.", (int) s->pid);
        (void) kill(s->pid, SIGKILL);
        return 0;
}

/* SIGKILL for this worker after usec, unless it is gone by then. */
static void slot_arm_kill(Master *m, Slot *s, uint64_t usec) {
        if (s->kill)
                return;
        int r = sd_event_add_time_relative(m->event, &s->kill, CLOCK_MONOTONIC, usec, 0, on_slot_kill, s);
        if (r < 0)
                log_warning_errno(r, "Failed to arm a worker's kill timer: %s, ignoring.", STRERROR(r));
}

/* An old worker after a reload: it stops accepting, finishes what it
 * has, and exits (worker.c), within --graceful-timeout. */
static void retire(Master *m, Slot *s) {
        if (s->pid <= 0) {
                slot_free(m, s);            /* was waiting to be respawned */
                return;
        }
        s->retiring = true;
        (void) kill(s->pid, SIGTERM);
        slot_arm_kill(m, s, m->config->graceful_timeout * 1000000ULL);
}

static int on_kill_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        Master *m = userdata;
        for (size_t i = 0; i < m->n_slots; i++)
                if (m->slots[i].pid > 0) {
                        log_warning("Worker %d did not stop in time, killing it.", (int) m->slots[i].pid);
                        (void) kill(m->slots[i].pid, SIGKILL);
                }
        return 0;
}

static void stop(Master *m, int sig, int exit_status) {
        bool first = !m->stopping;
        if (first) {
                m->stopping = true;
                m->exit_status = exit_status;
                m->reloading = m->reload_pending = false;
        }
        for (size_t i = 0; i < m->n_slots; i++) {
                m->slots[i].respawn = sd_event_source_disable_unref(m->slots[i].respawn);
                if (m->slots[i].pid > 0)
                        (void) kill(m->slots[i].pid, sig);
        }
        /* after the kill()s: once the manager (or a test) reads STOPPING=1,
         * every worker has been told */
        if (first)
                notify_stopping();
        if (live_workers(m) == 0) {
                (void) sd_event_exit(m->event, m->exit_status);
                return;
        }
        if (!m->kill_timer) {
                uint64_t grace = sig == SIGTERM ? m->config->graceful_timeout * 1000000ULL : 1000000ULL;
                int r = sd_event_add_time_relative(m->event, &m->kill_timer, CLOCK_MONOTONIC, grace, 0,
                                                   on_kill_timer, m);
                if (r < 0)
                        log_warning_errno(r, "Failed to arm the stop timer: %s, ignoring.", STRERROR(r));
        }
}

/* The figures for STATUS=; sent when they changed, at most once a tick. */
static void update_status(Master *m) {
        if (!m->notified_ready)
                return;
        size_t workers = 0;
        uint64_t served = m->served_gone;
        unsigned in_flight = 0;
        for (size_t i = 0; i < m->n_slots; i++) {
                const Slot *s = &m->slots[i];
                served += __atomic_load_n(&s->stats->served, __ATOMIC_RELAXED);
                if (s->pid <= 0)
                        continue;
                workers += !s->retiring && s->generation == m->generation;
                in_flight += __atomic_load_n(&s->stats->in_flight, __ATOMIC_RELAXED);
        }
        char buf[sizeof m->status];
        snprintf(buf, sizeof buf, "%s%zu worker%s, %llu request%s served, %u in flight",
                 m->stopping ? "stopping: " : m->reloading ? "reloading: " : "",
                 workers, workers == 1 ? "" : "s",
                 (unsigned long long) served, served == 1 ? "" : "s", in_flight);
        if (streq(buf, m->status))
                return;
        /* one not sent (the manager not reading) goes again next tick */
        if (notify_status(buf))
                memcpy(m->status, buf, sizeof buf);
}

static int on_tick(sd_event_source *src, uint64_t usec, void *userdata) {
        Master *m = userdata;
        uint64_t now = now_usec();
        uint64_t timeout = m->config->timeout * 1000000ULL;
        for (size_t i = 0; timeout > 0 && i < m->n_slots; i++) {
                Slot *s = &m->slots[i];
                if (s->pid <= 0 || s->retiring || s->timed_out)
                        continue;
                uint64_t beat = __atomic_load_n(&s->stats->beat_usec, __ATOMIC_RELAXED);
                uint64_t busy = __atomic_load_n(&s->stats->busy_since_usec, __ATOMIC_RELAXED);
                bool stuck = busy > 0 && now > busy && now - busy > timeout;
                if (!stuck && (now < beat || now - beat <= timeout))
                        continue;
                if (stuck)
                        log_error("Worker %d timed out (a request inside the app for more than %u s), "
                                  "dumping its threads' Python stacks and killing it.",
                                  (int) s->pid, m->config->timeout);
                else
                        log_error("Worker %d timed out (no heartbeat for %u s), dumping its Python stack and killing it.",
                                  (int) s->pid, m->config->timeout);
                s->timed_out = true;
                (void) kill(s->pid, WORKER_SIGNAL_DUMP);
                slot_arm_kill(m, s, DUMP_GRACE_USEC);
        }
        update_status(m);
        (void) sd_event_source_set_time_relative(src, TICK_USEC);
        (void) sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        return 0;
}

/* See the top of this file. */
static bool workers_healthy(Master *m) {
        uint64_t now = now_usec();
        for (size_t i = 0; i < m->n_slots; i++) {
                const Slot *s = &m->slots[i];
                /* with --threads the loop beats while the app runs */
                if (s->pid <= 0 || !s->ready ||
                    (m->config->threads <= 1 && __atomic_load_n(&s->stats->in_flight, __ATOMIC_RELAXED)))
                        continue;
                uint64_t beat = __atomic_load_n(&s->stats->beat_usec, __ATOMIC_RELAXED);
                if (now > beat && now - beat > m->watchdog_usec) {
                        if (!m->unhealthy)
                                log_error("Worker %d's loop has not run for %llu ms outside the app, withholding WATCHDOG=1.",
                                          (int) s->pid, (unsigned long long) (now - beat) / 1000);
                        return false;
                }
        }
        return true;
}

static int on_watchdog(sd_event_source *src, uint64_t usec, void *userdata) {
        Master *m = userdata;
        bool healthy = workers_healthy(m);
        if (healthy) {
                if (m->unhealthy)
                        log_info("Workers healthy again, resuming WATCHDOG=1.");
                notify_watchdog();
        }
        m->unhealthy = !healthy;
        (void) sd_event_source_set_time_relative(src, m->watchdog_usec / 2);
        (void) sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        return 0;
}

/* New workers could not load the app: the old ones go on serving. */
static void abort_reload(Master *m) {
        log_error("Reload failed: the new workers could not start, the old ones go on serving.");
        for (size_t i = 0; i < m->n_slots; i++) {
                Slot *s = &m->slots[i];
                if (s->used && !s->retiring && s->generation != m->generation)
                        retire(m, s);
        }
        m->reloading = m->reload_pending = false;
        notify_ready("reload failed, serving the previous code");
        m->status[0] = 0;
}

/* Called when a worker became ready, and when a reload began. */
static void check_ready(Master *m) {
        if (m->stopping)
                return;
        unsigned target = m->generation + (m->reloading ? 1 : 0);
        size_t n = 0;
        for (size_t i = 0; i < m->n_slots; i++) {
                const Slot *s = &m->slots[i];
                n += s->pid > 0 && s->ready && !s->retiring && s->generation == target;
        }
        if (n < m->config->workers)
                return;
        if (m->reloading) {
                for (size_t i = 0; i < m->n_slots; i++) {
                        Slot *s = &m->slots[i];
                        if (s->used && !s->retiring && s->generation == m->generation)
                                retire(m, s);
                }
                m->generation = target;
                m->reloading = false;
                log_info("Reloaded: %zu new worker%s ready, the old ones finish their requests.", n, n == 1 ? "" : "s");
        } else if (m->notified_ready)
                return;
        else
                /* DESIGN §4.1: READY=1 only once every worker has
                 * imported the app and accepts. */
                log_info("%zu worker%s ready.", n, n == 1 ? "" : "s");
        char status[64];
        snprintf(status, sizeof status, "%zu worker%s accepting", n, n == 1 ? "" : "s");
        notify_ready(status);
        m->notified_ready = true;
        m->status[0] = 0;
        if (m->reload_pending)
                start_reload(m);
}

/* SIGHUP: new workers import the app again; once they are all ready the
 * old ones drain (check_ready()).  Deferred while a reload runs, before
 * the first READY=1, or while old workers still hold the slots. */
static void start_reload(Master *m) {
        if (m->stopping)
                return;
        if (!m->notified_ready || m->reloading || free_slots(m) < m->config->workers) {
                m->reload_pending = true;
                return;
        }
        m->reload_pending = false;
        m->reloading = true;
        notify_reloading();
        hooks_on_reload();
        log_info("Reloading: starting %u new worker%s.", m->config->workers, m->config->workers == 1 ? "" : "s");
        unsigned started = 0;
        for (size_t i = 0; i < m->n_slots && started < m->config->workers; i++) {
                Slot *s = &m->slots[i];
                if (s->used)
                        continue;
                s->crashes = 0;
                if (spawn_worker(m, s, m->generation + 1) < 0) {
                        abort_reload(m);
                        return;
                }
                started++;
        }
}

static int on_sighup(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        Master *m = userdata;
        log_info("Handling signal: hup");
        start_reload(m);
        if (m->reload_pending)
                log_info("Reload deferred until the current one (or the draining workers) finish.");
        return 0;
}

static int on_stop_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        Master *m = userdata;
        int sig = (int) si->ssi_signo;
        log_info("Handling signal: %s", sig == SIGTERM ? "term" : sig == SIGINT ? "int" : "quit");
        /* SIGTERM: graceful.  SIGINT/SIGQUIT: fast (workers get SIGQUIT). */
        stop(m, sig == SIGTERM ? SIGTERM : SIGQUIT, EXIT_SUCCESS);
        return 0;
}

static int on_sigchld(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        Master *m = userdata;
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);
                if (pid <= 0)
                        break;
                Slot *s = slot_by_pid(m, pid);
                if (!s)
                        continue;
                hooks_child_exit(pid, s->age);
                uint64_t lived = now_usec() - s->started;
                bool was_ready = s->ready;
                s->pid = 0;
                s->ready = false;

                if (m->stopping) {
                        slot_free(m, s);
                        if (live_workers(m) == 0)
                                (void) sd_event_exit(m->event, m->exit_status);
                        continue;
                }
                if (s->retiring) {
                        slot_free(m, s);
                        if (m->reload_pending)
                                start_reload(m);
                        continue;
                }
                /* Only a worker that never got ready failed to boot: one that
                 * served and then exits 3 or 4 (an app's os._exit(3)) crashed,
                 * and is replaced like any other (gunicorn would stop). */
                if (!was_ready && WIFEXITED(status) && (WEXITSTATUS(status) == WORKER_EXIT_APP_LOAD_ERROR ||
                                                        WEXITSTATUS(status) == WORKER_EXIT_BOOT_ERROR)) {
                        const char *why = WEXITSTATUS(status) == WORKER_EXIT_APP_LOAD_ERROR ?
                                "the app failed to load" : "setup failed";
                        if (m->reloading && s->generation != m->generation) {
                                log_error("New worker %d failed to boot (%s).", (int) pid, why);
                                slot_free(m, s);
                                abort_reload(m);
                                continue;
                        }
                        /* As gunicorn: an app that does not load will not
                         * load on the next fork either; give up, loudly. */
                        log_error("Worker %d failed to boot (%s), shutting down.", (int) pid, why);
                        slot_free(m, s);
                        stop(m, SIGTERM, WEXITSTATUS(status));
                        continue;
                }
                bool recycled = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                        __atomic_load_n(&s->stats->recycled, __ATOMIC_RELAXED);
                if (recycled)
                        log_info("Worker %d exited after --max-requests, replacing it.", (int) pid);
                else if (s->timed_out)
                        log_warning("Worker %d (timed out) was killed, respawning.", (int) pid);
                else if (WIFSIGNALED(status))
                        log_warning("Worker %d was killed by signal %s, respawning.", (int) pid, strsignal(WTERMSIG(status)));
                else
                        log_warning("Worker %d exited with status %d, respawning.", (int) pid, WEXITSTATUS(status));
                slot_collect(m, s);
                schedule_respawn(m, s, lived, recycled);
        }
        return 0;
}

static int on_worker_message(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        Master *m = userdata;
        WorkerMessage msg;
        for (;;) {
                ssize_t n = read(fd, &msg, sizeof msg);
                if (n != (ssize_t) sizeof msg)
                        break;
                if (msg.kind != WORKER_MESSAGE_READY)
                        continue;
                Slot *s = slot_by_pid(m, msg.pid);
                if (s)
                        s->ready = true;
        }
        check_ready(m);
        return 0;
}

static int setup_events(Master *m) {
        int r;
        if ((r = sd_event_add_signal(m->event, NULL, SIGTERM, on_stop_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, NULL, SIGINT, on_stop_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, NULL, SIGQUIT, on_stop_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m)) < 0 ||
            (r = sd_event_add_signal(m->event, NULL, SIGCHLD, on_sigchld, m)) < 0 ||
            (r = sd_event_add_io(m->event, NULL, m->pipe_read, EPOLLIN, on_worker_message, m)) < 0 ||
            (r = sd_event_add_time_relative(m->event, &m->tick, CLOCK_MONOTONIC, TICK_USEC, 0, on_tick, m)) < 0)
                return r;
        if (m->watchdog_usec > 0 &&
            (r = sd_event_add_time_relative(m->event, &m->watchdog, CLOCK_MONOTONIC, m->watchdog_usec / 2, 0,
                                            on_watchdog, m)) < 0)
                return r;
        return 0;
}

int master_run(const Config *c, Listeners *ls) {
        Master m = { .config = c, .listeners = ls, .pipe_read = -1, .pipe_write = -1, .kick_fd = -1 };
        int r;

        /* --preload: the app is imported here, once, and the workers
         * inherit it; one that does not load stops us before any fork
         * (with the status a worker's import failure gives). */
        if (c->preload) {
                log_info("Preloading the app: %s", c->app);
                if (python_preload_app(c->app) < 0)
                        return WORKER_EXIT_APP_LOAD_ERROR;
        }

        /* gunicorn's Arbiter.start(): the pid file, then on_starting */
        proctitle_set("master", c->proc_name ? c->proc_name : c->app);
        if (c->pidfile && pidfile_create(c->pidfile) < 0)
                return EXIT_FAILURE;
        if (hooks_master_start(c, ls) < 0 || hooks_on_starting() < 0) {
                log_error("Failed to start: the on_starting hook failed, exiting.");
                if (c->pidfile)
                        pidfile_remove(c->pidfile);
                return EXIT_FAILURE;
        }

        /* sd-event delivers these through a signalfd: they must be blocked.
         * Workers unblock everything after fork. */
        sigset_t mask;
        sigemptyset(&mask);
        int sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGCHLD, SIGHUP };
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(&mask, sigs[i]);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %s", STRERROR(errno)), EXIT_FAILURE;

        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return log_error_errno(errno, "Failed to create the worker pipe: %s", STRERROR(errno)), EXIT_FAILURE;
        m.pipe_read = p[0];
        m.pipe_write = p[1];
        (void) fcntl(m.pipe_read, F_SETFL, O_NONBLOCK);
        m.kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m.kick_fd < 0) {
                r = log_error_errno(errno, "Failed to create the workers' kick eventfd: %s", STRERROR(errno));
                goto out;
        }

        uint64_t wd = 0;
        if (sd_watchdog_enabled(false, &wd) > 0)
                m.watchdog_usec = wd;
        uint64_t beat = 0;
        if (c->timeout > 0)
                beat = c->timeout * 1000ULL / 4;
        if (m.watchdog_usec > 0 && (beat == 0 || m.watchdog_usec / 4000 < beat))
                beat = m.watchdog_usec / 4000;
        m.beat_ms = beat == 0 ? 0 : (unsigned) MAX(beat, (uint64_t) MIN_BEAT_MS);

        m.n_slots = (size_t) c->workers * SLOTS_PER_WORKER;
        m.slots = calloc(m.n_slots, sizeof *m.slots);
        m.stats = mmap(NULL, m.n_slots * sizeof *m.stats, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (m.stats == MAP_FAILED)
                m.stats = NULL;
        if (!m.slots || !m.stats) {
                r = log_error_errno(ENOMEM, "Out of memory.");
                goto out;
        }
        for (size_t i = 0; i < m.n_slots; i++)
                m.slots[i] = (Slot) { .master = &m, .stats = &m.stats[i] };

        r = sd_event_default(&m.event);
        if (r < 0) {
                log_error_errno(r, "Failed to create the event loop: %s", STRERROR(r));
                goto out;
        }
        r = setup_events(&m);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the event loop: %s", STRERROR(r));
                goto out;
        }

        for (size_t i = 0; i < ls->n; i++)
                log_info("Listening at: %s%s", ls->items[i].name, ls->activated ? ", from systemd" : "");
        log_info("Using worker: %s", c->threads > 1 ? "gthread" : "sync");   /* gunicorn's words */
        if (m.watchdog_usec > 0)
                log_info("Watchdog: WATCHDOG=1 every %llu ms while healthy.",
                         (unsigned long long) m.watchdog_usec / 2000);
        /* gunicorn: listening, before the first worker (as gunicorn, an
         * exception here stops the server) */
        if (hooks_when_ready() < 0) {
                log_error("The when_ready hook failed, shutting down.");
                r = -ECANCELED;
                goto out;
        }

        for (size_t i = 0; i < c->workers; i++) {
                r = spawn_worker(&m, &m.slots[i], 0);
                if (r < 0) {
                        stop(&m, SIGTERM, EXIT_FAILURE);
                        break;
                }
        }

        r = sd_event_loop(m.event);
        if (r < 0)
                log_error_errno(r, "Event loop failed: %s", STRERROR(r));
        else
                log_info("Shutting down: Master");
out:
        if (c->pidfile)
                pidfile_remove(c->pidfile);
        hooks_on_exit();
        for (size_t i = 0; m.slots && i < m.n_slots; i++) {
                sd_event_source_disable_unref(m.slots[i].respawn);
                sd_event_source_disable_unref(m.slots[i].kill);
        }
        free(m.slots);
        if (m.stats)
                munmap(m.stats, m.n_slots * sizeof *m.stats);
        sd_event_source_disable_unref(m.kill_timer);
        sd_event_source_disable_unref(m.tick);
        sd_event_source_disable_unref(m.watchdog);
        sd_event_unref(m.event);
        if (m.pipe_read >= 0)
                close(m.pipe_read);
        if (m.pipe_write >= 0)
                close(m.pipe_write);
        if (m.kick_fd >= 0)
                close(m.kick_fd);
        return r < 0 ? EXIT_FAILURE : r;
}
