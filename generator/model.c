/* model.c: the whole configuration to the Model: [supervisord]'s defaults
 * for children, [group:x] sections and their members, then every other
 * program, as supervisor's read_config() and process_groups_from_parser()
 * do; a configuration supervisor would refuse as a whole ([supervisord] or
 * [DEFAULT] broken) yields no program, each reported.
 * Reference: supervisor 4.2 options.py. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "expand.h"
#include "keys.h"
#include "log.h"
#include "program.h"
#include "strbuf.h"

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

const Process *model_find_instance(const Model *m, const char *instance) {
        return m->by_instance_cap ? m->by_instance[instance_slot(m, instance)] : NULL;
}

void model_add_instance(Model *m, Process *p) {
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

static void read_supervisord(Model *m, const IniConfig *c, ProgramEnv *env) {
        const IniSection *s = ini_config_find(c, "supervisord");
        if (!s)
                return;
        unsigned errors_before = log_n_errors();
        KeyCtx x = { .model = m, .config = c, .section = s, .kind = "supervisord", .name = "supervisord" };
        Expansions e = { .parent = &env->environ_exp };
        expansions_set_str(&e, "host_node_name", env->host);
        _cleanup_free_ char *v = NULL;
        const IniKey *k;
        char *error = NULL;
        if (key_get(&x, "minfds", NULL, &e, true, &v, &k) == 0 && v) {
                if (dt_integer(v, &m->minfds, &error) < 0)
                        key_fail(&x, k, "minfds", error);
                else
                        m->has_minfds = m->minfds > 0;
        }
        free(TAKE_PTR(v));
        error = NULL;
        if (key_get(&x, "minprocs", NULL, &e, true, &v, &k) == 0 && v) {
                if (dt_integer(v, &m->minprocs, &error) < 0)
                        key_fail(&x, k, "minprocs", error);
                else
                        m->has_minprocs = m->minprocs > 0;
        }
        free(TAKE_PTR(v));
        error = NULL;
        if (key_get(&x, "umask", NULL, &e, true, &v, &k) == 0 && v) {
                int64_t um;
                if (dt_octal(v, &um, &error) < 0 || um < 0 || um > 0777)
                        key_fail(&x, k, "umask", error ? error : xasprintf("umask '%s' is outside 0..0777", v));
                else
                        m->has_sd_umask = true, m->sd_umask = (unsigned) um;
        }
        free(TAKE_PTR(v));
        (void) key_get(&x, "user", NULL, &e, true, &m->sd_user, &k);
        if (key_get(&x, "environment", "", &e, true, &v, &k) == 0) {
                /* read_config() expands this value a second time */
                _cleanup_free_ char *v2 = NULL;
                if (expand_format(v, &e, &v2, &error) < 0)
                        key_fail(&x, k, "environment", error);
                else if (shlex_env_pairs(v2, &env->sd_env, NULL, &error) < 0)
                        key_fail(&x, k, "environment", error);
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
        ProgramEnv env = {0};
        struct utsname u;
        env.host = xstrdup(uname(&u) == 0 ? u.nodename : "localhost");
        expansions_add_environ(&env.environ_exp);
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
                KeyCtx x = { .config = c, .section = s, .kind = "group", .name = strchr(s->name, ':') + 1 };
                char *error = NULL;
                _cleanup_free_ char *gname = NULL, *programs = NULL;
                Expansions e = { .parent = &env.environ_exp };
                int64_t prio = 999;
                const IniKey *pk = NULL;
                int r = dt_process_name(x.name, &gname, &error);
                if (r < 0)
                        key_fail(&x, NULL, "section name", error);
                else if (!*gname)       /* [group:] would write the template app@.target */
                        r = key_fail(&x, NULL, "section name", xstrdup("empty group name"));
                else if (s->broken)
                        r = log_error_at(s->file, s->line, "[%s] has lines that could not be read (see above).", s->name);
                if (r >= 0) {
                        x.name = gname;
                        r = key_get(&x, "programs", NULL, &e, true, &programs, &pk);
                }
                if (r >= 0)
                        r = key_integer(&x, "priority", "999", &e, &prio);
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
                                if (program_build(m, c, ms, gname, prio, true, &env, false) < 0)
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
                KeyCtx x = { .config = c, .section = s, .kind = fcgi ? "fcgi-program" : "program", .name = raw };
                _cleanup_free_ char *gname = NULL;
                char *error = NULL;
                if (dt_process_name(raw, &gname, &error) < 0) {
                        key_fail(&x, NULL, "section name", error);
                        m->n_skipped++;
                        continue;
                }
                Expansions e = { .parent = &env.environ_exp };
                int64_t prio = 999;
                int r = key_integer(&x, "priority", "999", &e, &prio);
                expansions_done(&e);
                size_t before = m->n_procs;
                if (r < 0 || program_build(m, c, s, gname, prio, false, &env, fcgi) < 0) {
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
