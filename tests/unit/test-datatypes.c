/* test-datatypes.c: supervisor's value types (datatypes.h) against
 * supervisor 4.2.5's own supervisor/datatypes.py, run with /usr/bin/python3:
 *
 *   integer_vectors       supervisor.datatypes.integer(s)        (int(s))
 *   octal_vectors         supervisor.datatypes.octal_type(s)     (int(s, 8))
 *   boolean_vectors       supervisor.datatypes.boolean(s)
 *   byte_size_vectors     supervisor.datatypes.byte_size(s)
 *   signal_vectors        supervisor.datatypes.signal_number(s)
 *   signal_name_vectors   signal.Signals(n).name for 1..31, str(n) otherwise
 *                         (systemd takes real-time signals as numbers)
 *   auto_restart_vectors  supervisor.datatypes.auto_restart(s)
 *   exit_codes_vectors    sorted(set(supervisor.datatypes.list_of_exitcodes(s)))
 *   process_name_vectors  supervisor.datatypes.process_or_group_name(s)
 *   logfile_vectors       supervisor.datatypes.logfile_name(s), with HOME=/
 *                         (kind, and the path it returns, "~" expanded)
 *   logfile_vectors_nohome  the same with HOME=/nonexistent-unitcorn-home
 *   expanduser_vectors_*  os.path.expanduser(s) with HOME=/, /home/u/ and /home/u
 *
 * Each row: the input, str(ValueError) or NULL, and the value.  Messages are
 * compared exactly, except byte_size's, where we add a hint about the
 * suffixes.  `range_deviations` are our documented limit: values beyond
 * int64, which Python's unbounded int accepts, are refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "datatypes.h"
#include "strbuf.h"
#include "tap.h"

typedef struct IntVector {
        const char *in;
        const char *error;   /* NULL: success */
        long long value;
} IntVector;

typedef struct StrVector {
        const char *in;
        const char *error;
        const char *value;
} StrVector;

typedef struct LogVector {
        const char *in;
        const char *error;
        LogTarget kind;
        const char *path;    /* for LOG_TARGET_PATH: the path, "~" expanded */
} LogVector;

typedef struct ExitVector {
        const char *in;
        const char *error;
        int codes[8];        /* sorted, -1-terminated */
} ExitVector;

static const IntVector integer_vectors[] = {
        { "0", NULL, 0LL },
        { "5", NULL, 5LL },
        { " 5 ", NULL, 5LL },
        { "\t5\n", NULL, 5LL },
        { "+5", NULL, 5LL },
        { "-5", NULL, -5LL },
        { "-0", NULL, 0LL },
        { "+0", NULL, 0LL },
        { "007", NULL, 7LL },
        { "1_000", NULL, 1000LL },
        { "1_0_0", NULL, 100LL },
        { "1__0", "invalid literal for int() with base 10: '1__0'", 0LL },
        { "_1", "invalid literal for int() with base 10: '_1'", 0LL },
        { "1_", "invalid literal for int() with base 10: '1_'", 0LL },
        { "+_1", "invalid literal for int() with base 10: '+_1'", 0LL },
        { "0x10", "invalid literal for int() with base 10: '0x10'", 0LL },
        { "0o10", "invalid literal for int() with base 10: '0o10'", 0LL },
        { "0b1", "invalid literal for int() with base 10: '0b1'", 0LL },
        { "", "invalid literal for int() with base 10: ''", 0LL },
        { " ", "invalid literal for int() with base 10: ' '", 0LL },
        { "5.0", "invalid literal for int() with base 10: '5.0'", 0LL },
        { "5e3", "invalid literal for int() with base 10: '5e3'", 0LL },
        { "1 2", "invalid literal for int() with base 10: '1 2'", 0LL },
        { "- 5", "invalid literal for int() with base 10: '- 5'", 0LL },
        { "--5", "invalid literal for int() with base 10: '--5'", 0LL },
        { "+-5", "invalid literal for int() with base 10: '+-5'", 0LL },
        { "abc", "invalid literal for int() with base 10: 'abc'", 0LL },
        { "9223372036854775807", NULL, 9223372036854775807LL },
        { "-9223372036854775808", NULL, INT64_MIN },
        /* Python's int() takes any Unicode decimal digit ('٣' is 3, '５' is 5);
         * we take ASCII digits only, a documented deviation (generator/README.md). */
        { "٣", "invalid literal for int() with base 10: '٣'", 0 },
        { "５", "invalid literal for int() with base 10: '５'", 0 },
        { "1٣", "invalid literal for int() with base 10: '1٣'", 0 },
};

