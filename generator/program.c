/* program.c: one [program:x] (or [fcgi-program:x]) to its processes, as
 * supervisor's _processes_from_section() builds ProcessConfigs: every key in
 * supervisor's order, with the expansion names it allows for that key.
 * Reference: supervisor 4.2 options.py, _processes_from_section(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "expand.h"
#include "keys.h"
#include "log.h"
#include "gunplan.h"
#include "program.h"
#include "strbuf.h"
#include "unit.h"

void process_free(Process *p) {
        if (!p)
                return;
        free(p->name);
        free(p->instance);
        free(p->program);
        free(p->group);
        free(p->command);
        strv_free(p->argv);
        gunicorn_plan_free(p->gun);
        free(p->directory);
        free(p->user);
        env_pairs_done(&p->environment);
        free(p->stdout_path);
        free(p->stderr_path);
        free(p->fcgi_socket);
        free(p->fcgi_socket_owner);
        free(p);
}
DEFINE_FREE_FUNC(Process, process_free)

/* A line break or other control character, or a backslash at the end:
 * what an unquoted unit-file setting cannot hold (unit.h). */
static bool has_control(const char *s) {
        return !unit_value_writable(s);
}

/* Environment names systemd's Environment= accepts. */
static bool env_name_ok(const char *s) {
        if (!*s || (*s >= '0' && *s <= '9'))
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return true;
}

static int read_logfile(const KeyCtx *x, const char *which, Expansions *e, bool warn, LogTarget *ret_target,
                        char **ret_path) {
        bool out = streq(which, "stdout");
        const char *key = out ? "stdout_logfile" : "stderr_logfile";
        const char *bkey = out ? "stdout_logfile_backups" : "stderr_logfile_backups";
        const char *mkey = out ? "stdout_logfile_maxbytes" : "stderr_logfile_maxbytes";
        const char *skey = out ? "stdout_syslog" : "stderr_syslog";
        _cleanup_free_ char *v = NULL;
        const IniKey *k;
        if (key_get(x, key, NULL, e, true, &v, &k) < 0)
                return -EINVAL;
        LogTarget t = LOG_TARGET_AUTO;
        if (v) {
                /* supervisor expands this value a second time. */
                _cleanup_free_ char *v2 = NULL;
                char *error = NULL;
                if (expand_format(v, e, &v2, &error) < 0)
                        return key_fail(x, k, key, error);
                _cleanup_free_ char *path = NULL;
                if (dt_logfile(v2, &t, &path, &error) < 0)
                        return key_fail(x, k, key, error);
                if (t == LOG_TARGET_PATH && has_control(path))
                        return key_fail(x, k, key, xasprintf("path '%s' holds a line break or control character "
                                                             "(from a continuation line?) or ends in a backslash, "
                                                             "which a unit file cannot hold", path));
                if (t == LOG_TARGET_PATH && path[0] != '/' && warn)
                        log_warning_at(k->file, k->line,
                                       "%s: relative path '%s' is relative to supervisord's working directory, which "
                                       "systemd has not; output goes to the journal.", key, v2);
                else if (t == LOG_TARGET_PATH && warn)
                        log_notice_at(k->file, k->line,
                                      "%s: output is appended to %s; systemd does not rotate it (%s_logfile_maxbytes "
                                      "and _backups have no effect): leave it to the journal or use logrotate.",
                                      key, path, which);
                if (t == LOG_TARGET_PATH)
                        *ret_path = TAKE_PTR(path);
        }
        int64_t backups;
        bool syslog;
        if (key_integer(x, bkey, "10", e, &backups) < 0 || key_byte_size(x, mkey, "50MB", e) < 0 ||
            key_boolean(x, skey, "false", e, &syslog) < 0)
                return -EINVAL;
        if (t == LOG_TARGET_SYSLOG && warn)
                log_warning_at(k->file, k->line, "%s=syslog is deprecated in supervisor; output goes to the journal.",
                               key);
        if (t == LOG_TARGET_SYSLOG)
                t = LOG_TARGET_AUTO;
        if (syslog) {
                /* supervisor copies the output to syslog as well: that is the
                 * journal here.  A unit has one place for it, so a file wins,
                 * and NONE is overruled. */
                if (t == LOG_TARGET_PATH && warn)
                        log_warning_at(k ? k->file : x->section->file, k ? k->line : x->section->line,
                                       "%s: output goes to %s only; the copy %s=true asks for is not made.", key,
                                       *ret_path, skey);
                if (t == LOG_TARGET_NONE)
                        t = LOG_TARGET_AUTO;
        }
        *ret_target = t;
        return 0;
}

