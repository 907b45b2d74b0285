/* unit.c: systemd escaping and unit writing (unit.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gunplan.h"
#include "log.h"
#include "unit.h"

#define DROPIN_NAME "50-supervisor.conf"
/* systemd's UNIT_NAME_MAX, without the NUL. */
#define UNIT_NAME_MAX 255
/* supervisor restarts after 1 s, then 2 s, 3 s...; systemd 252 has one delay. */
#define RESTART_SEC 1
/* unitcorn's master sends WATCHDOG=1 every half interval from its event
 * loop, withheld while a worker's loop is hung (not while it is busy in
 * the app, which is --timeout's business): 30 s catches a hung or stopped
 * master without false alarms on a loaded machine. */
#define UNITCORN_WATCHDOG_SEC 30
/* TimeoutStopSec= beyond --graceful-timeout: the master's own exit */
#define GRACEFUL_MARGIN_SEC 5

static void append_escaped_char(StrBuf *b, unsigned char c) {
        switch (c) {
        case '\n':
                sb_add(b, "\\n");
                break;
        case '\t':
                sb_add(b, "\\t");
                break;
        case '\r':
                sb_add(b, "\\r");
                break;
        default:
                sb_addf(b, "\\x%02x", c);
        }
}

void unit_append_exec_word(StrBuf *b, const char *word) {
        if (streq(word, ";")) {
                sb_add(b, "\\;");
                return;
        }
        sb_addc(b, '"');
        for (const unsigned char *p = (const unsigned char *) word; *p; p++) {
                if (*p == '\\' || *p == '"') {
                        sb_addc(b, '\\');
                        sb_addc(b, (char) *p);
                } else if (*p == '%')
                        sb_add(b, "%%");
                else if (*p == '$')
                        sb_add(b, "$$");
                else if (*p < 0x20 || *p == 0x7f)
                        append_escaped_char(b, *p);
                else
                        sb_addc(b, (char) *p);
        }
        sb_addc(b, '"');
}

void unit_append_quoted(StrBuf *b, const char *s) {
        sb_addc(b, '"');
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '\\' || *p == '"') {
                        sb_addc(b, '\\');
                        sb_addc(b, (char) *p);
                } else if (*p == '%')
                        sb_add(b, "%%");
                else if (*p < 0x20 || *p == 0x7f)
                        append_escaped_char(b, *p);
                else
                        sb_addc(b, (char) *p);
        }
        sb_addc(b, '"');
}

void unit_append_specifier_safe(StrBuf *b, const char *s) {
        for (const char *p = s; *p; p++) {
                if (*p == '%')
                        sb_addc(b, '%');
                sb_addc(b, *p);
        }
}

bool unit_value_writable(const char *s) {
        size_t n = strlen(s);
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return n == 0 || s[n - 1] != '\\';
}

char *unit_escape_instance(const char *s) {
        _cleanup_sb_ StrBuf b = {0};
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == ':' ||
                    *p == '_' || *p == '-' || (*p == '.' && p != (const unsigned char *) s))
                        sb_addc(&b, (char) *p);
                else
                        {
                        static const char hex[] = "0123456789abcdef";
                        char esc[5] = { '\\', 'x', hex[*p >> 4], hex[*p & 15], 0 };
                        sb_add(&b, esc);
                }
        }
        return sb_take(&b);
}

/* The parent of rel inside the output dir, created on first use.  Only the
 * last component can be missing: the generator's directories exist. */
