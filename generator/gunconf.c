/* gunconf.c: the `bind` recogniser for gunicorn config files (gunconf.h).
 *
 * A small tokenizer for the parts of Python's lexical grammar that decide
 * where a statement starts (Python Language Reference §2.1: logical lines,
 * explicit and implicit line joining; §2.4.1: string literals with their
 * prefixes and triple quotes; comments).  Everything that is not a string,
 * a comment or a name is skipped.  Deliberately strict: a file we cannot be
 * sure about is reported, never guessed at. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gunconf.h"
#include "strbuf.h"

typedef struct Lexer {
        const char *s;
        size_t len, i;
        unsigned line;
        int depth;              /* open brackets: newlines inside do not end the statement */
} Lexer;

static bool is_ident_start(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (unsigned char) c >= 0x80;
}

static bool is_ident_char(char c) {
        return is_ident_start(c) || (c >= '0' && c <= '9');
}

static char peek(const Lexer *l, size_t off) {
        return l->i + off < l->len ? l->s[l->i + off] : 0;
}

/* A string prefix (r, u, b, f, rb, br, fr, rf in any case) followed by a quote. */
static size_t string_prefix_len(const Lexer *l) {
        size_t n = 0;
        while (n < 2 && peek(l, n) && strchr("rRuUbBfF", peek(l, n)))
                n++;
        for (size_t k = 0; k <= n; k++)
                if (peek(l, k) == '\'' || peek(l, k) == '"')
                        return k;
        return (size_t) -1;
}

/* Skips a string literal at l->i (after its prefix); decodes it into
 * *ret when ret is given and the literal is simple: one-line, no escapes
 * other than \\ \' \", not bytes or f-string.  Returns 1 decoded, 0
 * skipped (ret not given or not simple), -EINVAL unterminated. */
static int lex_string(Lexer *l, size_t prefix, char **ret) {
        bool raw = false, simple = true;
        for (size_t k = 0; k < prefix; k++) {
                char c = peek(l, k);
                if (c == 'r' || c == 'R')
                        raw = true;
                else if (c != 'u' && c != 'U')
                        simple = false;   /* bytes or f-string */
        }
        l->i += prefix;
        char q = peek(l, 0);
        bool triple = peek(l, 1) == q && peek(l, 2) == q;
        if (triple)
                simple = false;
        l->i += triple ? 3 : 1;
        _cleanup_sb_ StrBuf b = {0};
        for (;;) {
                if (l->i >= l->len)
                        return -EINVAL;
                char c = l->s[l->i];
                if (c == '\\') {
                        char n = peek(l, 1);
                        if (n == '\n')
                                l->line++;
                        if (!raw && (n == '\\' || n == '\'' || n == '"'))
                                sb_addc(&b, n);
                        else if (!raw || n == '\n' || !n)
                                simple = false;
                        else {
                                sb_addc(&b, c);
                                sb_addc(&b, n);
                        }
                        l->i += 2;
                        continue;
                }
                if (c == '\n') {
                        if (!triple)
                                return -EINVAL;
                        l->line++;
                }
                if (c == q && (!triple || (peek(l, 1) == q && peek(l, 2) == q))) {
                        l->i += triple ? 3 : 1;
                        break;
                }
                sb_addc(&b, c);
                l->i++;
        }
        if (!ret || !simple)
                return 0;
        *ret = sb_take(&b);
        return 1;
}

static void skip_blanks(Lexer *l, bool newlines) {
        for (;;) {
                char c = peek(l, 0);
                if (c == ' ' || c == '\t' || c == '\f' || c == '\r')
                        l->i++;
                else if (c == '\\' && peek(l, 1) == '\n') {
                        l->i += 2;
                        l->line++;
                } else if (newlines && c == '\n') {
                        l->i++;
                        l->line++;
                } else if (newlines && c == '#') {
                        while (l->i < l->len && l->s[l->i] != '\n')
                                l->i++;
                } else
                        return;
        }
}

/* One string literal of a bind value. */
static int value_string(Lexer *l, char **ret) {
        size_t prefix = string_prefix_len(l);
        if (prefix == (size_t) -1)
                return -EINVAL;
        return lex_string(l, prefix, ret) == 1 ? 0 : -EINVAL;
}

