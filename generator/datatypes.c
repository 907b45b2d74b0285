/* datatypes.c: supervisor's datatypes.py in C (datatypes.h). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datatypes.h"
#include "strbuf.h"

/* "prefix" + repr(value) + "suffix", supervisor's way of quoting values. */
static char *msg_repr(const char *prefix, const char *value, const char *suffix) {
        StrBuf b = {0};
        sb_add(&b, prefix);
        sb_add_repr(&b, value, false);
        sb_add(&b, suffix);
        return sb_take(&b);
}

static int err(char **ret_error, char *msg) {
        if (ret_error)
                *ret_error = msg;
        else
                free(msg);
        return -EINVAL;
}

/* Python int(s, base) for base 8 or 10; prefix "0o" only in base 8. */
static int parse_int(const char *s, int base, int64_t *ret) {
        const char *p = s;
        while (py_isspace(*p))
                p++;
        bool neg = false;
        if (*p == '+' || *p == '-')
                neg = *p++ == '-';
        if (base == 8 && p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
                p += 2;
                if (*p == '_')   /* int('0o_7', 8) is allowed */
                        p++;
        }
        uint64_t v = 0;
        bool any = false, last_us = false;
        for (; *p && !py_isspace(*p); p++) {
                if (*p == '_') {
                        if (!any || last_us)
                                return -EINVAL;
                        last_us = true;
                        continue;
                }
                if (*p < '0' || *p >= '0' + base)
                        return -EINVAL;
                /* up to 2^63, which only a '-' makes representable */
                if (v > ((uint64_t) INT64_MAX + 1) / (uint64_t) base)
                        return -ERANGE;
                v = v * (uint64_t) base + (uint64_t) (*p - '0');
                if (v > (uint64_t) INT64_MAX + 1)
                        return -ERANGE;
                any = true;
                last_us = false;
        }
        while (py_isspace(*p))
                p++;
        if (!any || last_us || *p)
                return -EINVAL;
        if (!neg && v > (uint64_t) INT64_MAX)
                return -ERANGE;
        *ret = neg ? (int64_t) (0 - v) : (int64_t) v;
        return 0;
}

int dt_integer(const char *s, int64_t *ret, char **ret_error) {
        int r = parse_int(s, 10, ret);
        if (r == -ERANGE)
                return err(ret_error, xasprintf("integer out of range: '%s'", s));
        if (r < 0)
                return err(ret_error, msg_repr("invalid literal for int() with base 10: ", s, ""));
        return 0;
}

int dt_octal(const char *s, int64_t *ret, char **ret_error) {
        if (parse_int(s, 8, ret) < 0)
                return err(ret_error, xasprintf("%s can not be converted to an octal type", s));
        return 0;
}

int dt_boolean(const char *s, bool *ret, char **ret_error) {
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return *ret = true, 0;
                if (strcasecmp(s, no[i]) == 0)
                        return *ret = false, 0;
        }
        return err(ret_error, msg_repr("not a valid boolean value: ", s, ""));
}

int dt_byte_size(const char *s, int64_t *ret, char **ret_error) {
        static const struct {
                const char *suffix;
                int64_t mult;
        } suffixes[] = { { "kb", 1024 }, { "mb", 1024 * 1024 }, { "gb", 1024 * 1024 * 1024 } };
        size_t len = strlen(s);
        int64_t mult = 1;
        _cleanup_free_ char *num = xstrdup(s);
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (len >= 2 && strcasecmp(s + len - 2, suffixes[i].suffix) == 0) {
                        num[len - 2] = 0;
                        mult = suffixes[i].mult;
                        break;
                }
        int64_t v;
        if (parse_int(num, 10, &v) < 0 || (v != 0 && (v > INT64_MAX / mult || v < INT64_MIN / mult)))
                return err(ret_error, xasprintf("invalid literal for int() with base 10: '%s' (in byte size '%s'; "
                                                "suffixes are KB, MB and GB)", num, s));
        *ret = v * mult;
        return 0;
}

