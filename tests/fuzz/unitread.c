/* unitread.c: see unitread.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "unitread.h"

static int fail(char **ret_error, char *msg) {
        if (ret_error)
                *ret_error = msg;
        else
                free(msg);
        return -EINVAL;
}

static bool is_ws(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char *strip(const char *s, size_t n) {
        while (n > 0 && is_ws(*s))
                s++, n--;
        while (n > 0 && is_ws(s[n - 1]))
                n--;
        return xstrndup(s, n);
}

void unit_file_done(UnitFile *u) {
        for (size_t i = 0; i < u->n; i++) {
                free(u->settings[i].section);
                free(u->settings[i].key);
                free(u->settings[i].value);
        }
        free(u->settings);
        *u = (UnitFile) {0};
}

/* An odd number of backslashes at the end: systemd's config_parse()
 * continues the line (the backslash becomes a space). */
static bool continues(const char *s, size_t n) {
        size_t k = 0;
        while (k < n && s[n - 1 - k] == '\\')
                k++;
        return k % 2 == 1;
}

int unit_read(const char *text, UnitFile *ret, char **ret_error) {
        UnitFile u = {0};
        _cleanup_free_ char *section = NULL;
        _cleanup_sb_ StrBuf cont = {0};
        bool in_cont = false;
        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t) (nl - p) : strlen(p);
                _cleanup_free_ char *line = strip(p, n);
                p += n + (nl ? 1 : 0);

                if (!in_cont && (line[0] == '#' || line[0] == ';' || line[0] == 0))
                        continue;
                if (in_cont && (line[0] == '#' || line[0] == ';'))
                        continue;     /* comments inside a continuation are skipped */
                size_t len = strlen(line);
                if (continues(line, len)) {
                        sb_addn(&cont, line, len - 1);
                        sb_addc(&cont, ' ');
                        in_cont = true;
                        continue;
                }
                if (in_cont) {
                        sb_add(&cont, line);
                        free(line);
                        line = sb_take(&cont);
                        in_cont = false;
                }
                len = strlen(line);
                if (line[0] == '[' && line[len - 1] == ']') {
                        free(section);
                        section = xstrndup(line + 1, len - 2);
                        continue;
                }
                char *eq = strchr(line, '=');
                if (!eq || !section) {
                        unit_file_done(&u);
                        return fail(ret_error, xasprintf("line '%s' is not KEY=VALUE in a section", line));
                }
                u.settings = xrealloc(u.settings, (u.n + 1) * sizeof *u.settings);
                u.settings[u.n++] = (UnitSetting) {
                        .section = xstrdup(section),
                        .key = strip(line, (size_t) (eq - line)),
                        .value = strip(eq + 1, strlen(eq + 1)),
                };
        }
        if (in_cont) {
                unit_file_done(&u);
                return fail(ret_error, xstrdup("the file ends in a continuation line"));
        }
        *ret = u;
        return 0;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) (c | 0x20);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One C escape after a backslash at s (systemd's cunescape_one()).
 * Returns the bytes consumed after the backslash, 0 if invalid. */
static size_t cunescape_one(const char *s, StrBuf *out) {
        static const char from[] = "abfnrtv\\\"'s", to[] = "\a\b\f\n\r\t\v\\\"' ";
        const char *f = *s ? strchr(from, *s) : NULL;
        if (f) {
                sb_addc(out, to[f - from]);
                return 1;
        }
        if (*s == 'x') {
                int a = hexval(s[1]), b = a >= 0 ? hexval(s[2]) : -1;
                if (a < 0 || b < 0 || (a == 0 && b == 0))
                        return 0;
                sb_addc(out, (char) (a * 16 + b));
                return 3;
        }
        if (*s >= '0' && *s <= '7') {
                if (s[1] < '0' || s[1] > '7' || s[2] < '0' || s[2] > '7')
                        return 0;
                int v = (s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0');
                if (v == 0 || v > 255)
                        return 0;
                sb_addc(out, (char) v);
                return 3;
        }
        return 0;       /* \u, \U: never written by the generator */
}

int unit_split_words(const char *value, char ***ret, char **ret_quoted, char **ret_error) {
        _cleanup_strv_free_ char **words = NULL;
        _cleanup_sb_ StrBuf quoted = {0};
        const char *p = value;
        for (;;) {
                while (*p && is_ws(*p))
                        p++;
                if (!*p)
                        break;
                _cleanup_sb_ StrBuf w = {0};
                sb_grow(&w, 0);
                char quote = 0;
                bool was_quoted = false;
                while (*p) {
                        char c = *p;
                        if (quote && c == quote) {
                                quote = 0;
                                p++;
                        } else if (!quote && (c == '"' || c == '\'')) {
                                quote = c;
                                was_quoted = true;
                                p++;
                        } else if (!quote && is_ws(c))
                                break;
                        else if (!quote && c == '\\' && p[1] == ';') {
                                sb_add(&w, "\\;");
                                p += 2;
                        } else if (c == '\\') {
                                /* the same C escapes inside quotes and out */
                                size_t n = cunescape_one(p + 1, &w);
                                if (n == 0)
                                        return fail(ret_error, xasprintf("bad escape in '%s'", value));
                                p += 1 + n;
                        } else {
                                sb_addc(&w, c);
                                p++;
                        }
                }
                if (quote)
                        return fail(ret_error, xasprintf("unterminated quote in '%s'", value));
                words = strv_push(words, sb_take(&w));
                sb_addc(&quoted, was_quoted ? 1 : 0);
        }
        if (!words)
                words = xcalloc(1, sizeof(char *));
        *ret = TAKE_PTR(words);
        if (ret_quoted) {
                sb_grow(&quoted, 0);
                *ret_quoted = sb_take(&quoted);
        }
        return 0;
}

int unit_unspecifier(const char *s, bool dollar, char **ret, char **ret_error) {
        _cleanup_sb_ StrBuf b = {0};
        sb_grow(&b, 0);
        for (const char *p = s; *p; p++) {
                if (*p == '%' || (dollar && *p == '$')) {
                        if (p[1] != *p)
                                return fail(ret_error, xasprintf("a lone '%c' (a systemd %s) in '%s'", *p,
                                                                 *p == '%' ? "specifier" : "variable", s));
                        p++;
                }
                sb_addc(&b, *p);
        }
        *ret = sb_take(&b);
        return 0;
}

int unit_exec_argv(const char *value, char ***ret, char **ret_error) {
        _cleanup_strv_free_ char **words = NULL, **argv = NULL;
        _cleanup_free_ char *quoted = NULL;
        int r = unit_split_words(value, &words, &quoted, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; words[i]; i++) {
                if (!quoted[i] && streq(words[i], "\\;")) {
                        argv = strv_push(argv, xstrdup(";"));
                        continue;
                }
                if (!quoted[i] && streq(words[i], ";"))
                        return fail(ret_error, xasprintf("a bare ';' (a second command) in '%s'", value));
                char *w;
                r = unit_unspecifier(words[i], true, &w, ret_error);
                if (r < 0)
                        return r;
                argv = strv_push(argv, w);
        }
        if (!argv)
                argv = xcalloc(1, sizeof(char *));
        *ret = TAKE_PTR(argv);
        return 0;
}
