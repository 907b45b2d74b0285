/* shlex.c: Python's shlex, the two ways supervisor uses it (shlex.h).
 * Reference: CPython Lib/shlex.py, shlex.read_token() and split(). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "shlex.h"
#include "strbuf.h"

static bool is_ws(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int shlex_split(const char *s, char ***ret, char **ret_error) {
        _cleanup_strv_free_ char **v = NULL;
        _cleanup_sb_ StrBuf tok = {0};
        bool in_word = false;

        for (const char *p = s;; p++) {
                char c = *p;
                if (!c || is_ws(c)) {
                        if (in_word)
                                v = strv_push(v, sb_take(&tok));
                        in_word = false;
                        if (!c)
                                break;
                        continue;
                }
                in_word = true;
                if (c == '\\') {
                        if (!p[1]) {
                                if (ret_error)
                                        *ret_error = xstrdup("No escaped character");
                                return -EINVAL;
                        }
                        sb_addc(&tok, *++p);
                } else if (c == '\'' || c == '"') {
                        char q = c;
                        sb_grow(&tok, 0);   /* a quoted empty word is still a word */
                        for (p++;; p++) {
                                if (!*p) {
                                        if (ret_error)
                                                *ret_error = xstrdup("No closing quotation");
                                        return -EINVAL;
                                }
                                if (*p == q)
                                        break;
                                if (q == '"' && *p == '\\' && (p[1] == '"' || p[1] == '\\')) {
                                        sb_addc(&tok, *++p);
                                        continue;
                                }
                                if (q == '"' && *p == '\\' && !p[1]) {
                                        if (ret_error)
                                                *ret_error = xstrdup("No escaped character");
                                        return -EINVAL;
                                }
                                sb_addc(&tok, *p);
                        }
                } else
                        sb_addc(&tok, c);
        }
        if (!v)
                v = xcalloc(1, sizeof(char *));
        *ret = TAKE_PTR(v);
        return 0;
}

/* Non-posix shlex.shlex with supervisor's wordchars: ASCII letters, digits,
 * '_' and "/.+-():". */
static bool is_wordchar(char c) {
        unsigned char u = (unsigned char) c;
        if ((u | 0x20) >= 'a' && (u | 0x20) <= 'z')
                return true;
        if (u >= '0' && u <= '9')
                return true;
        switch (u) {
        case '_': case '/': case '.': case '+': case '-': case '(': case ')': case ':':
                return true;
        default:
                return false;
        }
}

/* One "character" as Python sees it: a whole UTF-8 sequence. */
static size_t char_len(const char *p) {
        unsigned char c = (unsigned char) *p;
        size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        for (size_t i = 1; i < n; i++)
                if (!p[i])
                        return i;
        return n;
}

typedef struct Lexer {
        const char *p;
} Lexer;

static void skip_line(Lexer *lx) {
        const char *nl = strchr(lx->p, '\n');
        lx->p = nl ? nl + 1 : lx->p + strlen(lx->p);
}

/* Returns 1 with a token, 0 at the end, -EINVAL on an open quote. */
static int lexer_next(Lexer *lx, char **ret) {
        _cleanup_sb_ StrBuf tok = {0};
        /* state ' ': between tokens */
        for (;;) {
                char c = *lx->p;
                if (!c)
                        return 0;
                if (is_ws(c)) {
                        lx->p++;
                        continue;
                }
                if (c == '#') {
                        skip_line(lx);   /* readline(): the rest of the line goes */
                        continue;
                }
                break;
        }
        const char *start = lx->p;
        char c = *start;
        if (c == '\'' || c == '"') {
                /* a quoted token, quotes included (non-posix) */
                const char *close = strchr(start + 1, c);
                if (!close)
                        return -EINVAL;
                lx->p = close + 1;
                *ret = xstrndup(start, (size_t) (lx->p - start));
                return 1;
        }
        if (!is_wordchar(c)) {
                /* a single punctuation character */
                size_t n = char_len(start);
                lx->p += n;
                *ret = xstrndup(start, n);
                return 1;
        }
        /* state 'a': a word; quotes are word characters here (non-posix), a
         * comment is skipped and the word goes on after the newline */
        for (;;) {
                const char *run = lx->p;
                while (is_wordchar(*lx->p) || *lx->p == '\'' || *lx->p == '"')
                        lx->p++;
                sb_addn(&tok, run, (size_t) (lx->p - run));
                if (*lx->p == '#') {
                        skip_line(lx);
                        continue;
                }
                if (is_ws(*lx->p))
                        lx->p++;
                break;   /* end, whitespace, or punctuation pushed back */
        }
        *ret = sb_take(&tok);
        return 1;
}

void env_pairs_set(EnvPairs *p, const char *key, const char *value) {
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->pairs[i].key, key)) {
                        free(p->pairs[i].value);
                        p->pairs[i].value = xstrdup(value);
                        return;
                }
        p->pairs = xrealloc(p->pairs, (p->n + 1) * sizeof *p->pairs);
        p->pairs[p->n++] = (EnvPair) { xstrdup(key), xstrdup(value) };
}

const char *env_pairs_get(const EnvPairs *p, const char *key) {
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->pairs[i].key, key))
                        return p->pairs[i].value;
        return NULL;
}

void env_pairs_done(EnvPairs *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->pairs[i].key);
                free(p->pairs[i].value);
        }
        free(p->pairs);
        *p = (EnvPairs) {0};
}

int shlex_env_pairs(const char *s, EnvPairs *ret, char ***ret_dropped, char **ret_error) {
        _cleanup_strv_free_ char **tokens = NULL;
        size_t n = 0, cap = 0;
        Lexer lx = { s };
        for (;;) {
                char *t = NULL;
                int r = lexer_next(&lx, &t);
                if (r < 0) {
                        if (ret_error)
                                *ret_error = xstrdup("No closing quotation");
                        return r;
                }
                if (r == 0)
                        break;
                if (n + 2 > cap) {
                        cap = cap ? cap * 2 : 16;
                        tokens = xrealloc(tokens, cap * sizeof(char *));
                }
                tokens[n++] = t;
                tokens[n] = NULL;
        }
        EnvPairs pairs = {0};
        _cleanup_strv_free_ char **dropped = NULL;
        for (size_t i = 0; i < n; i += 4) {
                if (n - i < 3 || !streq(tokens[i + 1], "=")) {
                        env_pairs_done(&pairs);
                        if (ret_error)
                                *ret_error = xasprintf("Unexpected end of key/value pairs in value '%s'", s);
                        return -EINVAL;
                }
                /* value.strip('\'"') */
                const char *v = tokens[i + 2];
                size_t len = strlen(v);
                while (len > 0 && (*v == '\'' || *v == '"'))
                        v++, len--;
                while (len > 0 && (v[len - 1] == '\'' || v[len - 1] == '"'))
                        len--;
                _cleanup_free_ char *value = xstrndup(v, len);
                env_pairs_set(&pairs, tokens[i], value);
                if (i + 3 < n && !streq(tokens[i + 3], ","))
                        dropped = strv_push(dropped, xstrdup(tokens[i + 3]));
        }
        *ret = pairs;
        if (ret_dropped)
                *ret_dropped = TAKE_PTR(dropped);
        return 0;
}