static const IntVector octal_vectors[] = {
        { "022", NULL, 18LL },
        { "0o22", NULL, 18LL },
        { "0O22", NULL, 18LL },
        { "22", NULL, 18LL },
        { "0", NULL, 0LL },
        { "777", NULL, 511LL },
        { "0777", NULL, 511LL },
        { "8", "8 can not be converted to an octal type", 0LL },
        { "9", "9 can not be converted to an octal type", 0LL },
        { "-7", NULL, -7LL },
        { "+7", NULL, 7LL },
        { " 7 ", NULL, 7LL },
        { "0o_7", NULL, 7LL },
        { "0_7", NULL, 7LL },
        { "0o", "0o can not be converted to an octal type", 0LL },
        { "0x7", "0x7 can not be converted to an octal type", 0LL },
        { "0b1", "0b1 can not be converted to an octal type", 0LL },
        { "", " can not be converted to an octal type", 0LL },
        { "7.0", "7.0 can not be converted to an octal type", 0LL },
        { "1__2", "1__2 can not be converted to an octal type", 0LL },
        { "o22", "o22 can not be converted to an octal type", 0LL },
        { "0o0o2", "0o0o2 can not be converted to an octal type", 0LL },
};

static const IntVector boolean_vectors[] = {
        { "yes", NULL, 1 },
        { "true", NULL, 1 },
        { "on", NULL, 1 },
        { "1", NULL, 1 },
        { "no", NULL, 0 },
        { "false", NULL, 0 },
        { "off", NULL, 0 },
        { "0", NULL, 0 },
        { "YES", NULL, 1 },
        { "Yes", NULL, 1 },
        { "TRUE", NULL, 1 },
        { "True", NULL, 1 },
        { "tRuE", NULL, 1 },
        { "ON", NULL, 1 },
        { "On", NULL, 1 },
        { "NO", NULL, 0 },
        { "No", NULL, 0 },
        { "FALSE", NULL, 0 },
        { "False", NULL, 0 },
        { "OFF", NULL, 0 },
        { "Off", NULL, 0 },
        { "true.", "not a valid boolean value: 'true.'", 0 },
        { " true", "not a valid boolean value: ' true'", 0 },
        { "true ", "not a valid boolean value: 'true '", 0 },
        { "y", "not a valid boolean value: 'y'", 0 },
        { "n", "not a valid boolean value: 'n'", 0 },
        { "t", "not a valid boolean value: 't'", 0 },
        { "f", "not a valid boolean value: 'f'", 0 },
        { "2", "not a valid boolean value: '2'", 0 },
        { "01", "not a valid boolean value: '01'", 0 },
        { "00", "not a valid boolean value: '00'", 0 },
        { "-1", "not a valid boolean value: '-1'", 0 },
        { "", "not a valid boolean value: ''", 0 },
        { "enabled", "not a valid boolean value: 'enabled'", 0 },
        { "yes please", "not a valid boolean value: 'yes please'", 0 },
        { "it's", "not a valid boolean value: \"it's\"", 0 },
};