/* `bind = ` has been read: the literal, then the end of the statement. */
static int value_literal(Lexer *l, char ***ret) {
        _cleanup_strv_free_ char **v = NULL;
        skip_blanks(l, false);
        char open = peek(l, 0);
        if (open == '[' || open == '(') {
                char close = open == '[' ? ']' : ')';
                l->i++;
                for (;;) {
                        skip_blanks(l, true);
                        if (peek(l, 0) == close)
                                break;
                        char *s = NULL;
                        if (value_string(l, &s) < 0)
                                return -EINVAL;
                        v = strv_push(v, s);
                        skip_blanks(l, true);
                        if (peek(l, 0) == ',')
                                l->i++;
                        else if (peek(l, 0) != close)
                                return -EINVAL;
                }
                l->i++;
                if (!v)
                        return -EINVAL;   /* bind = []: nothing to listen on */
        } else {
                char *s = NULL;
                if (value_string(l, &s) < 0)
                        return -EINVAL;
                v = strv_push(v, s);
        }
        skip_blanks(l, false);
        if (peek(l, 0) == '#')
                while (l->i < l->len && l->s[l->i] != '\n')
                        l->i++;
        if (l->i < l->len && l->s[l->i] != '\n')
                return -EINVAL;   /* "bind = 'a' if x else 'b'", "...; bind = y" */
        *ret = TAKE_PTR(v);
        return 0;
}

/* Names through which a file could set `bind` without naming it as a
 * statement's target. */
static bool is_dynamic_name(const char *s, size_t n) {
        static const char *const names[] = { "bind", "globals", "locals", "vars", "exec", "eval", "setattr",
                                             "__dict__", "__builtins__", "__import__", "compile" };
        for (size_t k = 0; k < ELEMENTSOF(names); k++)
                if (strlen(names[k]) == n && strncmp(names[k], s, n) == 0)
                        return true;
        return false;
}

int gunconf_find_bind(const char *text, size_t len, char ***ret_binds, unsigned *ret_line, char **ret_error) {
        Lexer l = { .s = text, .len = len, .line = 1 };
        _cleanup_strv_free_ char **binds = NULL;
        unsigned bind_line = 0;
        bool line_start = true;   /* at column 0 of a new logical line */
        bool after_import = false;
        while (l.i < l.len) {
                char c = l.s[l.i];
                if (c == '\n') {
                        l.line++;
                        l.i++;
                        if (l.depth == 0)
                                line_start = true;
                        continue;
                }
                if (c == '\\' && peek(&l, 1) == '\n') {
                        l.i += 2;
                        l.line++;
                        continue;
                }
                if (c == '#') {
                        while (l.i < l.len && l.s[l.i] != '\n')
                                l.i++;
                        continue;
                }
                bool col0 = line_start;
                line_start = false;
                size_t prefix = string_prefix_len(&l);
                if (prefix != (size_t) -1 && (prefix > 0 || c == '\'' || c == '"')) {
                        unsigned start_line = l.line;
                        if (lex_string(&l, prefix, NULL) < 0) {
                                *ret_line = start_line;
                                *ret_error = xstrdup("unterminated string literal");
                                return -EINVAL;
                        }
                        after_import = false;
                        continue;
                }
                if (is_ident_start(c)) {
                        size_t start = l.i;
                        while (l.i < l.len && is_ident_char(l.s[l.i]))
                                l.i++;
                        size_t n = l.i - start;
                        if (col0 && n == 4 && strncmp(text + start, "bind", 4) == 0) {
                                unsigned line = l.line;
                                skip_blanks(&l, false);
                                if (peek(&l, 0) == '=' && peek(&l, 1) != '=') {
                                        l.i++;
                                        char **v = NULL;
                                        if (value_literal(&l, &v) < 0) {
                                                *ret_line = line;
                                                *ret_error = xstrdup("'bind' is not assigned a string literal or a "
                                                                     "list or tuple of them");
                                                return -EINVAL;
                                        }
                                        strv_free(binds);
                                        binds = v;
                                        bind_line = line;
                                        continue;
                                }
                        }
                        if (is_dynamic_name(text + start, n)) {
                                *ret_line = l.line;
                                *ret_error = xasprintf("'%.*s' is used other than as a top-level 'bind = LITERAL'",
                                                       (int) n, text + start);
                                return -EINVAL;
                        }
                        after_import = n == 6 && strncmp(text + start, "import", 6) == 0;
                        continue;
                }
                if (c == '*' && after_import) {
                        *ret_line = l.line;
                        *ret_error = xstrdup("'import *' may set 'bind'");
                        return -EINVAL;
                }
                if (c == '(' || c == '[' || c == '{')
                        l.depth++;
                else if ((c == ')' || c == ']' || c == '}') && l.depth > 0)
                        l.depth--;
                if (c != ' ' && c != '\t' && c != '\r' && c != '\f')
                        after_import = false;
                l.i++;
        }
        if (!binds)
                return 0;
        *ret_binds = TAKE_PTR(binds);
        *ret_line = bind_line;
        return 1;
}
