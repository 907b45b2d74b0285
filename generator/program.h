/* program.h: the model of what supervisor would run, built from an
 * IniConfig the way supervisor's options.py builds ProcessConfigs.
 *
 * Every [program:x] (and [fcgi-program:x]) yields numprocs Process records;
 * [group:x] sections yield Groups.  Each value is read, expanded with the
 * names supervisor allows for that key, and converted with its datatype, in
 * supervisor's order, so the first error we report is the one supervisor
 * would.  A program with an error is reported (file, line, key, value) and
 * left out; the others are unaffected.  What is written out is unit.h's
 * business. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "datatypes.h"
#include "expand.h"
#include "inifile.h"
#include "shlex.h"

/* systemd_sandbox= in [program:x] (or [DEFAULT]): whether the generator
 * writes the sandbox drop-in (unit.h).  Without it, only programs rewritten
 * to unitcorn are sandboxed. */
typedef enum Sandbox {
        SANDBOX_DEFAULT,
        SANDBOX_YES,
        SANDBOX_NO,
} Sandbox;

typedef struct Process {
        char *name;              /* supervisor's process name */
        char *instance;          /* unit instance: name, or "group:name" in a [group:x] */
        char *program;           /* program name (section name after "program:") */
        char *group;             /* group name (= program for a plain program) */
        const IniSection *section;
        const struct Group *target;   /* the app@X.target it is PartOf=, if any */
        const char *file;        /* the section's file */
        unsigned line;

        char *command;           /* expanded command= */
        char **argv;             /* split; argv[0] absolute */
        char *directory;         /* NULL: not set */
        char *user;              /* NULL: not set */
        bool has_umask;
        unsigned umask;
        int64_t priority;
        int64_t group_priority;
        bool autostart;
        AutoRestart autorestart;
        int64_t startsecs;
        int64_t startretries;
        int stopsignal;
        int64_t stopwaitsecs;
        bool stopasgroup, killasgroup;
        ExitCodes exitcodes;
        bool redirect_stderr;
        EnvPairs environment;    /* [supervisord] environment, then the program's */
        LogTarget stdout_target, stderr_target;
        char *stdout_path, *stderr_path;
        int64_t process_num;
        int64_t numprocs;

        bool fcgi;
        char *fcgi_socket;       /* "tcp://host:port" or "unix:///path" */
        char *fcgi_socket_owner; /* "user[:group]" */
        bool has_fcgi_socket_mode;
        unsigned fcgi_socket_mode;
        int64_t fcgi_socket_backlog;   /* 0: not set */

        struct GunicornPlan *gun;      /* a gunicorn/unitcorn command rewritten (gunplan.h), NULL: not */
        Sandbox sandbox;         /* systemd_sandbox= (ours; supervisor ignores the key) */
} Process;

typedef struct Group {
        char *name;              /* the target's instance */
        int64_t priority;
        const char *file;
        unsigned line;
        bool heterogeneous;      /* [group:x], else numprocs>1 */
        char **instances;        /* members */
} Group;

typedef struct Model {
        Process **procs;         /* in section order, then process_num */
        size_t n_procs;
        Group **groups;
        size_t n_groups;
        /* [supervisord] defaults for children */
        int64_t minfds, minprocs;
        bool has_minfds, has_minprocs;
        unsigned sd_umask;
        bool has_sd_umask;
        char *sd_user;
        unsigned n_skipped;      /* programs reported and left out */
        bool supervisord_failed; /* an invalid [supervisord] value: supervisor would not start */
        const char *fail_file;   /* ... and where */
        unsigned fail_line;
        Process **by_instance;   /* hash of procs by instance, open addressing */
        size_t by_instance_cap;
} Model;

/* What every program sees of the configuration as a whole. */
typedef struct ProgramEnv {
        Expansions environ_exp;  /* ENV_* of our environment and [supervisord] environment= */
        EnvPairs sd_env;
        char *host;
} ProgramEnv;

/* program.c: the processes of one program section, appended to m; the
 * program is skipped whole (reported, nothing appended) on an error. */
int program_build(Model *m, const IniConfig *c, const IniSection *s, const char *group_name, int64_t group_priority,
                  bool in_group, const ProgramEnv *env, bool fcgi);
void process_free(Process *p);

/* model.c: instances already taken (two processes may not share a unit). */
const Process *model_find_instance(const Model *m, const char *instance);
void model_add_instance(Model *m, Process *p);

/* Builds the model; never fails as a whole: bad programs are logged and
 * counted in n_skipped. */
void model_build(const IniConfig *c, Model *m);
void model_done(Model *m);