/* Every name Python's signal module has that starts with "SIG" (Linux). */
static const struct {
        const char *name;
        int num;
} signal_names[] = {
        { "SIGABRT", 6 },   { "SIGALRM", 14 },  { "SIGBUS", 7 },     { "SIGCHLD", 17 },    { "SIGCLD", 17 },
        { "SIGCONT", 18 },  { "SIGFPE", 8 },    { "SIGHUP", 1 },     { "SIGILL", 4 },      { "SIGINT", 2 },
        { "SIGIO", 29 },    { "SIGIOT", 6 },    { "SIGKILL", 9 },    { "SIGPIPE", 13 },    { "SIGPOLL", 29 },
        { "SIGPROF", 27 },  { "SIGPWR", 30 },   { "SIGQUIT", 3 },    { "SIGRTMAX", 64 },   { "SIGRTMIN", 34 },
        { "SIGSEGV", 11 },  { "SIGSTKFLT", 16 }, { "SIGSTOP", 19 },   { "SIGSYS", 31 },     { "SIGTERM", 15 },
        { "SIGTRAP", 5 },   { "SIGTSTP", 20 },  { "SIGTTIN", 21 },   { "SIGTTOU", 22 },    { "SIGURG", 23 },
        { "SIGUSR1", 10 },  { "SIGUSR2", 12 },  { "SIGVTALRM", 26 }, { "SIGWINCH", 28 },   { "SIGXCPU", 24 },
        { "SIGXFSZ", 25 },  { "SIG_BLOCK", 0 }, { "SIG_DFL", 0 },    { "SIG_IGN", 1 },     { "SIG_SETMASK", 2 },
        { "SIG_UNBLOCK", 1 },
};

static bool signum_known(int64_t n) {
        for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
                if (signal_names[i].num == n)
                        return true;
        return false;
}

int dt_signal(const char *s, int *ret, char **ret_error) {
        int64_t n;
        if (parse_int(s, 10, &n) < 0) {
                _cleanup_free_ char *up = NULL;
                _cleanup_free_ char *t = xstrdup(s);
                char *name = py_strip(t);
                for (char *p = name; *p; p++)
                        if (*p >= 'a' && *p <= 'z')
                                *p = (char) (*p - 'a' + 'A');
                up = strncmp(name, "SIG", 3) == 0 ? xstrdup(name) : xasprintf("SIG%s", name);
                n = -1;
                for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
                        if (streq(signal_names[i].name, up))
                                n = signal_names[i].num;
                if (n < 0)
                        return err(ret_error, msg_repr("value ", s, " is not a valid signal name"));
        }
        if (!signum_known(n))
                return err(ret_error, msg_repr("value ", s, " is not a valid signal number"));
        *ret = (int) n;
        return 0;
}

const char *dt_signal_name(int sig) {
        static char buf[16];
        const char *best = NULL;
        /* Prefer the name systemd prints: the first of the canonical ones. */
        static const char *const canon[] = { "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT",
                                             "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2",
                                             "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
                                             "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
                                             "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR",
                                             "SIGSYS" };
        if (sig >= 1 && sig <= (int) ELEMENTSOF(canon))
                best = canon[sig - 1];
        if (best)
                return best;
        snprintf(buf, sizeof buf, "%d", sig);
        return buf;
}

