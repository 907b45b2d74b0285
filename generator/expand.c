/* expand.c: Python printf-style formatting against a mapping (expand.h).
 * Reference: Python Library Reference, "printf-style String Formatting";
 * CPython Objects/unicodeobject.c (PyUnicode_Format). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "strbuf.h"

static ExpandVar *find_own(const Expansions *e, const char *name) {
        for (size_t i = 0; i < e->n; i++)
                if (streq(e->vars[i].name, name))
                        return &e->vars[i];
        return NULL;
}

static const ExpandVar *find(const Expansions *e, const char *name) {
        for (; e; e = e->parent) {
                const ExpandVar *v = find_own(e, name);
                if (v)
                        return v;
        }
        return NULL;
}

const ExpandVar *expansions_get(const Expansions *e, const char *name) {
        return find(e, name);
}

static ExpandVar *slot(Expansions *e, const char *name) {
        ExpandVar *v = find_own(e, name);
        if (v) {
                free(v->str);
                v->str = NULL;
                return v;
        }
        e->vars = xrealloc(e->vars, (e->n + 1) * sizeof *e->vars);
        v = &e->vars[e->n++];
        *v = (ExpandVar) { .name = xstrdup(name) };
        return v;
}

void expansions_set_str(Expansions *e, const char *name, const char *value) {
        ExpandVar *v = find_own(e, name);
        if (v && !v->is_num && v->str && streq(v->str, value))
                return;   /* unchanged ("here", set before every expansion) */
        v = slot(e, name);
        v->str = xstrdup(value);
        v->is_num = false;
}

void expansions_set_num(Expansions *e, const char *name, long long value) {
        ExpandVar *v = slot(e, name);
        v->num = value;
        v->is_num = true;
}

void expansions_copy(Expansions *dst, const Expansions *src) {
        if (src->parent)
                expansions_copy(dst, src->parent);
        for (size_t i = 0; i < src->n; i++) {
                if (src->vars[i].is_num)
                        expansions_set_num(dst, src->vars[i].name, src->vars[i].num);
                else
                        expansions_set_str(dst, src->vars[i].name, src->vars[i].str);
        }
}

void expansions_add_environ(Expansions *e) {
        extern char **environ;
        for (char **env = environ; env && *env; env++) {
                const char *eq = strchr(*env, '=');
                if (!eq)
                        continue;
                _cleanup_free_ char *name = xasprintf("ENV_%.*s", (int) (eq - *env), *env);
                expansions_set_str(e, name, eq + 1);
        }
}

void expansions_done(Expansions *e) {
        for (size_t i = 0; i < e->n; i++) {
                free(e->vars[i].name);
                free(e->vars[i].str);
        }
        free(e->vars);
        *e = (Expansions) {0};
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

char *expansions_names(const Expansions *e) {
        size_t total = 0;
        for (const Expansions *l = e; l; l = l->parent)
                total += l->n;
        _cleanup_free_ const char **names = xcalloc(total + 1, sizeof(char *));
        size_t n = 0;
        for (const Expansions *l = e; l; l = l->parent)
                for (size_t i = 0; i < l->n; i++)
                        names[n++] = l->vars[i].name;
        qsort(names, n, sizeof(char *), cmp_str);
        _cleanup_sb_ StrBuf b = {0};
        size_t n_listed = 0;
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && streq(names[i], names[i - 1]))
                        continue;   /* shadowed */
                sb_addf(&b, "%s%s", n_listed++ ? ", " : "", names[i]);
        }
        return sb_take(&b);
}

/* Number of code points in UTF-8 text: Python pads and truncates by those. */
static size_t u8_chars(const char *s, size_t n) {
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
                if (((unsigned char) s[i] & 0xc0) != 0x80)
                        c++;
        return c;
}

static size_t u8_prefix(const char *s, size_t n, size_t chars) {
        size_t i = 0, c = 0;
        while (i < n) {
                if (((unsigned char) s[i] & 0xc0) != 0x80) {
                        if (c == chars)
                                break;
                        c++;
                }
                i++;
        }
        return i;
}

typedef struct Spec {
        bool left, zero, space, plus, alt;
        long width;      /* -1: none */
        long prec;       /* -1: none */
        char conv;
} Spec;

static void pad_text(StrBuf *out, const Spec *sp, const char *text, size_t len) {
        size_t chars = u8_chars(text, len);
        size_t pad = sp->width > 0 && (size_t) sp->width > chars ? (size_t) sp->width - chars : 0;
        if (!sp->left)
                for (size_t i = 0; i < pad; i++)
                        sb_addc(out, ' ');
        sb_addn(out, text, len);
        if (sp->left)
                for (size_t i = 0; i < pad; i++)
                        sb_addc(out, ' ');
}