static const IntVector byte_size_vectors[] = {
        { "50MB", NULL, 52428800LL },
        { "50mb", NULL, 52428800LL },
        { "50Mb", NULL, 52428800LL },
        { "1kb", NULL, 1024LL },
        { "1KB", NULL, 1024LL },
        { "1GB", NULL, 1073741824LL },
        { "2gb", NULL, 2147483648LL },
        { "0", NULL, 0LL },
        { "0KB", NULL, 0LL },
        { "1024", NULL, 1024LL },
        { "1 GB", NULL, 1073741824LL },
        { " 1 KB", NULL, 1024LL },
        { "1 kb ", "invalid literal for int() with base 10: '1 kb '", 0LL },
        { "20M", "invalid literal for int() with base 10: '20m'", 0LL },
        { "20K", "invalid literal for int() with base 10: '20k'", 0LL },
        { "20G", "invalid literal for int() with base 10: '20g'", 0LL },
        { "kb", "invalid literal for int() with base 10: ''", 0LL },
        { "MB", "invalid literal for int() with base 10: ''", 0LL },
        { "1.5MB", "invalid literal for int() with base 10: '1.5'", 0LL },
        { "-1KB", NULL, -1024LL },
        { "+2MB", NULL, 2097152LL },
        { "1_0KB", NULL, 10240LL },
        { "1TB", "invalid literal for int() with base 10: '1tb'", 0LL },
        { "1B", "invalid literal for int() with base 10: '1b'", 0LL },
        { "1kbkb", "invalid literal for int() with base 10: '1kb'", 0LL },
        { "", "invalid literal for int() with base 10: ''", 0LL },
        { "abc", "invalid literal for int() with base 10: 'abc'", 0LL },
};

static const IntVector signal_vectors[] = {
        { "TERM", NULL, 15LL },
        { "term", NULL, 15LL },
        { "SIGTERM", NULL, 15LL },
        { "sigterm", NULL, 15LL },
        { "SigTerm", NULL, 15LL },
        { " SIGKILL ", NULL, 9LL },
        { "KILL", NULL, 9LL },
        { "HUP", NULL, 1LL },
        { "INT", NULL, 2LL },
        { "QUIT", NULL, 3LL },
        { "USR1", NULL, 10LL },
        { "usr2", NULL, 12LL },
        { "CHLD", NULL, 17LL },
        { "CLD", NULL, 17LL },
        { "IOT", NULL, 6LL },
        { "POLL", NULL, 29LL },
        { "STKFLT", NULL, 16LL },
        { "PWR", NULL, 30LL },
        { "SYS", NULL, 31LL },
        { "WINCH", NULL, 28LL },
        { "9", NULL, 9LL },
        { " 9 ", NULL, 9LL },
        { "+9", NULL, 9LL },
        { "0", NULL, 0LL },
        { "1", NULL, 1LL },
        { "15", NULL, 15LL },
        { "31", NULL, 31LL },
        { "32", "value '32' is not a valid signal number", 0LL },
        { "33", "value '33' is not a valid signal number", 0LL },
        { "34", NULL, 34LL },
        { "35", "value '35' is not a valid signal number", 0LL },
        { "64", NULL, 64LL },
        { "65", "value '65' is not a valid signal number", 0LL },
        { "-1", "value '-1' is not a valid signal number", 0LL },
        { "SIGRTMIN", NULL, 34LL },
        { "RTMIN", NULL, 34LL },
        { "SIGRTMAX", NULL, 64LL },
        { "SIGRTMIN+1", "value 'SIGRTMIN+1' is not a valid signal name", 0LL },
        { "NOPE", "value 'NOPE' is not a valid signal name", 0LL },
        { "SIGNOPE", "value 'SIGNOPE' is not a valid signal name", 0LL },
        { "SIG", "value 'SIG' is not a valid signal name", 0LL },
        { "", "value '' is not a valid signal name", 0LL },
        { "9.0", "value '9.0' is not a valid signal name", 0LL },
        { "SIG_DFL", NULL, 0LL },
        { "SIG_IGN", NULL, 1LL },
        { "_DFL", NULL, 0LL },
        { "DFL", "value 'DFL' is not a valid signal name", 0LL },
        { "sig_block", NULL, 0LL },
        { "SIGTERM,", "value 'SIGTERM,' is not a valid signal name", 0LL },
};