static int ensure_parent(Output *o, const char *rel) {
        const char *slash = strrchr(rel, '/');
        if (!slash)
                return 0;
        _cleanup_free_ char *dir = xstrndup(rel, (size_t) (slash - rel));
        bool wants = strstr(dir, ".wants") != NULL;
        if (wants && strv_contains(o->wants_dirs, dir))
                return 0;
        if (mkdirat(o->dir_fd, dir, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                log_error("Failed to create directory '%s/%s': %s", o->dir, dir, strerror(e));
                return -e;
        }
        if (wants)
                o->wants_dirs = strv_push(o->wants_dirs, TAKE_PTR(dir));
        return 0;
}

static int output_file(Output *o, const char *rel, const char *content) {
        if (o->dry_run) {
                fprintf(o->dry, "# --- %s\n%s\n", rel, content);
                __atomic_fetch_add(&o->n_written, 1, __ATOMIC_RELAXED);
                return 0;
        }
        int r = ensure_parent(o, rel);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = openat(o->dir_fd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
                int e = errno;
                log_error("Failed to write '%s/%s': %s", o->dir, rel, strerror(e));
                return -e;
        }
        size_t len = strlen(content);
        for (size_t done = 0; done < len;) {
                ssize_t n = write(fd, content + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int e = n < 0 ? errno : EIO;
                        log_error("Failed to write '%s/%s': %s", o->dir, rel, strerror(e));
                        return -e;
                }
                done += (size_t) n;
        }
        __atomic_fetch_add(&o->n_written, 1, __ATOMIC_RELAXED);
        return 0;
}

static int output_link(Output *o, const char *rel, const char *target) {
        if (o->dry_run) {
                fprintf(o->dry, "# --- %s -> %s\n\n", rel, target);
                return 0;
        }
        int r = ensure_parent(o, rel);
        if (r < 0)
                return r;
        if (symlinkat(target, o->dir_fd, rel) < 0) {
                if (errno == EEXIST)
                        (void) unlinkat(o->dir_fd, rel, 0);
                if (errno != EEXIST || symlinkat(target, o->dir_fd, rel) < 0) {
                        int e = errno;
                        log_error("Failed to link '%s/%s': %s", o->dir, rel, strerror(e));
                        return -e;
                }
        }
        return 0;
}

/* Comment text: a line break in a process name must not end the comment. */
static void append_comment_text(StrBuf *b, const char *s) {
        for (; *s; s++)
                sb_addc(b, (unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void header(StrBuf *b, const char *what, const char *file, unsigned line) {
        sb_add(b, "# Automatically generated by unitcorn-generator from ");
        append_comment_text(b, file);
        sb_addc(b, ':');
        sb_addi(b, line);
        sb_add(b, "\n# (");
        append_comment_text(b, what);
        sb_add(b, "). Edit the supervisor file, or override with 'systemctl edit'.\n");
}

/* Sort key: supervisor starts groups by priority, then each group's
 * processes by theirs. */
static int cmp_prio(const Process *a, const Process *b) {
        if (a->group_priority != b->group_priority)
                return a->group_priority < b->group_priority ? -1 : 1;
        if (a->priority != b->priority)
                return a->priority < b->priority ? -1 : 1;
        return 0;
}

static void write_exec(StrBuf *b, char **argv) {
        sb_add(b, "ExecStart=");
        for (size_t i = 0; argv[i]; i++) {
                if (i)
                        sb_addc(b, ' ');
                unit_append_exec_word(b, argv[i]);
        }
        sb_addc(b, '\n');
}

/* The service side of a rewritten gunicorn command (gunplan.h). */
static void write_gunicorn_service(StrBuf *b, const GunicornPlan *gun, const char *instance) {
        if (gun->listen)
                sb_addv(b, "Sockets=app@", instance, ".socket\n", NULL);
        if (!gun->unitcorn)
                return;   /* gunicorn kept: it takes the socket's fds, it is not a notify service */
        sb_add(b, "Type=notify\nNotifyAccess=main\n");
        sb_addf(b, "WatchdogSec=%ds\n", UNITCORN_WATCHDOG_SEC);
        sb_add(b, "ExecReload=/bin/kill -HUP $MAINPID\n");
        /* one journal entry per request: journald's default limit (10,000
         * per 30 s per service) would drop access entries under load */
        sb_add(b, "LogRateLimitIntervalSec=0\n");
}

static void write_gunicorn_socket(Output *o, const Process *p, const char *instance) {
        const GunicornPlan *gun = p->gun;
        _cleanup_sb_ StrBuf b = {0};
        _cleanup_free_ char *what = xasprintf("supervisor [%s], process %s, gunicorn's bind", p->section->name, p->name);
        header(&b, what, p->file, p->line);
        sb_add(&b, "\n[Unit]\nSourcePath=");
        unit_append_specifier_safe(&b, p->file);
        sb_add(&b, "\n\n[Socket]\n");
        for (size_t i = 0; gun->listen[i]; i++) {
                sb_add(&b, "ListenStream=");
                unit_append_specifier_safe(&b, gun->listen[i]);
                sb_addc(&b, '\n');
        }
        /* the listen() backlog is the socket's now; gunicorn's default
         * (2048) is below systemd's (SOMAXCONN, 4096), so only a given one */
        if (gun->backlog > 0)
                sb_addf(&b, "Backlog=%lld\n", gun->backlog);
        if (gun->unix_socket) {
                /* gunicorn (umask 0) makes its UNIX socket connectable by
                 * everyone and chowns it to its user: the same */
                sb_add(&b, "SocketMode=0666\n");
                if (p->user && !o->user_scope) {
                        sb_add(&b, "SocketUser=");
                        unit_append_specifier_safe(&b, p->user);
                        sb_addc(&b, '\n');
                }
        }
        _cleanup_free_ char *rel = xasprintf("app@%s.socket.d/" DROPIN_NAME, instance);
        if (output_file(o, rel, b.s) < 0 || !p->autostart)
                return;
        _cleanup_free_ char *link = xasprintf("sockets.target.wants/app@%s.socket", instance);
        _cleanup_free_ char *target = xasprintf("%s/app@.socket", o->unitdir);
        (void) output_link(o, link, target);
}

/* A relative path was reported when it was read; it goes to the journal. */
static void write_output(StrBuf *b, const char *setting, LogTarget t, const char *path) {
        switch (t) {
        case LOG_TARGET_NONE:
                sb_addv(b, setting, "=null\n", NULL);
                return;
        case LOG_TARGET_PATH:
                if (path[0] == '/') {
                        sb_addv(b, setting, "=append:", NULL);
                        unit_append_specifier_safe(b, path);
                        sb_addc(b, '\n');
                        return;
                }
                break;
        default:
                break;
        }
        sb_addv(b, setting, "=journal\n", NULL);
}

/* supervisor starts processes by (group priority, priority).  systemd
 * orders only what is in one transaction, and listing every lower-priority
 * process in each unit would be quadratic.  So each level gets a barrier
 * target, apps-priority@G.P.target, ordered after the level's processes and
 * after (and wanting) the barrier below; a process wants and orders after the
 * barrier of the level below its own.  Ordering then holds transitively for
 * whatever subset is being started, in linear size.  The barriers are PartOf=
 * apps.target so that stopping it stops them too and keeps the reverse order
 * (and so have no default dependencies: see write_priority_levels()). */
typedef struct Levels {
        const Process **first;   /* a representative process per level, sorted */
        size_t n;
} Levels;

static char *level_name(const Model *m, const Levels *l, size_t k) {
        (void) m;
        return xasprintf("apps-priority@%lld.%lld.target", (long long) l->first[k]->group_priority,
                         (long long) l->first[k]->priority);
}

static int cmp_proc_ptr(const void *a, const void *b) {
        return cmp_prio(*(const Process * const *) a, *(const Process * const *) b);
}

static void levels_build(const Model *m, Levels *l, size_t *level) {
        _cleanup_free_ const Process **sorted = xcalloc(m->n_procs + 1, sizeof(Process *));
        for (size_t i = 0; i < m->n_procs; i++)
                sorted[i] = m->procs[i];
        qsort(sorted, m->n_procs, sizeof(Process *), cmp_proc_ptr);
        l->first = xcalloc(m->n_procs + 1, sizeof(Process *));
        l->n = 0;
        for (size_t i = 0; i < m->n_procs; i++)
                if (l->n == 0 || cmp_prio(l->first[l->n - 1], sorted[i]) != 0)
                        l->first[l->n++] = sorted[i];
        for (size_t i = 0; i < m->n_procs; i++) {
                /* binary search for the level of process i */
                size_t lo = 0, hi = l->n;
                while (hi - lo > 1) {
                        size_t mid = (lo + hi) / 2;
                        if (cmp_prio(l->first[mid], m->procs[i]) <= 0)
                                lo = mid;
                        else
                                hi = mid;
                }
                level[i] = lo;
        }
}

static int write_priority_levels(Output *o, const Model *m, const Levels *l, const size_t *level, char **escaped) {
        if (l->n < 2)
                return 0;
        for (size_t k = 0; k + 1 < l->n; k++) {   /* the top level needs no barrier */
                _cleanup_sb_ StrBuf b = {0};
                _cleanup_free_ char *name = level_name(m, l, k);
                sb_addf(&b, "# Automatically generated by unitcorn-generator: ordering barrier for supervisor priority %lld (group priority %lld).\n",
                        (long long) l->first[k]->priority, (long long) l->first[k]->group_priority);
                sb_add(&b, "\n[Unit]\nDescription=supervisor programs of priority up to ");
                sb_addf(&b, "%lld.%lld\nPartOf=apps.target\n", (long long) l->first[k]->group_priority,
                        (long long) l->first[k]->priority);
                /* A target's default dependencies would order it After= what
                 * it is PartOf=, i.e. after apps.target, which is after every
                 * process: a cycle.  So: none, and the shutdown ones by hand. */
                sb_add(&b, "DefaultDependencies=no\nConflicts=shutdown.target\nBefore=shutdown.target\n");
                if (k > 0) {
                        _cleanup_free_ char *below = level_name(m, l, k - 1);
                        sb_addf(&b, "Wants=%s\nAfter=%s\n", below, below);
                }
                size_t n = 0;
                for (size_t i = 0; i < m->n_procs; i++) {
                        if (level[i] != k)
                                continue;
                        sb_add(&b, n % 8 == 0 ? (n ? "\nAfter=" : "After=") : " ");
                        sb_addf(&b, "app@%s.service", escaped[i]);
                        n++;
                }
                sb_addc(&b, '\n');
                int r = output_file(o, name, b.s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_process(Output *o, const Model *m, size_t idx, char **escaped, const Levels *levels, const size_t *level) {
        const Process *p = m->procs[idx];
        /* a user's manager runs everything as that user: no User= (it
         * would fail); model.c said so when it read user= */
        bool user_scope = o->user_scope;
        if (p->user && user_scope && (idx == 0 || m->procs[idx - 1]->section != p->section))   /* once a program */
                log_warning_at(p->file, p->line, "[%s] user=%s: a user's manager runs every program as that user; "
                               "ignoring it.", p->section->name, p->user);
        _cleanup_sb_ StrBuf b = {0};
        sb_grow(&b, 2048);
        _cleanup_free_ char *what = xstrjoin("supervisor [", p->section->name, "], process ", p->name, NULL);
        header(&b, what, p->file, p->line);

        sb_add(&b, "\n[Unit]\nSourcePath=");
        unit_append_specifier_safe(&b, p->file);
        sb_addc(&b, '\n');
        const Group *g = p->target;
        if (g) {
                _cleanup_free_ char *ge = unit_escape_instance(g->name);
                sb_addv(&b, "PartOf=app@", ge, ".target\n", NULL);
        }
        /* priority: after every process supervisor starts earlier, through
         * the barrier target of the level below (see write_priority_levels) */
        if (levels && levels->n > 1 && level[idx] > 0) {
                _cleanup_free_ char *below = level_name(m, levels, level[idx] - 1);
                sb_addf(&b, "Wants=%s\nAfter=%s\n", below, below);
        }
        if (p->autorestart != AUTORESTART_FALSE) {
                if (p->startsecs <= 0)
                        /* never "started too quickly": supervisor retries forever */
                        sb_add(&b, "StartLimitIntervalSec=0\n");
                else {
                        int64_t retries = p->startretries > 0 ? p->startretries : 1;
                        sb_addf(&b, "StartLimitIntervalSec=%llds\nStartLimitBurst=%lld\n",
                                (long long) (retries * (p->startsecs + RESTART_SEC)),
                                (long long) (p->startretries < 0 ? 1 : p->startretries + 1));
                }
        }

        sb_add(&b, "\n[Service]\n");
        const GunicornPlan *gun = p->gun;
        write_exec(&b, gun && gun->unitcorn ? gun->argv : p->argv);
        if (p->directory) {
                sb_add(&b, "WorkingDirectory=");
                unit_append_specifier_safe(&b, p->directory);
                sb_addc(&b, '\n');
        }
        if (p->user && !user_scope) {
                sb_add(&b, "User=");
                unit_append_specifier_safe(&b, p->user);
                sb_addc(&b, '\n');
        }
        if (p->has_umask)
                sb_addv(&b, "UMask=0", (char[]) { (char) ('0' + ((p->umask >> 6) & 7)), (char) ('0' + ((p->umask >> 3) & 7)), (char) ('0' + (p->umask & 7)), 0 }, "\n", NULL);
        sb_add(&b, "Environment=\"SUPERVISOR_ENABLED=1\" ");
        _cleanup_free_ char *pn = xstrjoin("SUPERVISOR_PROCESS_NAME=", p->name, NULL);
        _cleanup_free_ char *gn = xstrjoin("SUPERVISOR_GROUP_NAME=", p->group, NULL);
        unit_append_quoted(&b, pn);
        sb_addc(&b, ' ');
        unit_append_quoted(&b, gn);
        sb_addc(&b, '\n');
        for (size_t i = 0; i < p->environment.n; i++) {
                _cleanup_free_ char *kv = xstrjoin(p->environment.pairs[i].key, "=", p->environment.pairs[i].value, NULL);
                sb_add(&b, "Environment=");
                unit_append_quoted(&b, kv);
                sb_addc(&b, '\n');
        }

        switch (p->autorestart) {
        case AUTORESTART_TRUE:
                sb_add(&b, "Restart=always\n");
                break;
        case AUTORESTART_UNEXPECTED:
                sb_add(&b, "Restart=on-failure\n");
                break;
        case AUTORESTART_FALSE:
                sb_add(&b, "Restart=no\n");
                break;
        }
        sb_add(&b, "RestartSec=");
        sb_addi(&b, RESTART_SEC);
        sb_add(&b, "s\n");
        /* exitcodes: the codes listed are "expected".  0 is always a success
         * to systemd, so when it is not listed it has to force a restart. */
        size_t listed = 0;
        for (unsigned c = 1; c < 256; c++)
                if (exit_codes_has(&p->exitcodes, c)) {
                        sb_add(&b, listed++ ? " " : "SuccessExitStatus=");
                        sb_addi(&b, c);
                }
        if (listed)
                sb_addc(&b, '\n');
        if (p->autorestart == AUTORESTART_UNEXPECTED) {
                /* A death by signal is never "expected" in supervisor; systemd
                 * counts these four as clean unless told otherwise. */
                sb_add(&b, "RestartForceExitStatus=SIGHUP SIGINT SIGTERM SIGPIPE");
                if (!exit_codes_has(&p->exitcodes, 0))
                        sb_add(&b, " 0");
                sb_addc(&b, '\n');
        }
        sb_addv(&b, "KillSignal=", dt_signal_name(p->stopsignal), "\n", NULL);
        /* stopwaitsecs=0 means "SIGKILL at once" (supervisor's loop looks once
         * a second); 0 would mean "never" to systemd. */
        sb_add(&b, "TimeoutStopSec=");
        int64_t stop_sec = p->stopwaitsecs > 0 ? p->stopwaitsecs : 1;
        /* unitcorn's master drains its workers for
         * --graceful-timeout on SIGTERM: do not cut that short */
        if (gun && gun->unitcorn && stop_sec < gun->graceful_timeout + GRACEFUL_MARGIN_SEC)
                stop_sec = gun->graceful_timeout + GRACEFUL_MARGIN_SEC;
        sb_addi(&b, stop_sec);
        sb_addv(&b, "s\nKillMode=", p->stopasgroup ? "control-group" : "mixed", "\n", NULL);
        write_output(&b, "StandardOutput", p->stdout_target, p->stdout_path);
        if (p->redirect_stderr)
                sb_add(&b, "StandardError=inherit\n");
        else
                write_output(&b, "StandardError", p->stderr_target, p->stderr_path);
        if (m->has_minfds && m->minfds > 1024)
                sb_addf(&b, "LimitNOFILE=%lld\n", (long long) m->minfds);
        if (m->has_minprocs)
                sb_addf(&b, "LimitNPROC=%lld\n", (long long) m->minprocs);
        if (p->fcgi) {
                _cleanup_free_ char *pe = unit_escape_instance(p->program);
                sb_addf(&b, "Sockets=app@%s.socket\nStandardInput=socket\n", pe);
        }
        if (gun)
                write_gunicorn_service(&b, gun, escaped[idx]);

        _cleanup_free_ char *rel = xstrjoin("app@", escaped[idx], ".service.d/" DROPIN_NAME, NULL);
        return output_file(o, rel, b.s);
}

static int write_socket(Output *o, const Process *p) {
        _cleanup_sb_ StrBuf b = {0};
        _cleanup_free_ char *what = xasprintf("supervisor [%s] socket", p->section->name);
        _cleanup_free_ char *pe = unit_escape_instance(p->program);
        header(&b, what, p->file, p->line);
        sb_add(&b, "\n[Unit]\nSourcePath=");
        unit_append_specifier_safe(&b, p->file);
        sb_add(&b, "\n\n[Socket]\n");
        if (strncmp(p->fcgi_socket, "unix://", 7) == 0) {
                sb_add(&b, "ListenStream=");
                unit_append_specifier_safe(&b, p->fcgi_socket + 7);
                sb_addf(&b, "\nSocketMode=%04o\n", p->has_fcgi_socket_mode ? p->fcgi_socket_mode : 0700);
                const char *owner = p->fcgi_socket_owner ? p->fcgi_socket_owner : p->user;
                if (owner) {
                        _cleanup_free_ char *u = xstrdup(owner);
                        char *colon = strchr(u, ':');
                        if (colon)
                                *colon++ = 0;
                        sb_add(&b, "SocketUser=");
                        unit_append_specifier_safe(&b, u);
                        sb_addc(&b, '\n');
                        if (colon) {
                                sb_add(&b, "SocketGroup=");
                                unit_append_specifier_safe(&b, colon);
                                sb_addc(&b, '\n');
                        }
                }
        } else {
                const char *hp = p->fcgi_socket + 6;
                const char *colon = strrchr(hp, ':');
                /* supervisor binds the host it is given; "*" means every address */
                if ((size_t) (colon - hp) == 1 && hp[0] == '*')
                        sb_addf(&b, "ListenStream=%s\n", colon + 1);
                else {
                        sb_add(&b, "ListenStream=");
                        unit_append_specifier_safe(&b, hp);
                        sb_addc(&b, '\n');
                }
        }
        if (p->fcgi_socket_backlog > 0)
                sb_addf(&b, "Backlog=%lld\n", (long long) p->fcgi_socket_backlog);
        /* numprocs > 1 or a group: the socket is shared and activates the first. */
        _cleanup_free_ char *ie = unit_escape_instance(p->instance);
        if (!streq(ie, pe))
                sb_addf(&b, "Service=app@%s.service\n", ie);
        _cleanup_free_ char *rel = xasprintf("app@%s.socket.d/" DROPIN_NAME, pe);
        return output_file(o, rel, b.s);
}

static int write_group(Output *o, const Group *g) {
        _cleanup_sb_ StrBuf b = {0};
        _cleanup_free_ char *ge = unit_escape_instance(g->name);
        _cleanup_free_ char *what = xasprintf(g->heterogeneous ? "supervisor [group:%s]" : "supervisor [program:%s], numprocs > 1", g->name);
        header(&b, what, g->file, g->line);
        sb_addf(&b, "\n[Unit]\nDescription=supervisor %s %s\nSourcePath=", g->heterogeneous ? "group" : "program", ge);
        unit_append_specifier_safe(&b, g->file);
        sb_addc(&b, '\n');
        /* Starting the target starts every member, as "supervisorctl start
         * x:*" does; members are PartOf= it, so stop and restart propagate. */
        for (size_t i = 0; g->instances && g->instances[i]; i++) {
                _cleanup_free_ char *ie = unit_escape_instance(g->instances[i]);
                sb_addf(&b, "Wants=app@%s.service\n", ie);
        }
        _cleanup_free_ char *rel = xasprintf("app@%s.target", ge);
        return output_file(o, rel, b.s);
}

/* Below this many processes a second thread costs more than it saves. */
#define WRITE_THREAD_MIN 64

typedef struct WriteJob {
        Output *o;
        const Model *m;
        char **escaped;
        const Levels *levels;
        const size_t *level;
        const char *service_target;
        size_t from, to;
        int ret;
} WriteJob;

/* The drop-in and the autostart link of processes [from, to). */
static void *write_range(void *arg) {
        WriteJob *j = arg;
        for (size_t i = j->from; i < j->to; i++) {
                const Process *p = j->m->procs[i];
                if (strlen(j->escaped[i]) + strlen("app@.service") > UNIT_NAME_MAX) {
                        log_error_at(p->file, p->line,
                                     "process name '%s' makes a unit name longer than %d bytes, skipping program.",
                                     p->instance, UNIT_NAME_MAX);
                        continue;
                }
                int r = write_process(j->o, j->m, i, j->escaped, j->levels, j->level);
                if (r < 0) {
                        j->ret = r;
                        continue;
                }
                if (p->autostart) {
                        _cleanup_free_ char *rel = xstrjoin("apps.target.wants/app@", j->escaped[i], ".service", NULL);
                        if (output_link(j->o, rel, j->service_target) < 0)
                                j->ret = -EIO;
                }
        }
        return NULL;
}

int unit_write_model(Output *o, const Model *m) {
        int ret = 0;
        o->dir_fd = -1;
        if (!o->dry_run) {
                o->dir_fd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (o->dir_fd < 0) {
                        int e = errno;
                        log_error("Failed to open output directory '%s': %s", o->dir, strerror(e));
                        return -e;
                }
        }
        _cleanup_strv_free_ char **escaped = xcalloc(m->n_procs + 1, sizeof(char *));
        for (size_t i = 0; i < m->n_procs; i++)
                escaped[i] = unit_escape_instance(m->procs[i]->instance);

        Levels levels = {0};
        _cleanup_free_ size_t *level = xcalloc(m->n_procs + 1, sizeof(size_t));
        levels_build(m, &levels, level);

        _cleanup_free_ char *service_target = xstrjoin(o->unitdir, "/app@.service", NULL);
        if (!o->dry_run && ensure_parent(o, "apps.target.wants/x") < 0)
                ret = -EIO;

        /* The processes' drop-ins are independent files: with many of them
         * (and more than one CPU), two threads write them, which halves the
         * time spent in the kernel creating directories and files.  The
         * .wants directory exists already, so the threads share nothing
         * mutable but the counters.  --dry-run prints in order, unthreaded. */
        WriteJob jobs[2] = {
                { o, m, escaped, &levels, level, service_target, 0, m->n_procs, 0 },
                { o, m, escaped, &levels, level, service_target, m->n_procs, m->n_procs, 0 },
        };
        pthread_t thread;
        bool threaded = false;
        if (!o->dry_run && m->n_procs >= WRITE_THREAD_MIN && sysconf(_SC_NPROCESSORS_ONLN) > 1) {
                jobs[0].to = jobs[1].from = m->n_procs / 2;
                threaded = pthread_create(&thread, NULL, write_range, &jobs[1]) == 0;
                if (!threaded)
                        jobs[0].to = m->n_procs;
        }
        write_range(&jobs[0]);
        if (threaded)
                pthread_join(thread, NULL);
        for (size_t j = 0; j < ELEMENTSOF(jobs); j++)
                if (jobs[j].ret < 0)
                        ret = jobs[j].ret;

        _cleanup_strv_free_ char **sockets = NULL;
        for (size_t i = 0; i < m->n_procs; i++) {
                const Process *p = m->procs[i];
                if (p->gun && p->gun->listen) {
                        write_gunicorn_socket(o, p, escaped[i]);
                        continue;
                }
                if (p->fcgi && !strv_contains(sockets, p->program)) {
                        sockets = strv_push(sockets, xstrdup(p->program));
                        if (write_socket(o, p) >= 0) {
                                _cleanup_free_ char *pe = unit_escape_instance(p->program);
                                _cleanup_free_ char *rel = xasprintf("sockets.target.wants/app@%s.socket", pe);
                                _cleanup_free_ char *target = xasprintf("%s/app@.socket", o->unitdir);
                                (void) output_link(o, rel, target);
                        }
                }
        }

        _cleanup_strv_free_ char **targets = NULL;
        for (size_t i = 0; i < m->n_groups; i++) {
                const Group *g = m->groups[i];
                if (strv_contains(targets, g->name)) {
                        log_error_at(g->file, g->line, "app@%s.target is already generated for another group or program, skipping group '%s'.",
                                     g->name, g->name);
                        continue;
                }
                targets = strv_push(targets, xstrdup(g->name));
                int r = write_group(o, g);
                if (r < 0)
                        ret = r;
        }

        int r = write_priority_levels(o, m, &levels, level, escaped);
        if (r < 0)
                ret = r;
        free(levels.first);

        _cleanup_free_ char *target = xasprintf("%s/apps.target", o->unitdir);
        /* a user's manager has no multi-user.target: its boot is default.target */
        (void) output_link(o, o->user_scope ? "default.target.wants/apps.target" : "multi-user.target.wants/apps.target",
                           target);
        if (o->dir_fd >= 0)
                close(o->dir_fd);
        o->dir_fd = -1;
        o->wants_dirs = strv_free(o->wants_dirs);
        return ret < 0 && o->n_written == 0 ? ret : (int) o->n_written;
}
