/* master.c: see master.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "log.h"
#include "master.h"
#include "notify.h"
#include "python.h"
#include "strbuf.h"
#include "worker.h"

/* Respawn back-off: a worker that dies within WORKER_STABLE_USEC of its
 * start counts as a crash; consecutive crashes double the delay before the
 * next fork, from BACKOFF_MIN_USEC up to BACKOFF_MAX_USEC. */
#define WORKER_STABLE_USEC (5 * 1000000ULL)
#define BACKOFF_MIN_USEC (100 * 1000ULL)
#define BACKOFF_MAX_USEC (10 * 1000000ULL)

typedef struct Master Master;

typedef struct Slot {
        Master *master;
        pid_t pid;                   /* 0: no worker (waiting to respawn) */
        uint64_t started;            /* CLOCK_MONOTONIC usec */
        unsigned crashes;            /* consecutive early deaths */
        bool ready;
        sd_event_source *respawn;
} Slot;

struct Master {
        const Config *config;
        Listeners *listeners;
        sd_event *event;
        Slot *slots;
        size_t n_slots;
        int pipe_read, pipe_write;   /* workers -> master */
        bool notified_ready;
        bool stopping;
        int exit_status;
        sd_event_source *kill_timer;
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

static int spawn_worker(Master *m, Slot *s) {
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
                python_after_fork_child();
                close(m->pipe_read);
                _exit(worker_run(m->config, m->listeners, m->pipe_write));
        }
        python_after_fork_parent();
        *s = (Slot) { .master = m, .pid = pid, .started = now_usec(), .crashes = s->crashes };
        return 0;
}

static void stop(Master *m, int sig, int exit_status);

static int on_respawn_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        Slot *s = userdata;
        Master *m = s->master;
        s->respawn = sd_event_source_unref(s->respawn);
        if (!m->stopping && spawn_worker(m, s) < 0)
                stop(m, SIGTERM, EXIT_FAILURE);
        return 0;
}

static void schedule_respawn(Master *m, Slot *s, uint64_t lived) {
        if (lived < WORKER_STABLE_USEC)
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
        if (!m->stopping) {
                m->stopping = true;
                m->exit_status = exit_status;
                notify_stopping();
        }
        for (size_t i = 0; i < m->n_slots; i++) {
                m->slots[i].respawn = sd_event_source_disable_unref(m->slots[i].respawn);
                if (m->slots[i].pid > 0)
                        (void) kill(m->slots[i].pid, sig);
        }
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
                Slot *s = NULL;
                for (size_t i = 0; i < m->n_slots; i++)
                        if (m->slots[i].pid == pid)
                                s = &m->slots[i];
                if (!s)
                        continue;
                uint64_t lived = now_usec() - s->started;
                s->pid = 0;
                s->ready = false;

                if (m->stopping) {
                        if (live_workers(m) == 0)
                                (void) sd_event_exit(m->event, m->exit_status);
                        continue;
                }
                if (WIFEXITED(status) && (WEXITSTATUS(status) == WORKER_EXIT_APP_LOAD_ERROR ||
                                          WEXITSTATUS(status) == WORKER_EXIT_BOOT_ERROR)) {
                        /* As gunicorn: an app that does not load will not
                         * load on the next fork either; give up, loudly. */
                        log_error("Worker %d failed to boot (%s), shutting down.", (int) pid,
                                  WEXITSTATUS(status) == WORKER_EXIT_APP_LOAD_ERROR ? "the app failed to load" : "setup failed");
                        stop(m, SIGTERM, WEXITSTATUS(status));
                        continue;
                }
                if (WIFSIGNALED(status))
                        log_warning("Worker %d was killed by signal %s, respawning.", (int) pid, strsignal(WTERMSIG(status)));
                else
                        log_warning("Worker %d exited with status %d, respawning.", (int) pid, WEXITSTATUS(status));
                schedule_respawn(m, s, lived);
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
                for (size_t i = 0; i < m->n_slots; i++)
                        if (m->slots[i].pid == msg.pid)
                                m->slots[i].ready = true;
        }
        if (m->notified_ready || m->stopping)
                return 0;
        for (size_t i = 0; i < m->n_slots; i++)
                if (!m->slots[i].ready)
                        return 0;
        /* DESIGN §4.1: READY=1 only once every worker has imported the app
         * and accepts. */
        log_info("%zu worker%s ready.", m->n_slots, m->n_slots == 1 ? "" : "s");
        notify_ready((unsigned) m->n_slots);
        m->notified_ready = true;
        return 0;
}

int master_run(const Config *c, Listeners *ls) {
        Master m = { .config = c, .listeners = ls, .pipe_read = -1, .pipe_write = -1 };
        int r;

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

        r = sd_event_default(&m.event);
        if (r < 0) {
                log_error_errno(r, "Failed to create the event loop: %s", STRERROR(r));
                goto out;
        }
        if ((r = sd_event_add_signal(m.event, NULL, SIGTERM, on_stop_signal, &m)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGINT, on_stop_signal, &m)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGQUIT, on_stop_signal, &m)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGCHLD, on_sigchld, &m)) < 0 ||
            (r = sd_event_add_io(m.event, NULL, m.pipe_read, EPOLLIN, on_worker_message, &m)) < 0) {
                log_error_errno(r, "Failed to set up the event loop: %s", STRERROR(r));
                goto out;
        }

        for (size_t i = 0; i < ls->n; i++)
                log_info("Listening at: %s%s", ls->items[i].name, ls->activated ? " (from systemd)" : "");
        log_info("Using worker: sync");

        m.n_slots = c->workers;
        m.slots = calloc(m.n_slots, sizeof *m.slots);
        if (!m.slots) {
                r = log_error_errno(ENOMEM, "Out of memory.");
                goto out;
        }
        for (size_t i = 0; i < m.n_slots; i++) {
                r = spawn_worker(&m, &m.slots[i]);
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
        for (size_t i = 0; m.slots && i < m.n_slots; i++)
                sd_event_source_disable_unref(m.slots[i].respawn);
        free(m.slots);
        sd_event_source_disable_unref(m.kill_timer);
        sd_event_unref(m.event);
        if (m.pipe_read >= 0)
                close(m.pipe_read);
        if (m.pipe_write >= 0)
                close(m.pipe_write);
        return r < 0 ? EXIT_FAILURE : r;
}