int dt_auto_restart(const char *s, AutoRestart *ret, char **ret_error) {
        bool b;
        if (dt_boolean(s, &b, NULL) == 0) {
                *ret = b ? AUTORESTART_TRUE : AUTORESTART_FALSE;
                return 0;
        }
        if (strcasecmp(s, "unexpected") == 0) {
                *ret = AUTORESTART_UNEXPECTED;
                return 0;
        }
        _cleanup_free_ char *lower = xstrdup(s);
        for (char *p = lower; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        return err(ret_error, msg_repr("invalid 'autorestart' value ", lower, ""));
}

int dt_exit_codes(const char *s, ExitCodes *ret, char **ret_error) {
        ExitCodes e = {0};
        if (*s) {
                _cleanup_free_ char *copy = xstrdup(s);
                char *save = NULL;
                /* split(","), keeping empty fields so "0,,1" fails as in Python */
                char *p = copy;
                for (;;) {
                        char *comma = strchr(p, ',');
                        if (comma)
                                *comma = 0;
                        int64_t v;
                        if (parse_int(p, 10, &v) < 0 || v < 0 || v > 255)
                                return err(ret_error, msg_repr("not a valid list of exit codes: ", s, ""));
                        if (!exit_codes_has(&e, (unsigned) v)) {
                                e.bits[v / 64] |= 1ull << (v % 64);
                                e.n++;
                        }
                        if (!comma)
                                break;
                        p = comma + 1;
                }
                (void) save;
        }
        *ret = e;
        return 0;
}

int dt_process_name(const char *s, char **ret, char **ret_error) {
        _cleanup_free_ char *t = xstrdup(s);
        char *name = py_strip(t);
        for (const char *c = " :/"; *c; c++)
                if (strchr(name, *c))
                        return err(ret_error, msg_repr("Invalid name: ", s,
                                                       *c == ' ' ? " because of character: ' '" :
                                                       *c == ':' ? " because of character: ':'" :
                                                                   " because of character: '/'"));
        *ret = xstrdup(name);
        return 0;
}

char *dt_expanduser(const char *s) {
        if (s[0] != '~')
                return xstrdup(s);
        const char *rest = strchr(s, '/');
        size_t ulen = rest ? (size_t) (rest - s - 1) : strlen(s + 1);
        const char *home = NULL;
        if (ulen == 0) {
                home = getenv("HOME");
                if (!home || !*home) {
                        struct passwd *pw = getpwuid(getuid());
                        home = pw ? pw->pw_dir : NULL;
                }
        } else {
                _cleanup_free_ char *user = xstrndup(s + 1, ulen);
                struct passwd *pw = getpwnam(user);
                home = pw ? pw->pw_dir : NULL;
        }
        if (!home)
                return xstrdup(s);
        /* Python strips a trailing '/' of the home directory ("/" stays "") */
        size_t hlen = strlen(home);
        while (hlen > 0 && home[hlen - 1] == '/')
                hlen--;
        return xasprintf("%.*s%s", (int) hlen, home, rest ? rest : (hlen ? "" : "/"));
}

int dt_logfile(const char *s, LogTarget *ret, char **ret_path, char **ret_error) {
        if (strcasecmp(s, "none") == 0 || strcasecmp(s, "off") == 0)
                return *ret = LOG_TARGET_NONE, 0;
        if (strcasecmp(s, "auto") == 0)
                return *ret = LOG_TARGET_AUTO, 0;
        if (strcasecmp(s, "syslog") == 0)
                return *ret = LOG_TARGET_SYSLOG, 0;
        /* existing_dirpath(): expanduser, then the directory part must exist. */
        _cleanup_free_ char *path = dt_expanduser(s);
        char *slash = strrchr(path, '/');
        if (slash) {
                *slash = 0;
                struct stat st;
                bool ok = stat(*path ? path : "/", &st) == 0 && S_ISDIR(st.st_mode);
                *slash = '/';
                if (!ok)
                        return err(ret_error,
                                   xasprintf("The directory named as part of the path %s does not exist", s));
        }
        *ret = LOG_TARGET_PATH;
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return 0;
}

/* name_to_uid(), remembered: NSS reads /etc/passwd afresh on every call. */
bool dt_user_exists(const char *user, bool *ret_numeric) {
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
bool dt_owner_exists(const char *owner) {
        _cleanup_free_ char *u = xstrdup(owner);
        char *colon = strchr(u, ':');
        if (colon)
                *colon++ = 0;
        bool numeric;
        if (!dt_user_exists(u, &numeric))
                return false;
        if (!colon)
                return true;
        int64_t gid;
        return dt_integer(colon, &gid, NULL) == 0 ? getgrgid((gid_t) gid) != NULL : getgrnam(colon) != NULL;
}