static const StrVector signal_name_vectors[] = {
        { "0", NULL, "0" },
        { "1", NULL, "SIGHUP" },
        { "2", NULL, "SIGINT" },
        { "3", NULL, "SIGQUIT" },
        { "4", NULL, "SIGILL" },
        { "5", NULL, "SIGTRAP" },
        { "6", NULL, "SIGABRT" },
        { "7", NULL, "SIGBUS" },
        { "8", NULL, "SIGFPE" },
        { "9", NULL, "SIGKILL" },
        { "10", NULL, "SIGUSR1" },
        { "11", NULL, "SIGSEGV" },
        { "12", NULL, "SIGUSR2" },
        { "13", NULL, "SIGPIPE" },
        { "14", NULL, "SIGALRM" },
        { "15", NULL, "SIGTERM" },
        { "16", NULL, "SIGSTKFLT" },
        { "17", NULL, "SIGCHLD" },
        { "18", NULL, "SIGCONT" },
        { "19", NULL, "SIGSTOP" },
        { "20", NULL, "SIGTSTP" },
        { "21", NULL, "SIGTTIN" },
        { "22", NULL, "SIGTTOU" },
        { "23", NULL, "SIGURG" },
        { "24", NULL, "SIGXCPU" },
        { "25", NULL, "SIGXFSZ" },
        { "26", NULL, "SIGVTALRM" },
        { "27", NULL, "SIGPROF" },
        { "28", NULL, "SIGWINCH" },
        { "29", NULL, "SIGIO" },
        { "30", NULL, "SIGPWR" },
        { "31", NULL, "SIGSYS" },
        { "32", NULL, "32" },
        { "33", NULL, "33" },
        { "34", NULL, "34" },
        { "35", NULL, "35" },
        { "64", NULL, "64" },
        { "65", NULL, "65" },
};

static const IntVector auto_restart_vectors[] = {
        { "true", NULL, AUTORESTART_TRUE },
        { "false", NULL, AUTORESTART_FALSE },
        { "unexpected", NULL, AUTORESTART_UNEXPECTED },
        { "UNEXPECTED", NULL, AUTORESTART_UNEXPECTED },
        { "Unexpected", NULL, AUTORESTART_UNEXPECTED },
        { "yes", NULL, AUTORESTART_TRUE },
        { "no", NULL, AUTORESTART_FALSE },
        { "on", NULL, AUTORESTART_TRUE },
        { "off", NULL, AUTORESTART_FALSE },
        { "1", NULL, AUTORESTART_TRUE },
        { "0", NULL, AUTORESTART_FALSE },
        { "TRUE", NULL, AUTORESTART_TRUE },
        { "Off", NULL, AUTORESTART_FALSE },
        { "sometimes", "invalid 'autorestart' value 'sometimes'", 0 },
        { "Never", "invalid 'autorestart' value 'never'", 0 },
        { "", "invalid 'autorestart' value ''", 0 },
        { "unexpected ", "invalid 'autorestart' value 'unexpected '", 0 },
        { "always", "invalid 'autorestart' value 'always'", 0 },
};

static const ExitVector exit_codes_vectors[] = {
        { "0", NULL, { 0, -1 } },
        { "0,2", NULL, { 0, 2, -1 } },
        { "2,0", NULL, { 0, 2, -1 } },
        { "", NULL, { -1 } },
        { " 1 , 2 ", NULL, { 1, 2, -1 } },
        { "0,1,2,3,4,5", NULL, { 0, 1, 2, 3, 4, 5, -1 } },
        { "255", NULL, { 255, -1 } },
        { "256", "not a valid list of exit codes: '256'", { -1 } },
        { "-1", "not a valid list of exit codes: '-1'", { -1 } },
        { "0,,1", "not a valid list of exit codes: '0,,1'", { -1 } },
        { ",", "not a valid list of exit codes: ','", { -1 } },
        { "0,", "not a valid list of exit codes: '0,'", { -1 } },
        { ",0", "not a valid list of exit codes: ',0'", { -1 } },
        { "1,1", NULL, { 1, -1 } },
        { "1 2", "not a valid list of exit codes: '1 2'", { -1 } },
        { "a", "not a valid list of exit codes: 'a'", { -1 } },
        { "1.0", "not a valid list of exit codes: '1.0'", { -1 } },
        { "+1", NULL, { 1, -1 } },
        { "1_0", NULL, { 10, -1 } },
        { "0x1", "not a valid list of exit codes: '0x1'", { -1 } },
        { " ", "not a valid list of exit codes: ' '", { -1 } },
        { "0, 255, 128, 64, 63", NULL, { 0, 63, 64, 128, 255, -1 } },
};

