/* program.c: from INI sections to the processes supervisor would run.
 * Reference: supervisor 4.2 options.py, ServerOptions.read_config(),
 * process_groups_from_parser(), _processes_from_section(); process.py,
 * Subprocess.get_execv_args() for what is checked at spawn. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "expand.h"
#include "log.h"
#include "program.h"
#include "strbuf.h"

extern char **environ;

/* Used to look up a bare command name when neither the program's nor
 * [supervisord]'s environment sets PATH and we have none either. */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct Ctx {
        Model *model;              /* set for [supervisord]: where its first error was */
        const IniConfig *config;
        const IniSection *section;
        const char *kind;          /* "program", "group", "supervisord" */
        const char *name;          /* what is skipped on error */
} Ctx;

/* Reports an error about a key and returns -EINVAL.  Takes msg. */
static int ctx_fail(const Ctx *x, const IniKey *k, const char *key, char *msg) {
        const char *file = k ? k->file : x->section ? x->section->file : NULL;
        unsigned line = k ? k->line : x->section ? x->section->line : 0;
        if (streq(x->kind, "supervisord")) {
                log_error_at(file, line, "%s: %s (in [%s]).", key, msg, x->section->name);
                if (x->model && !x->model->fail_file) {
                        x->model->fail_file = file;
                        x->model->fail_line = line;
                }
        }
        else
                log_error_at(file, line, "%s: %s (in [%s]), skipping %s '%s'.", key, msg, x->section->name, x->kind,
                             x->name);
        free(msg);
        return -EINVAL;
}

/* supervisor's saneget(): the value (or the default), with "%(here)s"
 * replaced by the directory of the file that set it (expand_here()), then
 * "%"-expanded unless do_expand is false.  *ret is NULL when the key is
 * absent and def is NULL. */
static int get(const Ctx *x, const char *key, const char *def, Expansions *e, bool do_expand, char **ret,
               const IniKey **ret_key) {
        const IniKey *k = ini_section_lookup(x->config, x->section, key);
        if (ret_key)
                *ret_key = k;
        if (!k) {
                if (!def) {
                        *ret = NULL;
                        return 0;
                }
                if (!do_expand || !strchr(def, '%')) {
                        *ret = xstrdup(def);
                        return 0;
                }
                char *error = NULL;
                if (expand_format(def, e, ret, &error) < 0)
                        return ctx_fail(x, NULL, key, error);
                return 0;
        }

        /* Most values hold no '%' at all: nothing to replace or expand. */
        if (!strchr(k->value, '%')) {
                *ret = xstrdup(k->value);
                return 0;
        }
        _cleanup_sb_ StrBuf b = {0};
        /* From a [DEFAULT] key, "here" is the directory of the section's file. */
        const char *src = k->file;
        if (x->section && ini_section_lookup(x->config, NULL, key) == k)
                src = x->section->file;
        _cleanup_free_ char *here = ini_file_dir(src);
        for (const char *p = k->value;;) {
                const char *h = strstr(p, "%(here)s");
                if (!h) {
                        sb_add(&b, p);
                        break;
                }
                sb_addn(&b, p, (size_t) (h - p));
                sb_add(&b, here);
                p = h + strlen("%(here)s");
        }
        if (!do_expand) {
                *ret = sb_take(&b);
                return 0;
        }
        _cleanup_free_ char *error = NULL;
        /* "here" is always available; it is the only name that varies by key. */
        expansions_set_str(e, "here", here);
        int r = expand_format(b.s ? b.s : "", e, ret, &error);
        if (r < 0)
                return ctx_fail(x, k, key, TAKE_PTR(error));
        return 0;
}

/* get() + a datatype conversion, for the many int/bool keys. */
/* get() for values that are only converted, not kept: a value without '%'
 * (nearly all) is used in place, without a copy. */
static int get_view(const Ctx *x, const char *key, const char *def, Expansions *e, const char **ret,
                    char **ret_owned, const IniKey **ret_key) {
        const IniKey *k = ini_section_lookup(x->config, x->section, key);
        const char *raw = k ? k->value : def;
        *ret_owned = NULL;
        *ret_key = k;
        if (raw && !strchr(raw, '%')) {
                *ret = raw;
                return 0;
        }
        if (get(x, key, def, e, true, ret_owned, ret_key) < 0)
                return -EINVAL;
        *ret = *ret_owned;
        return 0;
}