/* The keys supervisor reads in a [program:x] (options.py); anything else is
 * ignored by supervisor, silently, which hides typos: we say so. */
static void warn_unknown_keys(const IniSection *s, bool fcgi) {
        static const char *const known[] = {
                "command", "process_name", "numprocs", "numprocs_start", "priority", "autostart", "startsecs",
                "startretries", "autorestart", "exitcodes", "stopsignal", "stopwaitsecs", "stopasgroup",
                "killasgroup", "user", "redirect_stderr", "stdout_logfile", "stdout_logfile_maxbytes",
                "stdout_logfile_backups", "stdout_capture_maxbytes", "stdout_events_enabled", "stdout_syslog",
                "stderr_logfile", "stderr_logfile_maxbytes", "stderr_logfile_backups", "stderr_capture_maxbytes",
                "stderr_events_enabled", "stderr_syslog", "environment", "directory", "umask", "serverurl",
        };
        static const char *const fcgi_known[] = { "socket", "socket_backlog", "socket_owner", "socket_mode" };
        for (size_t i = 0; i < s->n_keys; i++) {
                bool ok = false;
                for (size_t j = 0; !ok && j < ELEMENTSOF(known); j++)
                        ok = streq(s->keys[i].name, known[j]);
                for (size_t j = 0; fcgi && !ok && j < ELEMENTSOF(fcgi_known); j++)
                        ok = streq(s->keys[i].name, fcgi_known[j]);
                if (!ok)
                        log_warning_at(s->keys[i].file, s->keys[i].line,
                                       "%s: unknown key in [%s], ignored (supervisor ignores it too).",
                                       s->keys[i].name, s->name);
        }
}