static const StrVector process_name_vectors[] = {
        { "web", NULL, "web" },
        { " web ", NULL, "web" },
        { "web-1", NULL, "web-1" },
        { "web_1.x", NULL, "web_1.x" },
        { "a b", "Invalid name: 'a b' because of character: ' '", NULL },
        { "a:b", "Invalid name: 'a:b' because of character: ':'", NULL },
        { "a/b", "Invalid name: 'a/b' because of character: '/'", NULL },
        { "a\tb", NULL, "a\tb" },
        { "\tweb\n", NULL, "web" },
        { "", NULL, "" },
        { "   ", NULL, "" },
        { "héllo", NULL, "héllo" },
        { "web%(process_num)s", NULL, "web%(process_num)s" },
        { "it's me", "Invalid name: \"it's me\" because of character: ' '", NULL },
        { "x:y/z w", "Invalid name: 'x:y/z w' because of character: ' '", NULL },
};

static const LogVector logfile_vectors[] = {
        { "NONE", NULL, LOG_TARGET_NONE, NULL },
        { "none", NULL, LOG_TARGET_NONE, NULL },
        { "None", NULL, LOG_TARGET_NONE, NULL },
        { "off", NULL, LOG_TARGET_NONE, NULL },
        { "OFF", NULL, LOG_TARGET_NONE, NULL },
        { "AUTO", NULL, LOG_TARGET_AUTO, NULL },
        { "auto", NULL, LOG_TARGET_AUTO, NULL },
        { "Auto", NULL, LOG_TARGET_AUTO, NULL },
        { "syslog", NULL, LOG_TARGET_SYSLOG, NULL },
        { "SYSLOG", NULL, LOG_TARGET_SYSLOG, NULL },
        { "/tmp/x.log", NULL, LOG_TARGET_PATH, "/tmp/x.log" },
        { "/x.log", NULL, LOG_TARGET_PATH, "/x.log" },
        { "/tmp/", NULL, LOG_TARGET_PATH, "/tmp/" },
        { "relative.log", NULL, LOG_TARGET_PATH, "relative.log" },
        { "/nonexistent-unitcorn-dir/x.log", "The directory named as part of the path /nonexistent-unitcorn-dir/x.log does not exist", 0, NULL },
        { "/etc/passwd/x.log", "The directory named as part of the path /etc/passwd/x.log does not exist", 0, NULL },
        { "no-such-dir-unitcorn/x.log", "The directory named as part of the path no-such-dir-unitcorn/x.log does not exist", 0, NULL },
        { "~/x.log", NULL, LOG_TARGET_PATH, "/x.log" },
        { "nonee", NULL, LOG_TARGET_PATH, "nonee" },
        { "", NULL, LOG_TARGET_PATH, "" },
        { "~root/x.log", NULL, LOG_TARGET_PATH, "/root/x.log" },
        { "~nosuchuser-unitcorn/x.log", "The directory named as part of the path ~nosuchuser-unitcorn/x.log does not exist", 0, NULL },
};

/* The same with HOME=/nonexistent-unitcorn-home */
static const LogVector logfile_vectors_nohome[] = {
        { "~/x.log", "The directory named as part of the path ~/x.log does not exist", 0, NULL },
        { "~", NULL, LOG_TARGET_PATH, "/nonexistent-unitcorn-home" },
        { "~/", "The directory named as part of the path ~/ does not exist", 0, NULL },
        { "/tmp/x.log", NULL, LOG_TARGET_PATH, "/tmp/x.log" },
};

/* HOME=/ */
static const StrVector expanduser_vectors_root_dir[] = {
        { "~", NULL, "/" },
        { "~/", NULL, "/" },
        { "~/x", NULL, "/x" },
        { "~//x", NULL, "//x" },
        { "~root", NULL, "/root" },
        { "~root/x", NULL, "/root/x" },
        { "~root/", NULL, "/root/" },
        { "~nosuchuser-unitcorn/x", NULL, "~nosuchuser-unitcorn/x" },
        { "x~", NULL, "x~" },
        { "/~", NULL, "/~" },
        { "~x~", NULL, "~x~" },
        { "", NULL, "" },
        { "a/~/b", NULL, "a/~/b" },
        { "~/~", NULL, "/~" },
};

