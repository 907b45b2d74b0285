/* unit.h: escaping for systemd unit files, and writing the units for a
 * Model into the generator's late directory (or printing them, --dry-run).
 *
 * Layout, all in the late dir so an admin's own units and drop-ins win:
 *   app@NAME.service.d/50-supervisor.conf   one per process
 *   app@NAME.socket.d/50-supervisor.conf    [fcgi-program:x] sockets
 *   app@GROUP.target                        [group:x], numprocs > 1
 *   apps.target.wants/app@NAME.service      autostart=true
 *   sockets.target.wants/app@NAME.socket
 *   multi-user.target.wants/apps.target
 * Reference: systemd.unit(5) (quoting, specifiers), systemd.service(5)
 * "Command lines", systemd.syntax(7). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "program.h"
#include "strbuf.h"

/* One argv word for ExecStart=: double-quoted, with '\\' and '"' escaped,
 * '%' doubled (specifiers), '$' doubled (variable expansion), control
 * characters as C escapes; a lone ";" as "\;". */
void unit_append_exec_word(StrBuf *b, const char *word);
/* A value in double quotes for Environment=-like settings: '\\', '"', '%'
 * and control characters escaped. */
void unit_append_quoted(StrBuf *b, const char *s);
/* '%' doubled, for unquoted settings that take specifiers (paths). */
void unit_append_specifier_safe(StrBuf *b, const char *s);
/* Whether s can be a setting's value as it is (unit_append_specifier_safe()):
 * no control character (a line break would end the setting and start
 * another) and no backslash at the end (systemd would continue the line,
 * and the next setting would become part of this one). */
bool unit_value_writable(const char *s);
/* A string as a unit-name instance: bytes outside [A-Za-z0-9:_.-] as \xNN. */
char *unit_escape_instance(const char *s);

typedef struct Output {
        const char *dir;      /* the late dir; NULL with dry_run */
        bool dry_run;
        FILE *dry;            /* where --dry-run prints */
        const char *unitdir;  /* where app@.service etc. are installed (symlink targets) */
        bool user_scope;      /* for a user's manager: no User=, default.target */
        unsigned n_written;
        int dir_fd;           /* dir, opened by unit_write_model() */
        char **wants_dirs;    /* *.wants directories already made */
} Output;

/* Writes everything for the model.  Returns the number of units written,
 * or -errno if the output directory could not be written at all. */
int unit_write_model(Output *o, const Model *m);
