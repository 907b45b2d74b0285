/* datatypes.h: supervisor's value types (supervisor/datatypes.py), with
 * the same acceptance rules and, where it has them, the same messages.
 * Each parser returns 0 or -EINVAL with *ret_error set to a message that
 * quotes the value, e.g. "not a valid boolean value: 'true.'". */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Python int(str) in base 10 or 8 ("0o" allowed): whitespace around, a sign,
 * '_' between digits.  Values beyond int64 are refused (Python has no bound). */
int dt_integer(const char *s, int64_t *ret, char **ret_error);
int dt_octal(const char *s, int64_t *ret, char **ret_error);
int dt_boolean(const char *s, bool *ret, char **ret_error);
int dt_byte_size(const char *s, int64_t *ret, char **ret_error);
/* The signal number; names with or without "SIG", any case, and numbers of
 * signals Python's signal module names. */
int dt_signal(const char *s, int *ret, char **ret_error);
/* systemd's spelling of a signal number ("SIGTERM", or the number). */
const char *dt_signal_name(int sig);

typedef enum AutoRestart {
        AUTORESTART_FALSE,
        AUTORESTART_UNEXPECTED,
        AUTORESTART_TRUE,
} AutoRestart;
int dt_auto_restart(const char *s, AutoRestart *ret, char **ret_error);

/* Exit codes 0..255 as a bitmap. */
typedef struct ExitCodes {
        uint64_t bits[4];
        unsigned n;
} ExitCodes;
int dt_exit_codes(const char *s, ExitCodes *ret, char **ret_error);
static inline bool exit_codes_has(const ExitCodes *e, unsigned code) {
        return code < 256 && (e->bits[code / 64] >> (code % 64)) & 1;
}

/* process_or_group_name(): strips, refuses ' ', ':' and '/'.  Returns the
 * stripped name. */
int dt_process_name(const char *s, char **ret, char **ret_error);

typedef enum LogTarget {
        LOG_TARGET_AUTO,     /* AUTO (the default): the journal */
        LOG_TARGET_NONE,     /* NONE / OFF */
        LOG_TARGET_SYSLOG,   /* deprecated "syslog" */
        LOG_TARGET_PATH,
} LogTarget;
/* logfile_name(): a path must have an existing parent directory (or none).
 * For LOG_TARGET_PATH, *ret_path is the path with "~" expanded as Python's
 * os.path.expanduser() does. */
int dt_logfile(const char *s, LogTarget *ret, char **ret_path, char **ret_error);
/* os.path.expanduser(): "~" and "~user" at the start; unchanged otherwise. */
char *dt_expanduser(const char *s);

/* name_to_uid(): a user name, or a number that names a user (looked up once
 * each: NSS reads /etc/passwd afresh on every call). *ret_numeric tells
 * which it was. */
bool dt_user_exists(const char *user, bool *ret_numeric);
/* colon_separated_user_group(): "user" or "user:group", both existing. */
bool dt_owner_exists(const char *owner);