static int get_integer(const Ctx *x, const char *key, const char *def, Expansions *e, int64_t *ret) {
        _cleanup_free_ char *owned = NULL;
        const char *v;
        const IniKey *k;
        if (get_view(x, key, def, e, &v, &owned, &k) < 0)
                return -EINVAL;
        char *error = NULL;
        if (dt_integer(v, ret, &error) < 0)
                return ctx_fail(x, k, key, error);
        return 0;
}

static int get_boolean(const Ctx *x, const char *key, const char *def, Expansions *e, bool *ret) {
        _cleanup_free_ char *owned = NULL;
        const char *v;
        const IniKey *k;
        if (get_view(x, key, def, e, &v, &owned, &k) < 0)
                return -EINVAL;
        char *error = NULL;
        if (dt_boolean(v, ret, &error) < 0)
                return ctx_fail(x, k, key, error);
        return 0;
}

static int get_byte_size(const Ctx *x, const char *key, const char *def, Expansions *e) {
        _cleanup_free_ char *owned = NULL;
        const char *v;
        const IniKey *k;
        if (get_view(x, key, def, e, &v, &owned, &k) < 0)
                return -EINVAL;
        char *error = NULL;
        int64_t n;
        if (dt_byte_size(v, &n, &error) < 0)
                return ctx_fail(x, k, key, error);
        return 0;
}