/* HOME=/home/u/ */
static const StrVector expanduser_vectors_home_slash[] = {
        { "~", NULL, "/home/u" },
        { "~/", NULL, "/home/u/" },
        { "~/x", NULL, "/home/u/x" },
        { "~//x", NULL, "/home/u//x" },
        { "~root", NULL, "/root" },
        { "~root/x", NULL, "/root/x" },
        { "~root/", NULL, "/root/" },
        { "~nosuchuser-unitcorn/x", NULL, "~nosuchuser-unitcorn/x" },
        { "x~", NULL, "x~" },
        { "/~", NULL, "/~" },
        { "~x~", NULL, "~x~" },
        { "", NULL, "" },
        { "a/~/b", NULL, "a/~/b" },
        { "~/~", NULL, "/home/u/~" },
};

/* HOME=/home/u */
static const StrVector expanduser_vectors_home[] = {
        { "~", NULL, "/home/u" },
        { "~/", NULL, "/home/u/" },
        { "~/x", NULL, "/home/u/x" },
        { "~//x", NULL, "/home/u//x" },
        { "~root", NULL, "/root" },
        { "~root/x", NULL, "/root/x" },
        { "~root/", NULL, "/root/" },
        { "~nosuchuser-unitcorn/x", NULL, "~nosuchuser-unitcorn/x" },
        { "x~", NULL, "x~" },
        { "/~", NULL, "/~" },
        { "~x~", NULL, "~x~" },
        { "", NULL, "" },
        { "a/~/b", NULL, "a/~/b" },
        { "~/~", NULL, "/home/u/~" },
};

static const char *const range_deviations[] = {
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999",
};

#define CHECK_ERROR(r, error, v, what)                                                              \
        do {                                                                                        \
                if (tap_is_int(r, -EINVAL, "%s %s: fails", what, TAP_ESC((v)->in)))                 \
                        tap_is_str(error, (v)->error, "%s %s: message", what, TAP_ESC((v)->in));     \
        } while (0)

static void test_integer(void) {
        for (size_t i = 0; i < ELEMENTSOF(integer_vectors); i++) {
                const IntVector *v = &integer_vectors[i];
                int64_t n = -12345;
                char *error = NULL;
                int r = dt_integer(v->in, &n, &error);
                if (v->error)
                        CHECK_ERROR(r, error, v, "integer");
                else if (tap_is_int(r, 0, "integer %s: succeeds", TAP_ESC(v->in)))
                        tap_is_int(n, v->value, "integer %s: value", TAP_ESC(v->in));
                else
                        tap_diag("error: %s", TAP_ESC(error));
                free(error);
        }
        for (size_t i = 0; i < ELEMENTSOF(range_deviations); i++) {
                int64_t n;
                char *error = NULL;
                tap_is_int(dt_integer(range_deviations[i], &n, &error), -EINVAL, "integer %s: beyond int64, refused",
                           range_deviations[i]);
                free(error);
        }
}

static void test_octal(void) {
        for (size_t i = 0; i < ELEMENTSOF(octal_vectors); i++) {
                const IntVector *v = &octal_vectors[i];
                int64_t n = -12345;
                char *error = NULL;
                int r = dt_octal(v->in, &n, &error);
                if (v->error)
                        CHECK_ERROR(r, error, v, "octal");
                else if (tap_is_int(r, 0, "octal %s: succeeds", TAP_ESC(v->in)))
                        tap_is_int(n, v->value, "octal %s: value", TAP_ESC(v->in));
                else
                        tap_diag("error: %s", TAP_ESC(error));
                free(error);
        }
}

static void test_boolean(void) {
        for (size_t i = 0; i < ELEMENTSOF(boolean_vectors); i++) {
                const IntVector *v = &boolean_vectors[i];
                bool b = false;
                char *error = NULL;
                int r = dt_boolean(v->in, &b, &error);
                if (v->error)
                        CHECK_ERROR(r, error, v, "boolean");
                else if (tap_is_int(r, 0, "boolean %s: succeeds", TAP_ESC(v->in)))
                        tap_is_int(b, v->value, "boolean %s: value", TAP_ESC(v->in));
                free(error);
        }
}

