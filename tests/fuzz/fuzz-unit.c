/* fuzz-unit: supervisor config in, units out (generator/unit.c), and the
 * units read back as systemd reads them (unitread.h): no value can add a
 * directive, change a command or escape the output directory.
 *
 * The input is one supervisor file (/fuzz/supervisor.d/fuzz.ini), read
 * and turned into the model as unitcorn-generator does, then written as
 * --dry-run writes it.  Then, for every file written:
 *   - its path is one of the generator's layout (unit.h), with no '/' in
 *     an instance name nor a ".." component;
 *   - it reads back, line by line with systemd's rules (comments,
 *     continuation lines, whitespace stripping), into settings each of
 *     which is a directive the generator writes, in the section it belongs
 *     to;
 * and for each process's drop-in, the settings read back are exactly the
 * model's values: ExecStart= once, giving argv word for word (no lone '%'
 * specifier, '$' variable or ';' separator; argv[0] absolute, so no
 * '-@:+!' prefix), WorkingDirectory=, User=, the Environment= assignments
 * in order, the append: paths, SourcePath=; a socket drop-in's
 * ListenStream= lines are the model's addresses; and a sandbox drop-in's
 * ReadWritePaths= are the program's directories. */
#include <stdlib.h>
#include <string.h>

#include "gunplan.h"
#include "inifile.h"
#include "log.h"
#include "program.h"
#include "report.h"
#include "strbuf.h"
#include "unit.h"
#include "unitread.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_NAME "/fuzz/supervisor.d/fuzz.ini"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        report_init();
        log_set_level(LOG_DEBUG);              /* every message formatted */
        return 0;
}

typedef struct Written {
        char *rel;
        char *content;           /* NULL: a symlink */
} Written;

/* --dry-run's "# --- REL\nCONTENT\n" and "# --- REL -> TARGET\n\n". */
static size_t split_output(const char *out, Written **ret) {
        Written *w = NULL;
        size_t n = 0;
        const char *p = out;
        while (*p) {
                if (strncmp(p, "# --- ", 6) != 0)
                        report_fail("dry-run output does not start a file at '%.40s'", p);
                const char *eol = strchr(p, '\n');
                if (!eol)
                        report_fail("dry-run output ends in a header");
                const char *body = eol + 1, *next = body;
                /* the next header at a line start */
                for (;;) {
                        next = strstr(next, "\n# --- ");
                        if (!next) {
                                next = body + strlen(body);
                                break;
                        }
                        next++;
                        break;
                }
                w = xrealloc(w, (n + 1) * sizeof *w);
                _cleanup_free_ char *header = xstrndup(p + 6, (size_t) (eol - p - 6));
                char *arrow = strstr(header, " -> ");
                if (arrow) {
                        *arrow = 0;
                        w[n++] = (Written) { xstrdup(header), NULL };
                } else
                        w[n++] = (Written) { xstrdup(header), xstrndup(body, (size_t) (next - body)) };
                p = next;
        }
        *ret = w;
        return n;
}