static void process_free(Process *p) {
        if (!p)
                return;
        free(p->name);
        free(p->instance);
        free(p->program);
        free(p->group);
        free(p->command);
        strv_free(p->argv);
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

static void group_free(Group *g) {
        if (!g)
                return;
        free(g->name);
        strv_free(g->instances);
        free(g);
}

void model_done(Model *m) {
        for (size_t i = 0; i < m->n_procs; i++)
                process_free(m->procs[i]);
        free(m->procs);
        for (size_t i = 0; i < m->n_groups; i++)
                group_free(m->groups[i]);
        free(m->groups);
        free(m->sd_user);
        free(m->by_instance);
        *m = (Model) {0};
}

static size_t instance_slot(const Model *m, const char *instance) {
        size_t mask = m->by_instance_cap - 1, i = str_hash(instance) & mask;
        while (m->by_instance[i] && !streq(m->by_instance[i]->instance, instance))
                i = (i + 1) & mask;
        return i;
}

static const Process *instance_find(const Model *m, const char *instance) {
        return m->by_instance_cap ? m->by_instance[instance_slot(m, instance)] : NULL;
}

static void instance_add(Model *m, Process *p) {
        if (m->n_procs * 2 > m->by_instance_cap) {
                size_t cap = m->by_instance_cap ? m->by_instance_cap : 64;
                while (m->n_procs * 2 > cap)
                        cap *= 2;
                Process **old = m->by_instance;
                size_t old_cap = m->by_instance_cap;
                m->by_instance = xcalloc(cap, sizeof(Process *));
                m->by_instance_cap = cap;
                for (size_t i = 0; i < old_cap; i++)
                        if (old[i])
                                m->by_instance[instance_slot(m, old[i]->instance)] = old[i];
                free(old);
        }
        m->by_instance[instance_slot(m, p->instance)] = p;
}

/* name_to_uid(), remembered: NSS reads /etc/passwd afresh on every call. */
static bool user_exists(const char *user, bool *ret_numeric) {
        static char **known = NULL;
        int64_t uid;
        bool numeric = dt_integer(user, &uid, NULL) == 0;
        *ret_numeric = numeric;
        if (strv_contains(known, user))
                return true;
        struct passwd *pw = numeric ? getpwuid((uid_t) uid) : getpwnam(user);
        if (!pw)
                return false;
        known = strv_push(known, xstrdup(user));
        return true;
}

/* colon_separated_user_group(): "user" or "user:group", both existing. */
static bool owner_exists(const char *owner) {
        _cleanup_free_ char *u = xstrdup(owner);
        char *colon = strchr(u, ':');
        if (colon)
                *colon++ = 0;
        bool numeric;
        if (!user_exists(u, &numeric))
                return false;
        if (!colon)
                return true;
        int64_t gid;
        return dt_integer(colon, &gid, NULL) == 0 ? getgrgid((gid_t) gid) != NULL : getgrnam(colon) != NULL;
}

/* A line break or other control character: what an unquoted unit-file
 * setting cannot hold. */
static bool has_control(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
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

/* Bare command names, looked up once per (PATH, name). */
typedef struct Lookup {
        char *path, *name, *found;
} Lookup;
static Lookup *lookups;
static size_t n_lookups;

static char *lookup_cached(const char *path, const char *name) {
        for (size_t i = 0; i < n_lookups; i++)
                if (streq(lookups[i].name, name) && streq(lookups[i].path, path))
                        return xstrdup(lookups[i].found);
        return NULL;
}

static void remember_lookup(const char *path, const char *name, const char *found) {
        for (size_t i = 0; i < n_lookups; i++)
                if (streq(lookups[i].name, name) && streq(lookups[i].path, path))
                        return;
        lookups = xrealloc(lookups, (n_lookups + 1) * sizeof *lookups);
        lookups[n_lookups++] = (Lookup) { xstrdup(path), xstrdup(name), xstrdup(found) };
}

/* supervisor's get_execv_args(): the first PATH entry where the name exists
 * (we also want a regular file: a directory cannot be executed). */
static char *path_lookup(const char *search, const char *prog) {
        _cleanup_free_ char *path = xstrdup(search);
        char *save = NULL;
        for (char *dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *cand = xstrjoin(dir, "/", prog, NULL);
                struct stat st;
                if (cand[0] == '/' && stat(cand, &st) == 0)
                        return TAKE_PTR(cand);   /* the first that exists, even if it cannot run */
        }
        return NULL;
}

/* Splits command= and makes argv[0] a path systemd can execute, doing at
 * generation time what supervisor does when it spawns. */
static int resolve_command(const Ctx *x, const IniKey *k, Process *p, const char *path_env) {
        char *error = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        if (shlex_split(p->command, &argv, &error) < 0)
                return ctx_fail(x, k, "command", xasprintf("can't parse command '%s': %s", p->command, error)),
                       free(error), -EINVAL;
        if (!argv[0])
                return ctx_fail(x, k, "command", xasprintf("command is empty: '%s'", p->command));

        const char *prog = argv[0];
        if (!strchr(prog, '/')) {
                const char *search = path_env && *path_env ? path_env : DEFAULT_PATH;
                char *found = lookup_cached(search, prog);
                if (!found)
                        found = path_lookup(search, prog);
                if (found)
                        remember_lookup(search, prog, found);
                if (!found)
                        return ctx_fail(x, k, "command",
                                        xasprintf("can't find command '%s' in PATH=%s", prog,
                                                  path_env && *path_env ? path_env : DEFAULT_PATH));
                /* check_execv_args() */
                struct stat st;
                if (stat(found, &st) == 0 && S_ISDIR(st.st_mode)) {
                        _cleanup_free_ char *f = found;
                        return ctx_fail(x, k, "command", xasprintf("command at '%s' is a directory", f));
                }
                if (stat(found, &st) == 0 && !(st.st_mode & 0111)) {
                        _cleanup_free_ char *f = found;
                        return ctx_fail(x, k, "command", xasprintf("command at '%s' is not executable", f));
                }
                free(argv[0]);
                argv[0] = found;
        } else if (prog[0] != '/') {
                /* supervisor's child chdir()s to directory= before execve(). */
                if (!p->directory || p->directory[0] != '/')
                        return ctx_fail(x, k, "command",
                                        xasprintf("relative command '%s' needs an absolute directory=", prog));
                char *abs = xasprintf("%s%s%s", p->directory,
                                      p->directory[strlen(p->directory) - 1] == '/' ? "" : "/", prog);
                free(argv[0]);
                argv[0] = abs;
        }
        p->argv = TAKE_PTR(argv);
        return 0;
}

static int read_logfile(const Ctx *x, const char *which, Expansions *e, bool warn, LogTarget *ret_target,
                        char **ret_path) {
        bool out = streq(which, "stdout");
        const char *key = out ? "stdout_logfile" : "stderr_logfile";
        const char *bkey = out ? "stdout_logfile_backups" : "stderr_logfile_backups";
        const char *mkey = out ? "stdout_logfile_maxbytes" : "stderr_logfile_maxbytes";
        const char *skey = out ? "stdout_syslog" : "stderr_syslog";
        _cleanup_free_ char *v = NULL;
        const IniKey *k;
        if (get(x, key, NULL, e, true, &v, &k) < 0)
                return -EINVAL;
        LogTarget t = LOG_TARGET_AUTO;
        if (v) {
                /* supervisor expands this value a second time. */
                _cleanup_free_ char *v2 = NULL;
                char *error = NULL;
                if (expand_format(v, e, &v2, &error) < 0)
                        return ctx_fail(x, k, key, error);
                _cleanup_free_ char *path = NULL;
                if (dt_logfile(v2, &t, &path, &error) < 0)
                        return ctx_fail(x, k, key, error);
                if (t == LOG_TARGET_PATH && has_control(path))
                        return ctx_fail(x, k, key, xasprintf("path '%s' holds a line break or control character "
                                                             "(from a continuation line?), which a unit file cannot hold", path));
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
        if (get_integer(x, bkey, "10", e, &backups) < 0 || get_byte_size(x, mkey, "50MB", e) < 0 ||
            get_boolean(x, skey, "false", e, &syslog) < 0)
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

typedef struct Env {
        Expansions environ_exp;  /* ENV_* of our environment and [supervisord] environment= */
        EnvPairs sd_env;
        char *host;
} Env;

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
static int build_program(Model *m, const IniConfig *c, const IniSection *s, const char *group_name,
                         int64_t group_priority, bool in_group, const Env *env, bool fcgi) {
        const char *raw_name = strchr(s->name, ':') + 1;
        size_t first_new = m->n_procs;
        char *error = NULL;
        _cleanup_free_ char *program = NULL;
        Ctx x = { .config = c, .section = s, .kind = fcgi ? "fcgi-program" : "program", .name = raw_name };
        if (dt_process_name(raw_name, &program, &error) < 0)
                return ctx_fail(&x, NULL, "section name", error);
        if (!*program)
                return ctx_fail(&x, NULL, "section name", xstrdup("empty program name"));
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
                int r = get(&x, "user", NULL, &fe, true, &v, &k);
                bool numeric;
                if (r >= 0 && v && !user_exists(v, &numeric))
                        r = ctx_fail(&x, k, "user", xasprintf(numeric ? "Invalid user id %s" : "Invalid user name %s", v));
                free(TAKE_PTR(v));
                if (r >= 0)
                        r = get(&x, "socket_backlog", NULL, &fe, true, &v, &k);
                if (r >= 0 && v && (dt_integer(v, &backlog, &error) < 0 || backlog < 1 || backlog > 65535)) {
                        free(error);
                        r = ctx_fail(&x, k, "socket_backlog", xasprintf("Invalid socket_backlog value %s", v));
                }
                free(TAKE_PTR(v));
                if (r >= 0)
                        r = get(&x, "socket_owner", NULL, &fe, true, &sock_owner, &k);
                if (r >= 0 && sock_owner && !owner_exists(sock_owner))
                        r = ctx_fail(&x, k, "socket_owner", xasprintf("Invalid socket_owner value %s", sock_owner));
                if (r >= 0)
                        r = get(&x, "socket_mode", NULL, &fe, true, &v, &k);
                if (r >= 0 && v) {
                        if (dt_octal(v, &mode, &error) < 0 || mode < 0 || mode > 07777) {
                                free(error);
                                r = ctx_fail(&x, k, "socket_mode", xasprintf("Invalid socket_mode value %s", v));
                        }
                        has_mode = true;
                }
                free(TAKE_PTR(v));
                if (r >= 0)
                        r = get(&x, "socket", NULL, &fe, true, &sock, &k);
                expansions_done(&fe);
                if (r < 0)
                        goto out;
                if (sock && has_control(sock)) {
                        ctx_fail(&x, k, "socket", xasprintf("'%s' holds a line break or control character", sock));
                        goto out;
                }
                if (!sock || !*sock) {
                        ctx_fail(&x, k, "socket", xasprintf("[%s] section requires a \"socket\" line", s->name));
                        goto out;
                }
                bool unix_sock = strncmp(sock, "unix://", 7) == 0;
                if (unix_sock && sock[7] != '/') {
                        ctx_fail(&x, k, "socket", xasprintf("Unix socket path %s is not an absolute path", sock + 7));
                        goto out;
                }
                if (!unix_sock && (sock_owner || has_mode)) {
                        ctx_fail(&x, k, "socket",
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
                                ctx_fail(&x, k, "socket", xasprintf("Bad socket format %s", sock));
                                goto out;
                        }
                }
        }

        if (get_integer(&x, "priority", "999", &common, &t.priority) < 0 ||
            get_boolean(&x, "autostart", "true", &common, &t.autostart) < 0)
                goto out;
        if (get(&x, "autorestart", "unexpected", &common, true, &v, &k) < 0)
                goto out;
        if (dt_auto_restart(v, &t.autorestart, &error) < 0) {
                ctx_fail(&x, k, "autorestart", error);
                goto out;
        }
        free(TAKE_PTR(v));
        if (get_integer(&x, "startsecs", "1", &common, &t.startsecs) < 0 ||
            get_integer(&x, "startretries", "3", &common, &t.startretries) < 0)
                goto out;
        if (get(&x, "stopsignal", "TERM", &common, true, &v, &k) < 0)
                goto out;
        if (dt_signal(v, &t.stopsignal, &error) < 0) {
                ctx_fail(&x, k, "stopsignal", error);
                goto out;
        }
        if (t.stopsignal == 0) {
                ctx_fail(&x, k, "stopsignal", xasprintf("signal 0 ('%s') cannot stop a process", v));
                goto out;
        }
        free(TAKE_PTR(v));
        if (get_integer(&x, "stopwaitsecs", "10", &common, &t.stopwaitsecs) < 0 ||
            get_boolean(&x, "stopasgroup", "false", &common, &t.stopasgroup) < 0 ||
            get_boolean(&x, "killasgroup", t.stopasgroup ? "true" : "false", &common, &t.killasgroup) < 0)
                goto out;
        if (get(&x, "exitcodes", "0", &common, true, &v, &k) < 0)
                goto out;
        if (dt_exit_codes(v, &t.exitcodes, &error) < 0) {
                ctx_fail(&x, k, "exitcodes", error);
                goto out;
        }
        free(TAKE_PTR(v));
        if (get_boolean(&x, "redirect_stderr", "false", &common, &t.redirect_stderr) < 0 ||
            get_integer(&x, "numprocs", "1", &common, &numprocs) < 0 ||
            get_integer(&x, "numprocs_start", "0", &common, &numprocs_start) < 0)
                goto out;
        if (get(&x, "environment", "", &common, false, &environment_str, &env_key) < 0)
                goto out;
        bool b;
        if (get_byte_size(&x, "stdout_capture_maxbytes", "0", &common) < 0 ||
            get_boolean(&x, "stdout_events_enabled", "false", &common, &b) < 0 ||
            get_byte_size(&x, "stderr_capture_maxbytes", "0", &common) < 0 ||
            get_boolean(&x, "stderr_events_enabled", "false", &common, &b) < 0)
                goto out;
        if (get(&x, "serverurl", NULL, &common, true, &v, &k) < 0)
                goto out;
        free(TAKE_PTR(v));
        if (get(&x, "user", NULL, &common, true, &t.user, &k) < 0)
                goto out;
        if (!t.user && m->sd_user)
                t.user = xstrdup(m->sd_user);
        if (t.user) {
                bool numeric;
                if (!user_exists(t.user, &numeric)) {
                        ctx_fail(&x, k, "user",
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
        if (get(&x, "umask", NULL, &common, true, &v, &k) < 0)
                goto out;
        if (v) {
                int64_t um;
                if (dt_octal(v, &um, &error) < 0) {
                        ctx_fail(&x, k, "umask", error);
                        goto out;
                }
                if (um < 0 || um > 0777) {
                        ctx_fail(&x, k, "umask", xasprintf("umask '%s' is outside 0..0777", v));
                        goto out;
                }
                t.has_umask = true;
                t.umask = (unsigned) um;
        } else if (m->has_sd_umask) {
                t.has_umask = true;
                t.umask = m->sd_umask;
        }
        free(TAKE_PTR(v));
        if (get(&x, "process_name", "%(program_name)s", &common, false, &v, &pn_key) < 0)
                goto out;
        if (dt_process_name(v, &process_name, &error) < 0) {
                ctx_fail(&x, pn_key, "process_name", error);
                goto out;
        }
        free(TAKE_PTR(v));
        if (numprocs > 1 && !strstr(process_name, "%(process_num)")) {
                ctx_fail(&x, pn_key ? pn_key : NULL, "process_name",
                         xasprintf("%%(process_num) must be present within process_name when numprocs > 1 "
                                   "(process_name is '%s', numprocs is %lld)",
                                   process_name, (long long) numprocs));
                goto out;
        }
        if (t.stopasgroup && !t.killasgroup) {
                ctx_fail(&x, ini_section_lookup(c, s, "killasgroup"), "killasgroup",
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
                        ctx_fail(&x, env_key, "environment", error);
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
                                ctx_fail(&x, env_key, "environment",
                                         xasprintf("'%s' is not a variable name systemd accepts (letters, digits, '_')",
                                                   p->environment.pairs[i].key));
                                                                goto out;
                        }

                int r = get(&x, "directory", NULL, e, true, &p->directory, &k);
                if (r >= 0 && p->directory && has_control(p->directory))
                        r = ctx_fail(&x, k, "directory",
                                     xasprintf("'%s' holds a line break or control character (from a continuation "
                                               "line?), which a unit file cannot hold", p->directory));
                if (r >= 0 && p->directory && p->directory[0] != '/')
                        r = ctx_fail(&x, k, "directory",
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
                        r = get(&x, "command", NULL, e, true, &p->command, &k);
                if (r >= 0 && !p->command)
                        r = ctx_fail(&x, NULL, "command",
                                     xasprintf("program section %s does not specify a command", s->name));
                _cleanup_free_ char *name = NULL;
                if (r >= 0 && expand_format(process_name, e, &name, &error) < 0)
                        r = ctx_fail(&x, pn_key, "process_name", error);
                                if (r < 0)
                        goto out;
                if (!*name || strchr(name, '/')) {
                        ctx_fail(&x, pn_key, "process_name",
                                 xasprintf("process name '%s' cannot name a unit", name));
                        goto out;
                }
                const char *path_env = env_pairs_get(&p->environment, "PATH");
                if (!path_env)
                        path_env = getenv("PATH");
                if (resolve_command(&x, k, p, path_env) < 0)
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

                /* Two processes may not produce the same unit. */
                const Process *dup = instance_find(m, p->instance);
                for (size_t i = first_new; !dup && i < m->n_procs; i++)
                        if (streq(m->procs[i]->instance, p->instance))
                                dup = m->procs[i];
                if (dup) {
                        log_error_at(s->file, s->line,
                                     "process name '%s' of [%s] is already used by [%s] at %s:%u, skipping %s '%s'.",
                                     p->instance, s->name, dup->section->name, dup->file, dup->line, x.kind, program);
                        goto out;
                }
                m->procs = xrealloc(m->procs, (m->n_procs + 1) * sizeof *m->procs);
                m->procs[m->n_procs++] = TAKE_PTR(p);
        }
        log_debug_at(s->file, s->line, "Read [%s]: %lld process(es).", s->name, (long long) numprocs);
        for (size_t i = first_new; i < m->n_procs; i++)
                instance_add(m, m->procs[i]);
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

static void read_supervisord(Model *m, const IniConfig *c, Env *env) {
        const IniSection *s = ini_config_find(c, "supervisord");
        if (!s)
                return;
        unsigned errors_before = log_n_errors();
        Ctx x = { .model = m, .config = c, .section = s, .kind = "supervisord", .name = "supervisord" };
        Expansions e = { .parent = &env->environ_exp };
        expansions_set_str(&e, "host_node_name", env->host);
        _cleanup_free_ char *v = NULL;
        const IniKey *k;
        char *error = NULL;
        if (get(&x, "minfds", NULL, &e, true, &v, &k) == 0 && v) {
                if (dt_integer(v, &m->minfds, &error) < 0)
                        ctx_fail(&x, k, "minfds", error);
                else
                        m->has_minfds = m->minfds > 0;
        }
        free(TAKE_PTR(v));
        error = NULL;
        if (get(&x, "minprocs", NULL, &e, true, &v, &k) == 0 && v) {
                if (dt_integer(v, &m->minprocs, &error) < 0)
                        ctx_fail(&x, k, "minprocs", error);
                else
                        m->has_minprocs = m->minprocs > 0;
        }
        free(TAKE_PTR(v));
        error = NULL;
        if (get(&x, "umask", NULL, &e, true, &v, &k) == 0 && v) {
                int64_t um;
                if (dt_octal(v, &um, &error) < 0 || um < 0 || um > 0777)
                        ctx_fail(&x, k, "umask", error ? error : xasprintf("umask '%s' is outside 0..0777", v));
                else
                        m->has_sd_umask = true, m->sd_umask = (unsigned) um;
        }
        free(TAKE_PTR(v));
        (void) get(&x, "user", NULL, &e, true, &m->sd_user, &k);
        if (get(&x, "environment", "", &e, true, &v, &k) == 0) {
                /* read_config() expands this value a second time */
                _cleanup_free_ char *v2 = NULL;
                if (expand_format(v, &e, &v2, &error) < 0)
                        ctx_fail(&x, k, "environment", error);
                else if (shlex_env_pairs(v2, &env->sd_env, NULL, &error) < 0)
                        ctx_fail(&x, k, "environment", error);
                for (size_t i = 0; i < env->sd_env.n; i++) {
                        _cleanup_free_ char *ek = xasprintf("ENV_%s", env->sd_env.pairs[i].key);
                        expansions_set_str(&env->environ_exp, ek, env->sd_env.pairs[i].value);
                }
        }
        expansions_done(&e);
        m->supervisord_failed = log_n_errors() > errors_before;
}

static bool section_is(const IniSection *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s->name, prefix, n) == 0 && s->name[n] == ':';
}

static void group_add(Model *m, Group *g) {
        m->groups = xrealloc(m->groups, (m->n_groups + 1) * sizeof *m->groups);
        m->groups[m->n_groups++] = g;
}

/* list_of_strings(): split on ',' and strip each item; no value, no items.
 * Empty items stay (and then name no program, as in supervisor). */
static char **split_list(const char *value) {
        char **items = NULL;
        if (!value || !*value)
                return xcalloc(1, sizeof(char *));
        _cleanup_free_ char *copy = xstrdup(value);
        for (char *item = copy;;) {
                char *comma = strchr(item, ',');
                if (comma)
                        *comma = 0;
                items = strv_push(items, xstrdup(py_strip(item)));
                if (!comma)
                        break;
                item = comma + 1;
        }
        return items;
}

/* supervisor refuses to start at all when [supervisord] or [DEFAULT] is bad;
 * since every program depends on them, we skip every program, each with a
 * message at the offending line, rather than run them with settings that
 * were meant differently.  Returns false when the configuration is usable. */
static bool config_unusable(const IniConfig *c, const Model *m) {
        const IniSection *sd = ini_config_find(c, "supervisord");
        const char *file, *why;
        unsigned line;
        if (c->defaults.broken) {
                file = c->defaults.broken_file, line = c->defaults.broken_line;
                why = "[DEFAULT] has a line that could not be read (see above) and every section inherits it";
        } else if (sd && sd->broken) {
                file = sd->broken_file, line = sd->broken_line;
                why = "[supervisord] has a line that could not be read (see above): supervisor would not start";
        } else if (m->supervisord_failed) {
                file = m->fail_file, line = m->fail_line;
                why = "[supervisord] has an invalid value (see above): supervisor would not start";
        } else
                return false;
        for (size_t i = 0; i < c->n_sections; i++)
                if (section_is(c->sections[i], "program") || section_is(c->sections[i], "fcgi-program"))
                        log_error_at(file, line, "%s; skipping [%s].", why, c->sections[i]->name);
        return true;
}

static bool section_is_program(const IniSection *s) {
        return section_is(s, "program") || section_is(s, "fcgi-program");
}

void model_build(const IniConfig *c, Model *m) {
        Env env = {0};
        struct utsname u;
        env.host = xstrdup(uname(&u) == 0 ? u.nodename : "localhost");
        for (char **e = environ; e && *e; e++) {
                const char *eq = strchr(*e, '=');
                if (!eq)
                        continue;
                _cleanup_free_ char *name = xasprintf("ENV_%.*s", (int) (eq - *e), *e);
                expansions_set_str(&env.environ_exp, name, eq + 1);
        }
        _cleanup_strv_free_ char **grouped = NULL;   /* sections claimed by a [group:x] */
        read_supervisord(m, c, &env);
        if (config_unusable(c, m)) {
                for (size_t i = 0; i < c->n_sections; i++)
                        if (section_is_program(c->sections[i]))
                                m->n_skipped++;
                goto done;
        }

        for (size_t i = 0; i < c->n_sections; i++) {
                const IniSection *s = c->sections[i];
                if (!section_is(s, "group"))
                        continue;
                Ctx x = { .config = c, .section = s, .kind = "group", .name = strchr(s->name, ':') + 1 };
                char *error = NULL;
                _cleanup_free_ char *gname = NULL, *programs = NULL;
                Expansions e = { .parent = &env.environ_exp };
                int64_t prio = 999;
                const IniKey *pk = NULL;
                int r = dt_process_name(x.name, &gname, &error);
                if (r < 0)
                        ctx_fail(&x, NULL, "section name", error);
                else if (s->broken)
                        r = log_error_at(s->file, s->line, "[%s] has lines that could not be read (see above).", s->name);
                if (r >= 0) {
                        x.name = gname;
                        r = get(&x, "programs", NULL, &e, true, &programs, &pk);
                }
                if (r >= 0)
                        r = get_integer(&x, "priority", "999", &e, &prio);
                expansions_done(&e);
                _cleanup_strv_free_ char **members = NULL;
                if (r < 0) {
                        /* supervisor would stop here.  Its members must not run as
                         * plain programs: skip those we can name. */
                        const IniKey *raw = ini_section_lookup(c, s, "programs");
                        members = split_list(raw ? raw->value : NULL);
                        for (size_t j = 0; members[j]; j++) {
                                _cleanup_free_ char *ps = xstrjoin("program:", members[j], NULL);
                                _cleanup_free_ char *fs = xstrjoin("fcgi-program:", members[j], NULL);
                                const IniSection *ms = ini_config_find(c, ps);
                                if (!ms)
                                        ms = ini_config_find(c, fs);
                                if (!ms)
                                        continue;
                                log_error_at(ms->file, ms->line, "[%s] is a member of the invalid [%s], skipping it.",
                                             ms->name, s->name);
                                grouped = strv_push(grouped, xstrdup(ms->name));
                                m->n_skipped++;
                        }
                        log_error_at(s->file, s->line, "Skipping group [%s].", s->name);
                        continue;
                }
                Group *g = xcalloc(1, sizeof *g);
                g->name = xstrdup(gname);
                g->priority = prio;
                g->file = s->file;
                g->line = s->line;
                g->heterogeneous = true;
                group_add(m, g);

                members = split_list(programs);
                for (size_t j = 0; members[j]; j++) {
                        const char *name = members[j];
                        _cleanup_free_ char *ps = xstrjoin("program:", name, NULL);
                        _cleanup_free_ char *fs = xstrjoin("fcgi-program:", name, NULL);
                        const IniSection *member = ini_config_find(c, ps);
                        const IniSection *fmember = ini_config_find(c, fs);
                        if (member && fmember)
                                log_error_at(pk->file, pk->line,
                                             "programs: [%s] name '%s' is ambiguous (exists as program and fcgi-program), skipping it.",
                                             s->name, name);
                        else if (!member && !fmember)
                                log_error_at(pk->file, pk->line, "programs: [%s] names unknown program or fcgi-program '%s', skipping it.",
                                             s->name, name);
                        else {
                                /* In a group, supervisor runs an [fcgi-program:x] as a
                                 * plain process: its socket is never read. */
                                const IniSection *ms = member ? member : fmember;
                                grouped = strv_push(grouped, xstrdup(ms->name));
                                size_t before = m->n_procs;
                                if (build_program(m, c, ms, gname, prio, true, &env, false) < 0)
                                        m->n_skipped++;
                                for (size_t k = before; k < m->n_procs; k++) {
                                        g->instances = strv_push(g->instances, xstrdup(m->procs[k]->instance));
                                        m->procs[k]->target = g;
                                }
                        }
                }
        }

        for (size_t i = 0; i < c->n_sections; i++) {
                const IniSection *s = c->sections[i];
                bool fcgi = section_is(s, "fcgi-program");
                if (section_is(s, "eventlistener")) {
                        log_warning_at(s->file, s->line,
                                       "[%s]: event listeners are not supported (systemd has no event protocol), skipping.",
                                       s->name);
                        continue;
                }
                if (!section_is_program(s)) {
                        static const char *const quiet[] = { "supervisord", "include", "unix_http_server",
                                                             "inet_http_server", "supervisorctl" };
                        bool known = section_is(s, "group") || section_is(s, "rpcinterface") || section_is(s, "ctlplugin");
                        for (size_t j = 0; j < ELEMENTSOF(quiet); j++)
                                known = known || streq(s->name, quiet[j]);
                        if (!known)
                                log_notice_at(s->file, s->line, "Section [%s] means nothing to supervisor, ignoring.",
                                              s->name);
                        continue;
                }
                if (strv_contains(grouped, s->name))
                        continue;
                const char *raw = strchr(s->name, ':') + 1;
                /* The group (and its priority) of a plain program is itself. */
                Ctx x = { .config = c, .section = s, .kind = fcgi ? "fcgi-program" : "program", .name = raw };
                _cleanup_free_ char *gname = NULL;
                char *error = NULL;
                if (dt_process_name(raw, &gname, &error) < 0) {
                        ctx_fail(&x, NULL, "section name", error);
                        m->n_skipped++;
                        continue;
                }
                Expansions e = { .parent = &env.environ_exp };
                int64_t prio = 999;
                int r = get_integer(&x, "priority", "999", &e, &prio);
                expansions_done(&e);
                size_t before = m->n_procs;
                if (r < 0 || build_program(m, c, s, gname, prio, false, &env, fcgi) < 0) {
                        m->n_skipped++;
                        continue;
                }
                if (m->n_procs - before > 1 || (before < m->n_procs && m->procs[before]->numprocs > 1)) {
                        Group *g = xcalloc(1, sizeof *g);
                        g->name = xstrdup(m->procs[before]->program);
                        g->priority = prio;
                        g->file = s->file;
                        g->line = s->line;
                        for (size_t j = before; j < m->n_procs; j++) {
                                g->instances = strv_push(g->instances, xstrdup(m->procs[j]->instance));
                                m->procs[j]->target = g;
                        }
                        group_add(m, g);
                }
        }

done:
        expansions_done(&env.environ_exp);
        env_pairs_done(&env.sd_env);
        free(env.host);
}