/* The program's keys, in the order _processes_from_section() reads them. */
int program_build(Model *m, const IniConfig *c, const IniSection *s, const char *group_name,
                         int64_t group_priority, bool in_group, const ProgramEnv *env, bool fcgi) {
        const char *raw_name = strchr(s->name, ':') + 1;
        size_t first_new = m->n_procs;
        char *error = NULL;
        _cleanup_free_ char *program = NULL;
        KeyCtx x = { .config = c, .section = s, .kind = fcgi ? "fcgi-program" : "program", .name = raw_name };
        if (dt_process_name(raw_name, &program, &error) < 0)
                return key_fail(&x, NULL, "section name", error);
        if (!*program)
                return key_fail(&x, NULL, "section name", xstrdup("empty program name"));
        x.name = program;
        if (s->broken) {
                log_error_at(s->file, s->line, "[%s] has lines that could not be read (see above), skipping %s '%s'.",
                             s->name, x.kind, program);
                return -EINVAL;
        }
        warn_unknown_keys(s, fcgi);

        Expansions common = { .parent = &env->environ_exp };
        expansions_set_str(&common, "program_name", program);
        expansions_set_str(&common, "host_node_name", env->host);
        expansions_set_str(&common, "group_name", group_name);
        int ret = -EINVAL;

        Process t = {0};   /* the settings shared by all numprocs */
        _cleanup_free_ char *v = NULL, *environment_str = NULL, *process_name = NULL;
        const IniKey *k, *env_key, *pn_key;
        int64_t numprocs, numprocs_start;
        _cleanup_free_ char *sock = NULL, *sock_owner = NULL;
        bool has_mode = false;
        int64_t mode = 0, backlog = 0;

        /* fcgi-program: process_groups_from_parser() reads user= and the
         * socket before any of the program's own keys. */
        if (fcgi) {
                Expansions fe = { .parent = &env->environ_exp };
                expansions_set_str(&fe, "program_name", program);
                int r = key_get(&x, "user", NULL, &fe, true, &v, &k);
                bool numeric;
                if (r >= 0 && v && !dt_user_exists(v, &numeric))
                        r = key_fail(&x, k, "user", xasprintf(numeric ? "Invalid user id %s" : "Invalid user name %s", v));
                free(TAKE_PTR(v));
                if (r >= 0)
                        r = key_get(&x, "socket_backlog", NULL, &fe, true, &v, &k);
                if (r >= 0 && v && (dt_integer(v, &backlog, &error) < 0 || backlog < 1 || backlog > 65535)) {
                        free(error);
                        r = key_fail(&x, k, "socket_backlog", xasprintf("Invalid socket_backlog value %s", v));
                }
                free(TAKE_PTR(v));
                if (r >= 0)
                        r = key_get(&x, "socket_owner", NULL, &fe, true, &sock_owner, &k);
                if (r >= 0 && sock_owner && !dt_owner_exists(sock_owner))
                        r = key_fail(&x, k, "socket_owner", xasprintf("Invalid socket_owner value %s", sock_owner));
                if (r >= 0)
                        r = key_get(&x, "socket_mode", NULL, &fe, true, &v, &k);
                if (r >= 0 && v) {
                        if (dt_octal(v, &mode, &error) < 0 || mode < 0 || mode > 07777) {
                                free(error);
                                r = key_fail(&x, k, "socket_mode", xasprintf("Invalid socket_mode value %s", v));
                        }
                        has_mode = true;
                }
                free(TAKE_PTR(v));
                if (r >= 0)
                        r = key_get(&x, "socket", NULL, &fe, true, &sock, &k);
                expansions_done(&fe);
                if (r < 0)
                        goto out;
                if (sock && has_control(sock)) {
                        key_fail(&x, k, "socket", xasprintf("'%s' holds a line break or control character or ends in a backslash", sock));
                        goto out;
                }
                if (!sock || !*sock) {
                        key_fail(&x, k, "socket", xasprintf("[%s] section requires a \"socket\" line", s->name));
                        goto out;
                }
                bool unix_sock = strncmp(sock, "unix://", 7) == 0;
                if (unix_sock && sock[7] != '/') {
                        key_fail(&x, k, "socket", xasprintf("Unix socket path %s is not an absolute path", sock + 7));
                        goto out;
                }
                if (!unix_sock && (sock_owner || has_mode)) {
                        key_fail(&x, k, "socket",
                                 xstrdup("socket_owner and socket_mode params should only be used with a Unix domain socket"));
                        goto out;
                }
                if (!unix_sock) {
                        const char *hp = strncmp(sock, "tcp://", 6) == 0 ? sock + 6 : NULL;
                        const char *colon = hp ? strrchr(hp, ':') : NULL;
                        bool ok = colon && colon > hp && colon[1];
                        for (const char *q = hp; ok && q < colon; q++)
                                ok = *q != ':' && !py_isspace(*q);
                        for (const char *q = colon ? colon + 1 : NULL; ok && *q; q++)
                                ok = *q >= '0' && *q <= '9';
                        if (!ok) {
                                key_fail(&x, k, "socket", xasprintf("Bad socket format %s", sock));
                                goto out;
                        }
                }
        }

        if (key_integer(&x, "priority", "999", &common, &t.priority) < 0 ||
            key_boolean(&x, "autostart", "true", &common, &t.autostart) < 0)
                goto out;
        if (key_get(&x, "autorestart", "unexpected", &common, true, &v, &k) < 0)
                goto out;
        if (dt_auto_restart(v, &t.autorestart, &error) < 0) {
                key_fail(&x, k, "autorestart", error);
                goto out;
        }
        free(TAKE_PTR(v));
        if (key_integer(&x, "startsecs", "1", &common, &t.startsecs) < 0 ||
            key_integer(&x, "startretries", "3", &common, &t.startretries) < 0)
                goto out;
        if (key_get(&x, "stopsignal", "TERM", &common, true, &v, &k) < 0)
                goto out;
        if (dt_signal(v, &t.stopsignal, &error) < 0) {
                key_fail(&x, k, "stopsignal", error);
                goto out;
        }
        if (t.stopsignal == 0) {
                key_fail(&x, k, "stopsignal", xasprintf("signal 0 ('%s') cannot stop a process", v));
                goto out;
        }
        free(TAKE_PTR(v));
        if (key_integer(&x, "stopwaitsecs", "10", &common, &t.stopwaitsecs) < 0 ||
            key_boolean(&x, "stopasgroup", "false", &common, &t.stopasgroup) < 0 ||
            key_boolean(&x, "killasgroup", t.stopasgroup ? "true" : "false", &common, &t.killasgroup) < 0)
                goto out;
        if (key_get(&x, "exitcodes", "0", &common, true, &v, &k) < 0)
                goto out;
        if (dt_exit_codes(v, &t.exitcodes, &error) < 0) {
                key_fail(&x, k, "exitcodes", error);
                goto out;
        }
        free(TAKE_PTR(v));
        if (key_boolean(&x, "redirect_stderr", "false", &common, &t.redirect_stderr) < 0 ||
            key_integer(&x, "numprocs", "1", &common, &numprocs) < 0 ||
            key_integer(&x, "numprocs_start", "0", &common, &numprocs_start) < 0)
                goto out;
        if (key_get(&x, "environment", "", &common, false, &environment_str, &env_key) < 0)
                goto out;
        bool b;
        if (key_byte_size(&x, "stdout_capture_maxbytes", "0", &common) < 0 ||
            key_boolean(&x, "stdout_events_enabled", "false", &common, &b) < 0 ||
            key_byte_size(&x, "stderr_capture_maxbytes", "0", &common) < 0 ||
            key_boolean(&x, "stderr_events_enabled", "false", &common, &b) < 0)
                goto out;
        if (key_get(&x, "serverurl", NULL, &common, true, &v, &k) < 0)
                goto out;
        free(TAKE_PTR(v));
        if (key_get(&x, "user", NULL, &common, true, &t.user, &k) < 0)
                goto out;
        if (!t.user && m->sd_user)
                t.user = xstrdup(m->sd_user);
        if (t.user) {
                bool numeric;
                if (!dt_user_exists(t.user, &numeric)) {
                        key_fail(&x, k, "user",
                                 xasprintf(numeric ? "Invalid user id %s" : "Invalid user name %s", t.user));
                        goto out;
                }
                int64_t uid;
                if (numeric && dt_integer(t.user, &uid, NULL) == 0) {
                        /* "00" or "+0" name uid 0 to supervisor; systemd wants "0" */
                        free(t.user);
                        t.user = xasprintf("%lld", (long long) uid);
                }
        }
        if (key_get(&x, "umask", NULL, &common, true, &v, &k) < 0)
                goto out;
        if (v) {
                int64_t um;
                if (dt_octal(v, &um, &error) < 0) {
                        key_fail(&x, k, "umask", error);
                        goto out;
                }
                if (um < 0 || um > 0777) {
                        key_fail(&x, k, "umask", xasprintf("umask '%s' is outside 0..0777", v));
                        goto out;
                }
                t.has_umask = true;
                t.umask = (unsigned) um;
        } else if (m->has_sd_umask) {
                t.has_umask = true;
                t.umask = m->sd_umask;
        }
        free(TAKE_PTR(v));
        if (key_get(&x, "process_name", "%(program_name)s", &common, false, &v, &pn_key) < 0)
                goto out;
        if (dt_process_name(v, &process_name, &error) < 0) {
                key_fail(&x, pn_key, "process_name", error);
                goto out;
        }
        free(TAKE_PTR(v));
        if (numprocs > 1 && !strstr(process_name, "%(process_num)")) {
                key_fail(&x, pn_key ? pn_key : NULL, "process_name",
                         xasprintf("%%(process_num) must be present within process_name when numprocs > 1 "
                                   "(process_name is '%s', numprocs is %lld)",
                                   process_name, (long long) numprocs));
                goto out;
        }
        if (t.stopasgroup && !t.killasgroup) {
                key_fail(&x, ini_section_lookup(c, s, "killasgroup"), "killasgroup",
                         xstrdup("Cannot set stopasgroup=true and killasgroup=false"));
                goto out;
        }
        if (numprocs < 1) {
                log_warning_at(s->file, s->line, "numprocs is %lld: supervisor runs no process for [%s].",
                               (long long) numprocs, s->name);
                ret = 0;
                goto out;
        }

        for (int64_t num = numprocs_start; num < numprocs_start + numprocs; num++) {
                _cleanup_(process_freep) Process *p = xcalloc(1, sizeof *p);
                *p = t;
                p->user = t.user ? xstrdup(t.user) : NULL;
                p->environment = (EnvPairs) {0};
                p->program = xstrdup(program);
                p->group = xstrdup(group_name);
                p->group_priority = group_priority;
                p->section = s;
                p->file = s->file;
                p->line = s->line;
                p->process_num = num;
                p->numprocs = numprocs;

                /* supervisor updates one dictionary in this loop: names a
                 * process adds (process_num, ENV_ of its environment) stay
                 * visible to the next one. */
                Expansions *e = &common;
                expansions_set_num(e, "process_num", num);
                expansions_set_num(e, "numprocs", numprocs);

                _cleanup_free_ char *env_exp = NULL;
                EnvPairs prog_env = {0};
                _cleanup_strv_free_ char **dropped = NULL;
                if (expand_format(environment_str, e, &env_exp, &error) < 0 ||
                    shlex_env_pairs(env_exp, &prog_env, &dropped, &error) < 0) {
                        key_fail(&x, env_key, "environment", error);
                        goto out;
                }
                for (size_t i = 0; num == numprocs_start && dropped && dropped[i]; i++)
                        log_warning_at(env_key->file, env_key->line,
                                       "environment: '%s' stands where supervisor expects ',' and is ignored by it.",
                                       dropped[i]);
                for (size_t i = 0; i < env->sd_env.n; i++)
                        env_pairs_set(&p->environment, env->sd_env.pairs[i].key, env->sd_env.pairs[i].value);
                for (size_t i = 0; i < prog_env.n; i++) {
                        _cleanup_free_ char *ek = xstrjoin("ENV_", prog_env.pairs[i].key, NULL);
                        expansions_set_str(e, ek, prog_env.pairs[i].value);
                        env_pairs_set(&p->environment, prog_env.pairs[i].key, prog_env.pairs[i].value);
                }
                env_pairs_done(&prog_env);
                for (size_t i = 0; i < p->environment.n; i++)
                        if (!env_name_ok(p->environment.pairs[i].key)) {
                                key_fail(&x, env_key, "environment",
                                         xasprintf("'%s' is not a variable name systemd accepts (letters, digits, '_')",
                                                   p->environment.pairs[i].key));
                                                                goto out;
                        }

                int r = key_get(&x, "directory", NULL, e, true, &p->directory, &k);
                if (r >= 0 && p->directory && has_control(p->directory))
                        r = key_fail(&x, k, "directory",
                                     xasprintf("'%s' holds a line break or control character (from a continuation "
                                               "line?) or ends in a backslash, which a unit file cannot hold",
                                               p->directory));
                if (r >= 0 && p->directory && p->directory[0] != '/')
                        r = key_fail(&x, k, "directory",
                                     xasprintf(p->directory[0] == '~' ? "'%s' is not an absolute path (supervisor does not expand '~' here)"
                                                                      : "'%s' is not an absolute path",
                                               p->directory));
                if (r >= 0)
                        r = read_logfile(&x, "stdout", e, num == numprocs_start, &p->stdout_target, &p->stdout_path);
                if (r >= 0)
                        r = read_logfile(&x, "stderr", e, num == numprocs_start, &p->stderr_target, &p->stderr_path);
                if (r >= 0 && p->redirect_stderr) {
                        if (p->stderr_target == LOG_TARGET_PATH && num == numprocs_start) {
                                const IniKey *sk = ini_section_lookup(c, s, "stderr_logfile");
                                log_warning_at(sk->file, sk->line,
                                               "redirect_stderr=true but stderr_logfile is set to a file name; "
                                               "supervisor ignores the file name, and so do we.");
                        }
                        p->stderr_target = LOG_TARGET_AUTO;
                        free(p->stderr_path);
                        p->stderr_path = NULL;
                }
                if (r >= 0)
                        r = key_get(&x, "command", NULL, e, true, &p->command, &k);
                if (r >= 0 && !p->command)
                        r = key_fail(&x, NULL, "command",
                                     xasprintf("program section %s does not specify a command", s->name));
                _cleanup_free_ char *name = NULL;
                if (r >= 0 && expand_format(process_name, e, &name, &error) < 0)
                        r = key_fail(&x, pn_key, "process_name", error);
                                if (r < 0)
                        goto out;
                if (!*name || strchr(name, '/')) {
                        key_fail(&x, pn_key, "process_name",
                                 xasprintf("process name '%s' cannot name a unit", name));
                        goto out;
                }
                const char *path_env = env_pairs_get(&p->environment, "PATH");
                if (!path_env)
                        path_env = getenv("PATH");
                if (command_resolve(&x, k, p, path_env) < 0)
                        goto out;
                p->name = TAKE_PTR(name);
                p->instance = in_group ? xstrjoin(group_name, ":", p->name, NULL) : xstrdup(p->name);
                if (fcgi) {
                        p->fcgi = true;
                        p->fcgi_socket = xstrdup(sock);
                        p->fcgi_socket_owner = sock_owner ? xstrdup(sock_owner) : NULL;
                        p->has_fcgi_socket_mode = has_mode;
                        p->fcgi_socket_mode = (unsigned) mode;
                        p->fcgi_socket_backlog = backlog;
                }
                gunicorn_plan(p, k, m->n_procs == first_new);

                /* Two processes may not produce the same unit. */
                const Process *dup = model_find_instance(m, p->instance);
                for (size_t i = first_new; !dup && i < m->n_procs; i++)
                        if (streq(m->procs[i]->instance, p->instance))
                                dup = m->procs[i];
                if (dup) {
                        log_error_at(s->file, s->line,
                                     "process name '%s' of [%s] is already used by [%s] at %s:%u, skipping %s '%s'.",
                                     p->instance, s->name, dup->section->name, dup->file, dup->line, x.kind, program);
                        goto out;
                }
                /* numprocs: each process would bind the same address, and
                 * under supervisor all but the first fail to.  One socket
                 * unit per address: the later processes keep their
                 * command (and fail to bind, as they did). */
                for (size_t i = first_new; p->gun && p->gun->listen && i < m->n_procs; i++) {
                        const GunicornPlan *o = m->procs[i]->gun;
                        for (size_t j = 0; o && o->listen && o->listen[j]; j++)
                                if (strv_contains(p->gun->listen, o->listen[j])) {
                                        log_notice_at(k->file, k->line, "[%s] command: process '%s' would listen on %s "
                                                      "as process '%s' does; only the first gets the socket, this "
                                                      "command is kept as it is.", s->name, p->name, o->listen[j],
                                                      m->procs[i]->name);
                                        p->gun = gunicorn_plan_free(p->gun);
                                        break;
                                }
                }
                m->procs = xrealloc(m->procs, (m->n_procs + 1) * sizeof *m->procs);
                m->procs[m->n_procs++] = TAKE_PTR(p);
        }
        log_debug_at(s->file, s->line, "Read [%s]: %lld process(es).", s->name, (long long) numprocs);
        for (size_t i = first_new; i < m->n_procs; i++)
                model_add_instance(m, m->procs[i]);
        ret = 0;
out:
        if (ret < 0) {
                /* the program is skipped whole: drop the processes it made */
                for (size_t i = first_new; i < m->n_procs; i++)
                        process_free(m->procs[i]);
                m->n_procs = first_new;
        }
        free(t.user);
        expansions_done(&common);
        return ret;
}