static void test_byte_size(void) {
        for (size_t i = 0; i < ELEMENTSOF(byte_size_vectors); i++) {
                const IntVector *v = &byte_size_vectors[i];
                int64_t n = -12345;
                char *error = NULL;
                int r = dt_byte_size(v->in, &n, &error);
                if (v->error) {
                        /* Python's text (lower-cased) plus our hint: compare the common part. */
                        if (tap_is_int(r, -EINVAL, "byte_size %s: fails", TAP_ESC(v->in)))
                                tap_contains(error, "invalid literal for int() with base 10: '",
                                             "byte_size %s: message", TAP_ESC(v->in));
                } else if (tap_is_int(r, 0, "byte_size %s: succeeds", TAP_ESC(v->in)))
                        tap_is_int(n, v->value, "byte_size %s: value", TAP_ESC(v->in));
                else
                        tap_diag("error: %s", TAP_ESC(error));
                free(error);
        }
        int64_t n;
        char *error = NULL;
        /* byte_size('8589934592GB') == 2**63: past int64, our documented limit. */
        tap_is_int(dt_byte_size("8589934592GB", &n, &error), -EINVAL, "byte_size 8589934592GB: beyond int64, refused");
        free(error);
}

static void test_signal(void) {
        for (size_t i = 0; i < ELEMENTSOF(signal_vectors); i++) {
                const IntVector *v = &signal_vectors[i];
                int sig = -12345;
                char *error = NULL;
                int r = dt_signal(v->in, &sig, &error);
                if (v->error)
                        CHECK_ERROR(r, error, v, "signal");
                else if (tap_is_int(r, 0, "signal %s: succeeds", TAP_ESC(v->in)))
                        tap_is_int(sig, v->value, "signal %s: value", TAP_ESC(v->in));
                else
                        tap_diag("error: %s", TAP_ESC(error));
                free(error);
        }
        for (size_t i = 0; i < ELEMENTSOF(signal_name_vectors); i++) {
                const StrVector *v = &signal_name_vectors[i];
                tap_is_str(dt_signal_name(atoi(v->in)), v->value, "signal name of %s", v->in);
        }
}

static void test_auto_restart(void) {
        for (size_t i = 0; i < ELEMENTSOF(auto_restart_vectors); i++) {
                const IntVector *v = &auto_restart_vectors[i];
                AutoRestart a = (AutoRestart) -1;
                char *error = NULL;
                int r = dt_auto_restart(v->in, &a, &error);
                if (v->error)
                        CHECK_ERROR(r, error, v, "auto_restart");
                else if (tap_is_int(r, 0, "auto_restart %s: succeeds", TAP_ESC(v->in)))
                        tap_is_int(a, v->value, "auto_restart %s: value", TAP_ESC(v->in));
                free(error);
        }
}

static void test_exit_codes(void) {
        for (size_t i = 0; i < ELEMENTSOF(exit_codes_vectors); i++) {
                const ExitVector *v = &exit_codes_vectors[i];
                ExitCodes e = { .n = 999 };
                char *error = NULL;
                int r = dt_exit_codes(v->in, &e, &error);
                if (v->error)
                        CHECK_ERROR(r, error, v, "exit_codes");
                else if (tap_is_int(r, 0, "exit_codes %s: succeeds", TAP_ESC(v->in))) {
                        unsigned n = 0;
                        ExitCodes want = {0};
                        for (; v->codes[n] >= 0; n++)
                                want.bits[v->codes[n] / 64] |= 1ull << (v->codes[n] % 64);
                        tap_ok(memcmp(e.bits, want.bits, sizeof want.bits) == 0, "exit_codes %s: codes",
                               TAP_ESC(v->in));
                        tap_is_int(e.n, n, "exit_codes %s: count", TAP_ESC(v->in));
                        for (unsigned c = 0; c < 256; c++)
                                if (exit_codes_has(&e, c) != exit_codes_has(&want, c)) {
                                        tap_diag("code %u: got %d", c, exit_codes_has(&e, c));
                                        break;
                                }
                } else
                        tap_diag("error: %s", TAP_ESC(error));
                free(error);
        }
        ExitCodes e = {0};
        tap_ok(!exit_codes_has(&e, 256) && !exit_codes_has(&e, 100000), "exit_codes_has() beyond 255 is false");
}