static bool has_prefix(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool has_suffix(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && streq(s + n - m, suffix);
}

/* app@X.service.d/50-supervisor.conf and friends, X without '/'. */
static bool instance_between(const char *rel, const char *prefix, const char *suffix) {
        if (!has_prefix(rel, prefix) || !has_suffix(rel, suffix) || strlen(rel) < strlen(prefix) + strlen(suffix) + 1)
                return false;
        size_t n = strlen(rel) - strlen(prefix) - strlen(suffix);
        return memchr(rel + strlen(prefix), '/', n) == NULL;
}

static void check_path(const char *rel, bool link) {
        if (rel[0] == '/' || strstr(rel, "/../") || has_prefix(rel, "../") || strchr(rel, '\n'))
                report_fail("written outside the output directory: '%s'", rel);
        bool ok = link ? instance_between(rel, "apps.target.wants/app@", ".service") ||
                         instance_between(rel, "sockets.target.wants/app@", ".socket") ||
                         streq(rel, "multi-user.target.wants/apps.target")
                       : instance_between(rel, "app@", ".service.d/50-supervisor.conf") ||
                         instance_between(rel, "app@", ".service.d/60-sandbox.conf") ||
                         instance_between(rel, "app@", ".socket.d/50-supervisor.conf") ||
                         instance_between(rel, "app@", ".target") ||
                         instance_between(rel, "apps-priority@", ".target");
        if (!ok)
                report_fail("a file the generator does not write: '%s'", rel);
}

/* Every directive the generator writes, by section. */
static const char *const allowed[] = {
        "Unit/SourcePath", "Unit/Description", "Unit/PartOf", "Unit/Wants", "Unit/After", "Unit/Before",
        "Unit/Conflicts", "Unit/DefaultDependencies", "Unit/StartLimitIntervalSec", "Unit/StartLimitBurst",
        "Service/ExecStart", "Service/WorkingDirectory", "Service/User", "Service/UMask", "Service/Environment",
        "Service/Restart", "Service/RestartSec", "Service/SuccessExitStatus", "Service/RestartForceExitStatus",
        "Service/KillSignal", "Service/TimeoutStopSec", "Service/KillMode", "Service/StandardOutput",
        "Service/StandardError", "Service/LimitNOFILE", "Service/LimitNPROC", "Service/Sockets",
        "Service/StandardInput", "Service/Type", "Service/NotifyAccess", "Service/WatchdogSec",
        "Service/ExecReload", "Service/LogRateLimitIntervalSec",
        /* 60-sandbox.conf */
        "Service/NoNewPrivileges", "Service/CapabilityBoundingSet", "Service/PrivateTmp",
        "Service/PrivateDevices", "Service/ProtectSystem", "Service/ReadOnlyPaths", "Service/ReadWritePaths",
        "Service/ProtectHome", "Service/ProtectKernelTunables", "Service/ProtectKernelModules",
        "Service/ProtectKernelLogs", "Service/ProtectControlGroups", "Service/ProtectClock",
        "Service/ProtectHostname", "Service/ProtectProc", "Service/RestrictNamespaces",
        "Service/RestrictRealtime", "Service/RestrictSUIDSGID", "Service/LockPersonality", "Service/RemoveIPC",
        "Service/RestrictAddressFamilies", "Service/SystemCallArchitectures", "Service/SystemCallFilter",
        "Service/SystemCallErrorNumber",
        "Socket/ListenStream", "Socket/Backlog", "Socket/SocketMode", "Socket/SocketUser", "Socket/SocketGroup",
        "Socket/Service",
        NULL,
};

static void check_directives(const char *rel, const UnitFile *u) {
        for (size_t i = 0; i < u->n; i++) {
                _cleanup_free_ char *sk = xstrjoin(u->settings[i].section, "/", u->settings[i].key, NULL);
                if (!strv_contains((char **) allowed, sk))
                        report_fail("%s: '%s=%s' is not a directive the generator writes", rel,
                                    u->settings[i].key, u->settings[i].value);
        }
}

/* The values of one directive, in order. */
static char **values(const UnitFile *u, const char *section, const char *key) {
        char **v = NULL;
        for (size_t i = 0; i < u->n; i++)
                if (streq(u->settings[i].section, section) && streq(u->settings[i].key, key))
                        v = strv_push(v, xstrdup(u->settings[i].value));
        return v;
}

static char *unspec(const char *rel, const char *s) {
        char *r, *error = NULL;
        if (unit_unspecifier(s, false, &r, &error) < 0)
                report_fail("%s: %s", rel, error);
        return r;
}

/* The words of every [Service] key= line, in order, unquoted and with
 * their specifiers resolved (Environment=, ReadWritePaths=). */
static char **words_of(const char *rel, const UnitFile *u, const char *key) {
        _cleanup_strv_free_ char **lines = values(u, "Service", key);
        char **all = NULL, *error = NULL;
        for (size_t i = 0; lines && lines[i]; i++) {
                _cleanup_strv_free_ char **words = NULL;
                if (unit_split_words(lines[i], &words, NULL, &error) < 0)
                        report_fail("%s: %s=: %s", rel, key, error);
                for (size_t j = 0; words[j]; j++)
                        all = strv_push(all, unspec(rel, words[j]));
        }
        return all;
}

/* A single-valued path-like setting: present iff want, reading back as want. */
static void check_single(const char *rel, const UnitFile *u, const char *section, const char *key,
                         const char *want) {
        _cleanup_strv_free_ char **v = values(u, section, key);
        size_t n = strv_length(v);
        if (!want) {
                if (n)
                        report_fail("%s: %s=%s, and the model has none", rel, key, v[0]);
                return;
        }
        if (n != 1)
                report_fail("%s: %zu %s= lines for '%s'", rel, n, key, want);
        _cleanup_free_ char *got = unspec(rel, v[0]);
        if (!streq(got, want))
                report_fail("%s: %s= reads back as '%s', the model says '%s'", rel, key, got, want);
}

static void check_strv(const char *rel, const char *what, char **got, char **want) {
        size_t n = strv_length(got), m = strv_length(want);
        for (size_t i = 0; i < n || i < m; i++)
                if (i >= n || i >= m || !streq(got[i], want[i]))
                        report_fail("%s: %s word %zu reads back as '%s', the model says '%s'", rel, what, i,
                                    i < n ? got[i] : "(none)", i < m ? want[i] : "(none)");
}

static void check_service(const char *rel, const UnitFile *u, const Process *p) {
        _cleanup_strv_free_ char **exec = values(u, "Service", "ExecStart");
        if (strv_length(exec) != 1)
                report_fail("%s: %zu ExecStart= lines", rel, strv_length(exec));
        _cleanup_strv_free_ char **argv = NULL;
        char *error = NULL;
        if (unit_exec_argv(exec[0], &argv, &error) < 0)
                report_fail("%s: ExecStart=: %s", rel, error);
        char **want = p->gun && p->gun->unitcorn ? p->gun->argv : p->argv;
        check_strv(rel, "ExecStart=", argv, want);
        if (!argv[0] || argv[0][0] != '/')
                report_fail("%s: ExecStart= does not start with an absolute path: '%s'", rel, argv[0]);

        check_single(rel, u, "Unit", "SourcePath", p->file);
        check_single(rel, u, "Service", "WorkingDirectory", p->directory);
        check_single(rel, u, "Service", "User", p->user);

        /* Environment=: the words of every line, in order */
        _cleanup_strv_free_ char **env = words_of(rel, u, "Environment"), **want_env = NULL;
        want_env = strv_push(want_env, xstrdup("SUPERVISOR_ENABLED=1"));
        want_env = strv_push(want_env, xstrjoin("SUPERVISOR_PROCESS_NAME=", p->name, NULL));
        want_env = strv_push(want_env, xstrjoin("SUPERVISOR_GROUP_NAME=", p->group, NULL));
        for (size_t i = 0; i < p->environment.n; i++)
                want_env = strv_push(want_env, xstrjoin(p->environment.pairs[i].key, "=",
                                                        p->environment.pairs[i].value, NULL));
        check_strv(rel, "Environment=", env, want_env);

        /* append: paths */
        const struct { const char *key; LogTarget t; const char *path; } outs[] = {
                { "StandardOutput", p->stdout_target, p->stdout_path },
                { "StandardError", p->stderr_target, p->stderr_path },
        };
        for (size_t i = 0; i < 2; i++) {
                _cleanup_strv_free_ char **v = values(u, "Service", outs[i].key);
                if (strv_length(v) != 1)
                        report_fail("%s: %zu %s= lines", rel, strv_length(v), outs[i].key);
                if (!has_prefix(v[0], "append:"))
                        continue;
                _cleanup_free_ char *got = unspec(rel, v[0] + 7);
                if (outs[i].t != LOG_TARGET_PATH || !outs[i].path || !streq(got, outs[i].path))
                        report_fail("%s: %s=%s, the model says '%s'", rel, outs[i].key, v[0],
                                    outs[i].path ? outs[i].path : "(none)");
        }
}

static void check_socket(const char *rel, const UnitFile *u, const Process *p) {
        if (!p->gun || !p->gun->listen)
                return;
        _cleanup_strv_free_ char **listen = values(u, "Socket", "ListenStream"), **got = NULL;
        for (size_t i = 0; listen && listen[i]; i++)
                got = strv_push(got, unspec(rel, listen[i]));
        check_strv(rel, "ListenStream=", got, p->gun->listen);
}

/* The sandbox's ReadWritePaths=: the words of every line, in order, are
 * the program's absolute directory= and gunicorn --chdir (once if the
 * same), then "/tmp /var/tmp" exactly when PrivateTmp=no keeps them
 * shared. */
static void check_sandbox(const char *rel, const UnitFile *u, const Process *p) {
        _cleanup_strv_free_ char **got = words_of(rel, u, "ReadWritePaths"), **want = NULL;
        _cleanup_strv_free_ char **private_tmp = values(u, "Service", "PrivateTmp");
        const char *dirs[] = { p->directory, p->gun ? p->gun->chdir : NULL };
        for (size_t i = 0; i < 2; i++)
                if (dirs[i] && dirs[i][0] == '/' && (i == 0 || !dirs[0] || !streq(dirs[0], dirs[i])))
                        want = strv_push(want, xstrdup(dirs[i]));
        if (strv_length(private_tmp) != 1)
                report_fail("%s: %zu PrivateTmp= lines", rel, strv_length(private_tmp));
        if (streq(private_tmp[0], "no")) {
                want = strv_push(want, xstrdup("/tmp"));
                want = strv_push(want, xstrdup("/var/tmp"));
        }
        check_strv(rel, "ReadWritePaths=", got, want);
}

static const Written *find(const Written *w, size_t n, const char *rel) {
        for (size_t i = 0; i < n; i++)
                if (streq(w[i].rel, rel))
                        return &w[i];
        return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        IniConfig c = {0};
        Model m = {0};
        if (ini_config_read_buffer(&c, FILE_NAME, (const char *) data, size) < 0) {
                ini_config_done(&c);
                return 0;
        }
        model_build(&c, &m);

        char *out = NULL;
        size_t out_len = 0;
        FILE *f = open_memstream(&out, &out_len);
        if (!f)
                abort();
        Output o = { .dry_run = true, .dry = f, .unitdir = "/usr/lib/systemd/system" };
        (void) unit_write_model(&o, &m);
        fclose(f);

        Written *w = NULL;
        size_t n = split_output(out, &w);
        UnitFile *units = xcalloc(n + 1, sizeof *units);
        for (size_t i = 0; i < n; i++) {
                check_path(w[i].rel, !w[i].content);
                if (!w[i].content)
                        continue;
                char *error = NULL;
                if (unit_read(w[i].content, &units[i], &error) < 0)
                        report_fail("%s: %s", w[i].rel, error);
                check_directives(w[i].rel, &units[i]);
        }

        for (size_t i = 0; i < m.n_procs; i++) {
                const Process *p = m.procs[i];
                _cleanup_free_ char *e = unit_escape_instance(p->instance);
                _cleanup_free_ char *rel = xstrjoin("app@", e, ".service.d/50-supervisor.conf", NULL);
                const Written *s = find(w, n, rel);
                if (!s) {
                        if (strlen(e) + strlen("app@.service") <= 255)
                                report_fail("no drop-in for process '%s'", p->instance);
                        continue;
                }
                check_service(rel, &units[s - w], p);
                _cleanup_free_ char *srel = xstrjoin("app@", e, ".socket.d/50-supervisor.conf", NULL);
                const Written *sock = find(w, n, srel);
                if (sock)
                        check_socket(srel, &units[sock - w], p);
                _cleanup_free_ char *sbrel = xstrjoin("app@", e, ".service.d/60-sandbox.conf", NULL);
                const Written *sandbox = find(w, n, sbrel);
                if (sandbox)
                        check_sandbox(sbrel, &units[sandbox - w], p);
        }

        for (size_t i = 0; i < n; i++) {
                unit_file_done(&units[i]);
                free(w[i].rel);
                free(w[i].content);
        }
        free(units);
        free(w);
        free(out);
        model_done(&m);
        ini_config_done(&c);
        return 0;
}