static void format_int(StrBuf *out, const Spec *sp, long long v) {
        unsigned long long u = v < 0 ? 0ull - (unsigned long long) v : (unsigned long long) v;
        char digits[80];
        const char *prefix = "";
        switch (sp->conv) {
        case 'o':
                snprintf(digits, sizeof digits, "%llo", u);
                if (sp->alt)
                        prefix = "0o";
                break;
        case 'x':
                snprintf(digits, sizeof digits, "%llx", u);
                if (sp->alt)
                        prefix = "0x";
                break;
        case 'X':
                snprintf(digits, sizeof digits, "%llX", u);
                if (sp->alt)
                        prefix = "0X";
                break;
        default:
                snprintf(digits, sizeof digits, "%llu", u);
        }
        _cleanup_sb_ StrBuf body = {0};
        const char *sign = v < 0 ? "-" : sp->plus ? "+" : sp->space ? " " : "";
        sb_add(&body, sign);
        sb_add(&body, prefix);
        size_t nd = strlen(digits);
        size_t width = sp->width > 0 ? (size_t) sp->width : 0;
        size_t zeros = sp->prec > 0 && (size_t) sp->prec > nd ? (size_t) sp->prec - nd : 0;
        if (sp->zero && !sp->left && width > body.len + zeros + nd)
                zeros = width - body.len - nd;
        for (size_t i = 0; i < zeros; i++)
                sb_addc(&body, '0');
        sb_add(&body, digits);
        pad_text(out, sp, body.s, body.len);
}

static void format_float(StrBuf *out, const Spec *sp, double d) {
        char f[32];
        int n = snprintf(f, sizeof f, "%%%s%s%s%s%s%ld.%ld%c", sp->left ? "-" : "", sp->zero ? "0" : "",
                         sp->space ? " " : "", sp->plus ? "+" : "", sp->alt ? "#" : "",
                         sp->width > 0 ? sp->width : 0, sp->prec >= 0 ? sp->prec : 6, sp->conv);
        if (n <= 0)
                return;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        /* no fixed buffer: a width or precision can be up to 100000 */
        _cleanup_free_ char *buf = xasprintf(f, d);
#pragma GCC diagnostic pop
        sb_add(out, buf);
}

/* Appends the UTF-8 encoding of cp; false if not a code point Python allows. */
static bool add_codepoint(StrBuf *b, long long cp) {
        if (cp < 0 || cp > 0x10ffff)
                return false;
        if (cp < 0x80)
                sb_addc(b, (char) cp);
        else if (cp < 0x800) {
                sb_addc(b, (char) (0xc0 | (cp >> 6)));
                sb_addc(b, (char) (0x80 | (cp & 0x3f)));
        } else if (cp < 0x10000) {
                sb_addc(b, (char) (0xe0 | (cp >> 12)));
                sb_addc(b, (char) (0x80 | ((cp >> 6) & 0x3f)));
                sb_addc(b, (char) (0x80 | (cp & 0x3f)));
        } else {
                sb_addc(b, (char) (0xf0 | (cp >> 18)));
                sb_addc(b, (char) (0x80 | ((cp >> 12) & 0x3f)));
                sb_addc(b, (char) (0x80 | ((cp >> 6) & 0x3f)));
                sb_addc(b, (char) (0x80 | (cp & 0x3f)));
        }
        return true;
}

static int fail(char **ret_error, const char *fmt, const char *why) {
        _cleanup_sb_ StrBuf b = {0};
        sb_add(&b, "Format string ");
        sb_add_repr(&b, fmt, false);
        sb_addf(&b, " is badly formatted: %s", why);
        if (ret_error)
                *ret_error = sb_take(&b);
        return -EINVAL;
}

static int fail_unknown(char **ret_error, const char *fmt, const char *name, const Expansions *e) {
        if (ret_error) {
                _cleanup_sb_ StrBuf b = {0};
                _cleanup_free_ char *names = expansions_names(e);
                sb_add(&b, "Format string ");
                sb_add_repr(&b, fmt, false);
                sb_add(&b, " contains names (");
                sb_add_repr(&b, name, false);
                sb_addf(&b, ") which cannot be expanded. Available names: %s", names);
                *ret_error = sb_take(&b);
        }
        return -EINVAL;
}

/* Python's own order, which decides which error a bad format gets: the
 * "(name)" is looked up as soon as it is parsed, then flags, width,
 * precision and the conversion character are read. */