static void test_process_name(void) {
        for (size_t i = 0; i < ELEMENTSOF(process_name_vectors); i++) {
                const StrVector *v = &process_name_vectors[i];
                char *name = NULL, *error = NULL;
                int r = dt_process_name(v->in, &name, &error);
                if (v->error)
                        CHECK_ERROR(r, error, v, "process_name");
                else if (tap_is_int(r, 0, "process_name %s: succeeds", TAP_ESC(v->in)))
                        tap_is_str(name, v->value, "process_name %s: value", TAP_ESC(v->in));
                else
                        tap_diag("error: %s", TAP_ESC(error));
                free(name);
                free(error);
        }
}

static void test_logfile(const LogVector *vectors, size_t n, const char *home) {
        setenv("HOME", home, 1);
        for (size_t i = 0; i < n; i++) {
                const LogVector *v = &vectors[i];
                LogTarget t = (LogTarget) -1;
                char *path = NULL, *error = NULL;
                int r = dt_logfile(v->in, &t, &path, &error);
                if (v->error) {
                        if (tap_is_int(r, -EINVAL, "logfile %s (HOME=%s): fails", TAP_ESC(v->in), home))
                                tap_is_str(error, v->error, "logfile %s (HOME=%s): message", TAP_ESC(v->in), home);
                } else if (tap_is_int(r, 0, "logfile %s (HOME=%s): succeeds", TAP_ESC(v->in), home)) {
                        tap_is_int(t, v->kind, "logfile %s (HOME=%s): kind", TAP_ESC(v->in), home);
                        if (v->kind == LOG_TARGET_PATH)
                                tap_is_str(path, v->path, "logfile %s (HOME=%s): path", TAP_ESC(v->in), home);
                } else
                        tap_diag("error: %s", TAP_ESC(error));
                free(path);
                free(error);
        }
}

static void test_expanduser(const StrVector *vectors, size_t n, const char *home) {
        setenv("HOME", home, 1);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *s = dt_expanduser(vectors[i].in);
                tap_is_str(s, vectors[i].value, "expanduser %s (HOME=%s)", TAP_ESC(vectors[i].in), home);
        }
}

/* ret_error is optional everywhere. */
static void test_no_ret_error(void) {
        int64_t n;
        bool b;
        int sig;
        AutoRestart a;
        ExitCodes e;
        char *name = NULL;
        LogTarget t;
        tap_is_int(dt_integer("x", &n, NULL), -EINVAL, "integer without ret_error");
        tap_is_int(dt_octal("9", &n, NULL), -EINVAL, "octal without ret_error");
        tap_is_int(dt_boolean("x", &b, NULL), -EINVAL, "boolean without ret_error");
        tap_is_int(dt_byte_size("1XB", &n, NULL), -EINVAL, "byte_size without ret_error");
        tap_is_int(dt_signal("NOPE", &sig, NULL), -EINVAL, "signal without ret_error");
        tap_is_int(dt_auto_restart("x", &a, NULL), -EINVAL, "auto_restart without ret_error");
        tap_is_int(dt_exit_codes("x", &e, NULL), -EINVAL, "exit_codes without ret_error");
        tap_is_int(dt_process_name("a b", &name, NULL), -EINVAL, "process_name without ret_error");
        tap_ok(!name, "process_name: ret untouched on error");
        tap_is_int(dt_logfile("/nonexistent-unitcorn-dir/x", &t, &name, NULL), -EINVAL, "logfile without ret_error");
        tap_ok(!name, "logfile: ret_path untouched on error");
}

int main(void) {
        test_integer();
        test_octal();
        test_boolean();
        test_byte_size();
        test_signal();
        test_auto_restart();
        test_exit_codes();
        test_process_name();
        test_logfile(logfile_vectors, ELEMENTSOF(logfile_vectors), "/");
        test_logfile(logfile_vectors_nohome, ELEMENTSOF(logfile_vectors_nohome), "/nonexistent-unitcorn-home");
        test_expanduser(expanduser_vectors_root_dir, ELEMENTSOF(expanduser_vectors_root_dir), "/");
        test_expanduser(expanduser_vectors_home_slash, ELEMENTSOF(expanduser_vectors_home_slash), "/home/u/");
        test_expanduser(expanduser_vectors_home, ELEMENTSOF(expanduser_vectors_home), "/home/u");
        test_no_ret_error();
        return tap_done();
}
