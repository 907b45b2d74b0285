/* tap.h: the Test Anything Protocol, as much of it as the unit tests need.
 *
 * Each check prints "ok N - description" or "not ok N - description"; a
 * failed one is followed by "# got ..." / "# expected ..." lines with the
 * strings C-escaped.  Failures and their diagnostics also go to stderr,
 * which is what `meson test --print-errorlogs` shows (it parses stdout).
 * The plan ("1..N") is printed last by tap_done(), which TAP allows, so
 * tests never count their vectors.  Deliberately no skipping, no subtests,
 * no allocation: a test is a table and a loop. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static unsigned tap_count, tap_failures;

/* Length of the well-formed UTF-8 sequence at p, 0 if there is none: test
 * output stays valid UTF-8 whatever bytes a vector holds. */
static inline size_t tap_utf8_len(const unsigned char *p) {
        size_t n = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
        for (size_t i = 1; i < n; i++)
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) || (p[0] == 0xf0 && p[1] < 0x90) ||
            (p[0] == 0xf4 && p[1] >= 0x90))
                return 0;
        return n;
}

/* s C-escaped into buf, truncated with "..." if it does not fit.
 * quote: in double quotes (diagnostics), or bare (descriptions). */
static inline const char *tap_escape_into(const char *s, char *buf, size_t size, bool quote) {
        size_t n = 0;
        if (!s) {
                snprintf(buf, size, "NULL");
                return buf;
        }
        if (quote)
                buf[n++] = '"';
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (n + 12 >= size) {
                        memcpy(buf + n, "...", 3);
                        n += 3;
                        break;
                }
                size_t k = *p >= 0x80 ? tap_utf8_len(p) : 0;
                if (quote && (*p == '"' || *p == '\\'))
                        n += (size_t) snprintf(buf + n, size - n, "\\%c", *p);
                else if (*p == '\n')
                        n += (size_t) snprintf(buf + n, size - n, "\\n");
                else if (*p == '\t')
                        n += (size_t) snprintf(buf + n, size - n, "\\t");
                else if (*p == '\r')
                        n += (size_t) snprintf(buf + n, size - n, "\\r");
                else if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && k == 0))
                        n += (size_t) snprintf(buf + n, size - n, "\\x%02x", *p);
                else if (k > 0) {
                        memcpy(buf + n, p, k);
                        n += k;
                        p += k - 1;
                } else
                        buf[n++] = (char) *p;
        }
        if (quote)
                buf[n++] = '"';
        buf[n] = 0;
        return buf;
}

/* For descriptions: TAP_ESC(s) escapes into a buffer that lives as long as
 * the enclosing block. */
#define TAP_ESC(s) tap_escape_into((s), (char[160]) {0}, 160, false)

/* One diagnostic line: "# ..." on stdout, and on stderr for meson's logs. */
__attribute__((format(printf, 1, 2))) static inline void tap_diag(const char *fmt, ...) {
        char line[8192];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        printf("# %s\n", line);
        fprintf(stderr, "    %s\n", line);
}

__attribute__((format(printf, 2, 0))) static inline void tap_vresult(bool ok, const char *fmt, va_list ap) {
        char desc[512];
        vsnprintf(desc, sizeof desc, fmt, ap);
        /* One line, and no '#': that would start a TAP directive. */
        for (char *p = desc; *p; p++)
                if (*p == '\n' || *p == '\r' || *p == '#')
                        *p = ' ';
        tap_count++;
        printf("%sok %u - %s\n", ok ? "" : "not ", tap_count, desc);
        if (!ok) {
                tap_failures++;
                fprintf(stderr, "not ok %u - %s\n", tap_count, desc);
        }
}

__attribute__((format(printf, 2, 3))) static inline bool tap_ok(bool ok, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        tap_vresult(ok, fmt, ap);
        va_end(ap);
        return ok;
}

/* got and expected may be NULL: NULL equals only NULL. */
__attribute__((format(printf, 3, 4))) static inline bool tap_is_str(const char *got, const char *expected,
                                                                     const char *fmt, ...) {
        bool ok = (!got && !expected) || (got && expected && strcmp(got, expected) == 0);
        va_list ap;
        va_start(ap, fmt);
        tap_vresult(ok, fmt, ap);
        va_end(ap);
        if (!ok) {
                char buf[4096];
                tap_diag("got      %s", tap_escape_into(got, buf, sizeof buf, true));
                tap_diag("expected %s", tap_escape_into(expected, buf, sizeof buf, true));
        }
        return ok;
}

__attribute__((format(printf, 3, 4))) static inline bool tap_is_int(long long got, long long expected,
                                                                     const char *fmt, ...) {
        bool ok = got == expected;
        va_list ap;
        va_start(ap, fmt);
        tap_vresult(ok, fmt, ap);
        va_end(ap);
        if (!ok) {
                tap_diag("got      %lld", got);
                tap_diag("expected %lld", expected);
        }
        return ok;
}

/* got must contain needle. */
__attribute__((format(printf, 3, 4))) static inline bool tap_contains(const char *got, const char *needle,
                                                                       const char *fmt, ...) {
        bool ok = got && strstr(got, needle);
        va_list ap;
        va_start(ap, fmt);
        tap_vresult(ok, fmt, ap);
        va_end(ap);
        if (!ok) {
                char buf[4096];
                tap_diag("got      %s", tap_escape_into(got, buf, sizeof buf, true));
                tap_diag("expected to contain %s", tap_escape_into(needle, buf, sizeof buf, true));
        }
        return ok;
}

/* Prints the plan; the exit status for main(): meson reports a TAP test
 * that exits non-zero as an error, which is what a failed vector is. */
static inline int tap_done(void) {
        printf("1..%u\n", tap_count);
        if (tap_failures) {
                printf("# %u of %u failed\n", tap_failures, tap_count);
                fprintf(stderr, "%u of %u failed\n", tap_failures, tap_count);
        }
        return tap_failures ? 1 : 0;
}