int expand_format(const char *fmt, const Expansions *e, char **ret, char **ret_error) {
        _cleanup_sb_ StrBuf out = {0};
        char why[160];

        for (const char *p = fmt; *p;) {
                const char *pct = strchr(p, '%');
                if (!pct) {
                        sb_add(&out, p);
                        break;
                }
                sb_addn(&out, p, (size_t) (pct - p));
                p = pct + 1;
                if (*p == '%') {
                        sb_addc(&out, '%');
                        p++;
                        continue;
                }

                Spec sp = { .width = -1, .prec = -1 };
                const ExpandVar *v = NULL;
                if (*p == '(') {
                        int depth = 1;
                        const char *start = ++p;
                        while (*p && depth > 0) {
                                if (*p == '(')
                                        depth++;
                                else if (*p == ')')
                                        depth--;
                                p++;
                        }
                        if (depth > 0)
                                return fail(ret_error, fmt, "incomplete format key");
                        _cleanup_free_ char *name = xstrndup(start, (size_t) (p - 1 - start));
                        v = find(e, name);
                        if (!v)
                                return fail_unknown(ret_error, fmt, name, e);
                }
                for (;; p++) {
                        if (*p == '-')
                                sp.left = true;
                        else if (*p == '0')
                                sp.zero = true;
                        else if (*p == ' ')
                                sp.space = true;
                        else if (*p == '+')
                                sp.plus = true;
                        else if (*p == '#')
                                sp.alt = true;
                        else
                                break;
                }
                if (*p == '*')
                        return fail(ret_error, fmt, "not enough arguments for format string");
                if (*p >= '0' && *p <= '9') {
                        sp.width = 0;
                        while (*p >= '0' && *p <= '9') {
                                if (sp.width > 100000)
                                        return fail(ret_error, fmt, "width too big");
                                sp.width = sp.width * 10 + (*p++ - '0');
                        }
                }
                if (*p == '.') {
                        p++;
                        if (*p == '*')
                                return fail(ret_error, fmt, "not enough arguments for format string");
                        sp.prec = 0;
                        while (*p >= '0' && *p <= '9') {
                                if (sp.prec > 100000)
                                        return fail(ret_error, fmt, "precision too big");
                                sp.prec = sp.prec * 10 + (*p++ - '0');
                        }
                }
                /* one length modifier, ignored (Python reads one only:
                 * "%(x)lld" is an unsupported format character 'l') */
                if (*p == 'h' || *p == 'l' || *p == 'L')
                        p++;
                if (!*p)
                        return fail(ret_error, fmt, "incomplete format");
                sp.conv = *p;
                if (!strchr("diouxXeEfFgGcrsa", sp.conv)) {
                        /* Python names the character (or '?') with its code point and
                         * gives the index in characters. */
                        uint32_t cp = (unsigned char) *p;
                        size_t n = 1;
                        if (cp >= 0xc0) {
                                n = cp >= 0xf0 ? 4 : cp >= 0xe0 ? 3 : 2;
                                cp &= 0x3f >> (n - 1);
                                for (size_t i = 1; i < n && p[i]; i++)
                                        cp = (cp << 6) | ((unsigned char) p[i] & 0x3f);
                        }
                        snprintf(why, sizeof why, "unsupported format character '%c' (0x%x) at index %zu",
                                 cp >= 32 && cp <= 126 ? (char) cp : '?', (unsigned) cp,
                                 u8_chars(fmt, (size_t) (p - fmt)));
                        return fail(ret_error, fmt, why);
                }
                p++;
                if (!v)
                        return fail(ret_error, fmt,
                                    "a '%' conversion without a (name): supervisor would format its whole "
                                    "table of names here; write '%%' for a literal percent sign");

                switch (sp.conv) {
                case 's':
                case 'r':
                case 'a': {
                        _cleanup_sb_ StrBuf t = {0};
                        if (v->is_num)
                                sb_addf(&t, "%lld", v->num);
                        else if (sp.conv == 's')
                                sb_add(&t, v->str);
                        else
                                sb_add_repr(&t, v->str, sp.conv == 'a');
                        size_t len = t.len;
                        if (sp.prec >= 0)
                                len = u8_prefix(t.s, t.len, (size_t) sp.prec);
                        pad_text(&out, &sp, t.s ? t.s : "", len);
                        break;
                }
                case 'c': {
                        _cleanup_sb_ StrBuf t = {0};
                        if (v->is_num) {
                                if (v->num == 0)
                                        /* Python makes "\0", which no command line or unit can hold */
                                        return fail(ret_error, fmt, "%c of 0 makes a NUL character");
                                if (!add_codepoint(&t, v->num))
                                        return fail(ret_error, fmt, "%c arg not in range(0x110000)");
                        } else {
                                if (u8_chars(v->str, strlen(v->str)) != 1)
                                        return fail(ret_error, fmt, "%c requires int or char");
                                sb_add(&t, v->str);
                        }
                        pad_text(&out, &sp, t.s, t.len);
                        break;
                }
                default:
                        if (!v->is_num) {
                                if (strchr("eEfFgG", sp.conv))
                                        snprintf(why, sizeof why, "must be real number, not str");
                                else if (strchr("oxX", sp.conv))
                                        snprintf(why, sizeof why, "%%%c format: an integer is required, not str", sp.conv);
                                else
                                        snprintf(why, sizeof why, "%%%c format: a real number is required, not str", sp.conv);
                                return fail(ret_error, fmt, why);
                        }
                        if (strchr("eEfFgG", sp.conv))
                                format_float(&out, &sp, (double) v->num);
                        else
                                format_int(&out, &sp, v->num);
                }
        }
        *ret = sb_take(&out);
        return 0;
}
