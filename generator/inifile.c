/* ini.c: supervisor's INI dialect over inih (see ini.h).
 *
 * inih is driven through ini_parse_stream() with our own line reader.  The
 * reader sees every physical line first: it counts lines, splits on "\n",
 * "\r\n" and a lone "\r" (Python's universal newlines), applies
 * configparser's comment and indentation rules, records section headers
 * itself (inih truncates names at 50 bytes and stops at the first ']') and
 * hands inih only key lines and continuation lines, already cleaned.  inih
 * then splits "name = value" at the first '=' or ':' and calls back.  The
 * reader sizes inih's line buffer (Debian's runtime knobs) to the longest
 * line of the file so nothing is ever split; where those knobs are missing
 * an over-long line is an error for the file, never a silent split.
 *
 * Reference: CPython Lib/configparser.py, RawConfigParser._read(). */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "inifile.h"
#include "log.h"
#include "strbuf.h"

/* Without Debian's knobs inih's buffer is INI_MAX_LINE (200) bytes, which
 * must hold the line, "\r\n" and NUL. */
#define INIH_STATIC_LINE_MAX 197
/* A config file larger than this is not a config file. */
#define INI_FILE_MAX (64u * 1024u * 1024u)

typedef struct Reader {
        IniConfig *config;
        const char *file;
        const char *data;
        size_t size;
        size_t pos;              /* start of the next physical line */
        unsigned lineno;

        /* The line handed to inih, served fgets-style (possibly in parts). */
        StrBuf out;
        size_t out_pos;

        /* configparser's state */
        IniSection *cur;
        IniKey *cur_key;         /* the option continuation lines extend */
        size_t indent_level;
        unsigned pending_blank;  /* empty lines seen inside the current value */
        bool file_failed;        /* lines before any section: the whole file is unusable */
} Reader;

char *ini_file_dir(const char *file) {
        const char *slash = strrchr(file, '/');
        if (!slash)
                return xstrdup(".");
        if (slash == file)
                return xstrdup("/");
        return xstrndup(file, (size_t) (slash - file));
}

/* The slot of name in the index: where it is, or the empty slot where it goes. */
static size_t index_slot(const IniConfig *c, const char *name) {
        size_t mask = c->index_cap - 1, i = str_hash(name) & mask;
        while (c->index[i] && !streq(c->sections[c->index[i] - 1]->name, name))
                i = (i + 1) & mask;
        return i;
}

static void index_add(IniConfig *c, size_t pos) {
        if ((c->n_sections + 1) * 2 > c->index_cap) {
                free(c->index);
                c->index_cap = c->index_cap ? c->index_cap * 2 : 64;
                c->index = xcalloc(c->index_cap, sizeof(size_t));
                for (size_t i = 0; i < c->n_sections; i++)
                        if (i != pos)
                                c->index[index_slot(c, c->sections[i]->name)] = i + 1;
        }
        c->index[index_slot(c, c->sections[pos]->name)] = pos + 1;
}

IniSection *ini_config_find(const IniConfig *c, const char *name) {
        if (!c->index_cap)
                return NULL;
        size_t i = index_slot(c, name);
        return c->index[i] ? c->sections[c->index[i] - 1] : NULL;
}

static IniKey *section_find_key(const IniSection *s, const char *name) {
        for (size_t i = 0; i < s->n_keys; i++)
                if (s->keys[i].name[0] == name[0] && streq(s->keys[i].name, name))
                        return &s->keys[i];
        return NULL;
}

const IniKey *ini_section_lookup(const IniConfig *c, const IniSection *s, const char *key) {
        const IniKey *k = s ? section_find_key(s, key) : NULL;
        return k ? k : section_find_key(&c->defaults, key);
}

static void section_clear(IniSection *s) {
        for (size_t i = 0; i < s->n_keys; i++) {
                free(s->keys[i].name);
                free(s->keys[i].value);
        }
        free(s->keys);
        free(s->name);
}

void ini_config_done(IniConfig *c) {
        for (size_t i = 0; i < c->n_sections; i++) {
                section_clear(c->sections[i]);
                free(c->sections[i]);
        }
        free(c->sections);
        section_clear(&c->defaults);
        for (size_t i = 0; i < c->n_files; i++)
                free(c->files[i]);
        free(c->files);
        free(c->index);
        *c = (IniConfig) {0};
}

static void mark_broken(Reader *r) {
        if (!r->cur) {
                r->file_failed = true;
                return;
        }
        if (!r->cur->broken) {
                r->cur->broken_file = r->file;
                r->cur->broken_line = r->lineno;
        }
        r->cur->broken = true;
}

static void reader_fail_line(Reader *r, const char *fmt, const char *detail) {
        _cleanup_free_ char *msg = xstrdup(fmt);
        char *pct = strstr(msg, "%s");
        if (pct)
                pct[1] = '.';   /* never a format: the text is ours, the detail is not */
        log_error_at(r->file, r->lineno, "%.*s%s%s", pct ? (int) (pct - msg) : (int) strlen(msg), msg,
                     pct ? detail : "", pct ? pct + 2 : "");
        mark_broken(r);
}

static size_t utf8_len(const unsigned char *p, size_t left);

/* Python's str.isspace() on UTF-8 text: the byte length of a whitespace
 * character at p (ASCII or not), 0 if there is none.  configparser strips
 * and indents with this, so we must too. */
static size_t space_at(const char *s, size_t left, uint32_t *ret_cp) {
        static const uint32_t spaces[] = { 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
                                           0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029,
                                           0x202f, 0x205f, 0x3000 };
        const unsigned char *p = (const unsigned char *) s;
        if (left == 0)
                return 0;
        if (p[0] < 0x80) {
                if (ret_cp)
                        *ret_cp = p[0];
                return py_isspace((char) p[0]) ? 1 : 0;
        }
        /* only a whole, valid sequence: "\xe3\x80\xc0" is not U+3000 but
         * invalid UTF-8, which find_problem() must get to see */
        size_t n = utf8_len(p, left);
        uint32_t cp;
        if (n == 2)
                cp = ((uint32_t) (p[0] & 0x1f) << 6) | (p[1] & 0x3f);
        else if (n == 3)
                cp = ((uint32_t) (p[0] & 0x0f) << 12) | ((uint32_t) (p[1] & 0x3f) << 6) | (p[2] & 0x3f);
        else
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(spaces); i++)
                if (spaces[i] == cp) {
                        if (ret_cp)
                                *ret_cp = cp;
                        return n;
                }
        return 0;
}

/* Length of the whitespace character that ends at s[end], 0 if none. */
static size_t space_before(const char *s, size_t end) {
        for (size_t n = 1; n <= 3 && n <= end; n++)
                if (space_at(s + end - n, n, NULL) == n)
                        return n;
        return 0;
}

static const char *space_name(uint32_t cp) {
        switch (cp) {
        case 0x85: return "NEXT LINE";
        case 0xa0: return "NO-BREAK SPACE";
        case 0x1680: return "OGHAM SPACE MARK";
        case 0x2028: return "LINE SEPARATOR";
        case 0x2029: return "PARAGRAPH SEPARATOR";
        case 0x202f: return "NARROW NO-BREAK SPACE";
        case 0x205f: return "MEDIUM MATHEMATICAL SPACE";
        case 0x3000: return "IDEOGRAPHIC SPACE, a full-width space";
        default: return cp >= 0x2000 && cp <= 0x200a ? "a typographic space" :
                        cp >= 0x1c && cp <= 0x1f ? "an ASCII separator control character" : "whitespace";
        }
}

/* Length of a valid UTF-8 sequence at p, 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t left) {
        if (p[0] < 0x80)
                return 1;
        size_t n;
        uint32_t min;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                n = 2, min = 0x80;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                n = 3, min = 0x800;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                n = 4, min = 0x10000;
        else
                return 0;
        if (left < n)
                return 0;
        uint32_t cp = p[0] & (0x7f >> n);
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

/* The column (in characters, from 1) of byte offset off. */
static size_t column_of(const char *line, size_t off) {
        size_t col = 1;
        for (size_t i = 0; i < off; i++)
                if (((unsigned char) line[i] & 0xc0) != 0x80)
                        col++;
        return col;
}

/* Looks in line[from, to) for what supervisor would read silently but not as
 * meant: control characters, invalid UTF-8, a byte order mark, and non-ASCII
 * whitespace (inside a value it is part of the value to supervisor).
 * Describes the first into buf and returns true. */
static bool find_problem(const char *line, size_t from, size_t to, char *buf, size_t size) {
        const unsigned char *p = (const unsigned char *) line;
        for (size_t i = from; i < to;) {
                if ((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\t') {
                        i++;   /* plain ASCII: the common case */
                        continue;
                }
                size_t col = column_of(line, i);
                uint32_t cp;
                if (p[i] >= 0x80 && space_at(line + i, to - i, &cp) > 0) {
                        snprintf(buf, size, "non-ASCII whitespace U+%04X (%s) at column %zu, which supervisor would "
                                 "read as part of the value", (unsigned) cp, space_name(cp), col);
                        return true;
                }
                if (p[i] < 0x20 || p[i] == 0x7f) {
                        snprintf(buf, size, "control character 0x%02x at column %zu, which no unit file can hold",
                                 p[i], col);
                        return true;
                }
                size_t n = utf8_len(p + i, to - i);
                if (n == 0) {
                        snprintf(buf, size, "invalid UTF-8 at column %zu, which supervisor cannot read at all", col);
                        return true;
                }
                if (n == 3 && p[i] == 0xef && p[i + 1] == 0xbb && p[i + 2] == 0xbf) {
                        snprintf(buf, size, "an invisible byte order mark (U+FEFF) at column %zu, which supervisor "
                                 "would read as part of the value", col);
                        return true;
                }
                i += n;
        }
        return false;
}

/* configparser's comment rules: a line whose stripped text starts with '#'
 * or ';' is all comment.  Otherwise RawConfigParser._read() looks for the
 * prefixes in lockstep: each round moves ';' and then '#' to their next
 * occurrence, and the first round in which one of them begins the line or
 * follows whitespace decides (the leftmost of that round).  So in
 * "x#y #z ;w" the comment starts at ';', not at the earlier " #z".
 * Returns where the comment starts (len if there is none). */
static size_t comment_start(const char *line, size_t len) {
        size_t i = 0, n;
        while ((n = space_at(line + i, len - i, NULL)) > 0)
                i += n;
        if (i < len && (line[i] == '#' || line[i] == ';'))
                return 0;
        static const char prefixes[2] = { ';', '#' };
        size_t next[2] = { 0, 0 };     /* where the next search starts */
        bool alive[2] = { true, true };
        for (;;) {
                size_t best = len;
                bool any = false;
                for (int k = 0; k < 2; k++) {
                        if (!alive[k])
                                continue;
                        const char *f = next[k] < len ? memchr(line + next[k], prefixes[k], len - next[k]) : NULL;
                        if (!f) {
                                alive[k] = false;
                                continue;
                        }
                        any = true;
                        size_t at = (size_t) (f - line);
                        next[k] = at + 1;
                        if ((at == 0 || space_before(line, at) > 0) && at < best)
                                best = at;
                }
                if (best < len || !any)
                        return best;
        }
}

/* Strips whitespace (Python's) from [*from, *to).  Returns the first
 * non-ASCII whitespace character stripped, 0 if all of it was ASCII. */
static uint32_t strip_range(const char *line, size_t *from, size_t *to) {
        uint32_t unicode = 0, cp;
        size_t n;
        /* U+001C..U+001F are whitespace to Python, not to inih: reported too */
        while (*from < *to && (n = space_at(line + *from, *to - *from, &cp)) > 0) {
                if ((n > 1 || (cp >= 0x1c && cp <= 0x1f)) && !unicode)
                        unicode = cp;
                *from += n;
        }
        while (*to > *from && (n = space_before(line, *to)) > 0 && *to - n >= *from) {
                (void) space_at(line + *to - n, n, &cp);
                if ((n > 1 || (cp >= 0x1c && cp <= 0x1f)) && !unicode)
                        unicode = cp;
                *to -= n;
        }
        return unicode;
}

static IniSection *config_add_section(IniConfig *c, const char *name, const char *file, unsigned line) {
        if (streq(name, "DEFAULT")) {
                if (!c->defaults.file) {
                        c->defaults.file = file;
                        c->defaults.line = line;
                }
                return &c->defaults;
        }
        IniSection *s = ini_config_find(c, name);
        if (s) {
                /* strict=False: a repeated section merges, the last value of a key wins */
                if (s->file != file && !streq(name, "include"))
                        log_notice_at(file, line, "[%s] is also defined at %s:%u; supervisor merges the two, "
                                      "the later value of a key wins.", name, s->file, s->line);
                return s;
        }
        s = xcalloc(1, sizeof *s);
        s->name = xstrdup(name);
        s->file = file;
        s->line = line;
        c->sections = xrealloc(c->sections, (c->n_sections + 1) * sizeof *c->sections);
        c->sections[c->n_sections] = s;
        index_add(c, c->n_sections);
        c->n_sections++;
        return s;
}

static void reader_set_key(Reader *r, const char *name, const char *value) {
        /* optionxform() = str.lower(), on the stripped name */
        while (py_isspace(*name))
                name++;
        size_t len = strlen(name);
        while (len > 0 && py_isspace(name[len - 1]))
                len--;
        _cleanup_free_ char *n = xstrndup(name, len);
        for (char *p = n; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        if (!*n) {
                reader_fail_line(r, "Line has a value but no key name: '%s', skipping.", value);
                r->cur_key = NULL;
                return;
        }
        IniKey *k = section_find_key(r->cur, n);
        if (!k) {
                if (r->cur->n_keys == r->cur->cap_keys) {
                        r->cur->cap_keys = r->cur->cap_keys ? r->cur->cap_keys * 2 : 16;
                        r->cur->keys = xrealloc(r->cur->keys, r->cur->cap_keys * sizeof *r->cur->keys);
                }
                k = &r->cur->keys[r->cur->n_keys++];
                *k = (IniKey) { .name = TAKE_PTR(n) };
        } else {
                log_debug_at(r->file, r->lineno, "'%s' set again in [%s] (before at %s:%u); the last value wins.", n,
                             r->cur->name ? r->cur->name : "DEFAULT", k->file, k->line);
                free(k->value);
        }
        k->value = xstrdup(value);
        k->file = r->file;
        k->line = r->lineno;
        r->cur_key = k;
        r->pending_blank = 0;
}

static void reader_continue_key(Reader *r, const char *value) {
        StrBuf b = { .s = r->cur_key->value, .len = strlen(r->cur_key->value) };
        b.cap = b.len + 1;
        /* Empty lines inside a value are kept (empty_lines_in_values=True),
         * except at the end, which the final rstrip() removes. */
        for (unsigned i = 0; i <= r->pending_blank; i++)
                sb_addc(&b, '\n');
        sb_add(&b, value);
        r->cur_key->value = b.s;
        r->pending_blank = 0;
}

static int inih_handler(void *user, const char *section, const char *name, const char *value) {
        Reader *r = user;
        reader_set_key(r, name, value);
        return 1;
}

/* Reads the next physical line; returns false at the end of the data. */
static bool next_physical_line(Reader *r, const char **ret_line, size_t *ret_len) {
        if (r->pos >= r->size)
                return false;
        const char *start = r->data + r->pos;
        size_t left = r->size - r->pos, len = 0;
        while (len < left && start[len] != '\n' && start[len] != '\r')
                len++;
        size_t skip = len;
        if (skip < left) {
                if (start[skip] == '\r' && skip + 1 < left && start[skip + 1] == '\n')
                        skip += 2;
                else
                        skip += 1;
        }
        r->pos += skip;
        r->lineno++;
        *ret_line = start;
        *ret_len = len;
        return true;
}

/* Reports a line that cannot be used and breaks its section (or, before
 * any section, the file). */
static void reader_bad_line(Reader *r, const char *key, const char *what, const char *text) {
        if (key)
                log_error_at(r->file, r->lineno, "%s: value '%s' contains %s. Skipping [%s].", key, text, what,
                             r->cur ? r->cur->name : "?");
        else
                log_error_at(r->file, r->lineno, "Line '%s' contains %s, skipping%s%s%s.", text, what,
                             r->cur ? " [" : " the file", r->cur ? r->cur->name : "", r->cur ? "]" : "");
        mark_broken(r);
        r->cur_key = NULL;
}

/* Applies configparser's rules to one physical line.  Returns true when the
 * line is to be handed to inih (r->out holds it), false when it was dealt
 * with here. */
static bool reader_classify(Reader *r, const char *line, size_t len) {
        char what[192];
        size_t content = comment_start(line, len);
        /* Python decodes the whole file: undecodable bytes even in a comment
         * stop supervisor from reading it. */
        for (size_t i = content; i < len;) {
                size_t n = utf8_len((const unsigned char *) line + i, len - i);
                if (n == 0) {
                        snprintf(what, sizeof what, "invalid UTF-8 at column %zu (in a comment), which supervisor "
                                 "cannot read at all", column_of(line, i));
                        _cleanup_free_ char *text = xstrndup(line, content);
                        reader_bad_line(r, NULL, what, text);
                        return false;
                }
                i += n;
        }
        size_t vs = 0, ve = content;
        uint32_t edge_unicode = strip_range(line, &vs, &ve);
        const char *v = line + vs;
        size_t vlen = ve - vs;

        if (vlen == 0) {
                /* An empty line (not a comment line) inside a value is part of it. */
                if (content == len && r->cur_key)
                        r->pending_blank++;
                return false;
        }

        /* NONSPACECRE: indentation counted in characters */
        size_t indent = column_of(line, vs) - 1;

        if (r->cur && r->cur_key && indent > r->indent_level) {
                if (find_problem(line, vs, ve, what, sizeof what)) {
                        _cleanup_free_ char *text = xstrndup(v, vlen);
                        reader_bad_line(r, r->cur_key->name, what, text);
                        return false;
                }
                /* Not through inih: it extends only a key it parsed
                 * itself, and drops the line after one set here (below:
                 * a key whose value has a Unicode edge, or a line starting
                 * with '['). */
                _cleanup_free_ char *text = xstrndup(v, vlen);
                reader_continue_key(r, text);
                return false;
        }
        r->indent_level = indent;
        r->cur_key = NULL;

        /* SECTCRE = r"\[(?P<header>.+)\]", matched at the start: the header
         * runs to the last ']' of the (comment-stripped) line. */
        if (v[0] == '[') {
                const char *close = NULL;
                for (size_t i = vlen; i > 1; i--)
                        if (v[i - 1] == ']') {
                                close = v + i - 1;
                                break;
                        }
                if (close && close > v + 1) {
                        _cleanup_free_ char *name = xstrndup(v + 1, (size_t) (close - v - 1));
                        r->cur = config_add_section(r->config, name, r->file, r->lineno);
                        if (r->cur->name == NULL)
                                r->cur->name = xstrdup("DEFAULT");
                        log_debug_at(r->file, r->lineno, "Section [%s].", name);
                        if (find_problem(line, vs, ve, what, sizeof what))
                                reader_bad_line(r, NULL, what, name);
                        return false;
                }
        }

        if (!r->cur) {
                _cleanup_free_ char *text = xstrndup(v, vlen);
                log_error_at(r->file, r->lineno, "File contains no section header before '%s', skipping file.", text);
                r->file_failed = true;
                return false;
        }

        const char *delim = NULL;
        for (size_t i = 0; i < vlen; i++)
                if (v[i] == '=' || v[i] == ':') {
                        delim = v + i;
                        break;
                }
        if (!delim) {
                _cleanup_free_ char *text = xstrndup(v, vlen);
                if (find_problem(line, vs, ve, what, sizeof what))
                        reader_bad_line(r, NULL, what, text);
                else
                        reader_fail_line(r, "Line is neither a section header nor 'key = value': '%s', skipping.", text);
                return false;
        }

        /* OPTCRE: key, whitespace, the first '=' or ':', whitespace, value */
        size_t ks = vs, ke = (size_t) (delim - line), xs = ke + 1, xe = ve;
        uint32_t cp = strip_range(line, &ks, &ke);
        if (!edge_unicode)
                edge_unicode = cp;
        cp = strip_range(line, &xs, &xe);
        if (!edge_unicode)
                edge_unicode = cp;
        bool bad_key = find_problem(line, ks, ke, what, sizeof what);
        bool bad_value = !bad_key && find_problem(line, xs, xe, what, sizeof what);
        if (!bad_key && !bad_value && !edge_unicode && v[0] != '[') {
                /* the common case: inih splits the line */
                r->out.len = 0;
                sb_addn(&r->out, v, vlen);
                return true;
        }
        _cleanup_free_ char *key = xstrndup(line + ks, ke - ks);
        _cleanup_free_ char *value = xstrndup(line + xs, xe - xs);
        if (bad_key) {
                reader_bad_line(r, NULL, what, key);
                return false;
        }
        if (bad_value) {
                reader_bad_line(r, key, what, value);
                return false;
        }
        if (edge_unicode)
                log_warning_at(r->file, r->lineno,
                               "%s: whitespace U+%04X (%s) around the key or value is stripped, as "
                               "supervisor does; the value is '%s'.", key, (unsigned) edge_unicode,
                               space_name(edge_unicode), value);

        /* inih strips only ASCII whitespace, and takes a line starting with
         * '[' for a (broken) section header: set the key here. */
        reader_set_key(r, key, value);
        return false;
}

/* The ini_reader: fgets() semantics over our cleaned lines. */
static char *reader_fgets(char *str, int num, void *stream) {
        Reader *r = stream;
        if (num <= 1)
                return NULL;

        while (r->out_pos >= r->out.len) {
                const char *line;
                size_t len;
                if (r->file_failed || !next_physical_line(r, &line, &len))
                        return NULL;
                r->out_pos = 0;
                r->out.len = 0;
                if (!reader_classify(r, line, len))
                        continue;
                sb_addc(&r->out, '\n');
        }

        size_t n = r->out.len - r->out_pos;
        if (n > (size_t) num - 1)
                n = (size_t) num - 1;
        memcpy(str, r->out.s + r->out_pos, n);
        str[n] = 0;
        r->out_pos += n;
        return str;
}

/* The longest line, by "\n" (a "\r" only ever shortens one). */
static size_t longest_line(const char *data, size_t size) {
        size_t best = 0;
        for (const char *p = data, *end = data + size; p < end;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = (size_t) ((nl ? nl : end) - p);
                if (len > best)
                        best = len;
                p += len + 1;
        }
        return best;
}

static const char *config_intern_file(IniConfig *c, const char *path) {
        for (size_t i = 0; i < c->n_files; i++)
                if (streq(c->files[i], path))
                        return c->files[i];
        c->files = xrealloc(c->files, (c->n_files + 1) * sizeof *c->files);
        c->files[c->n_files] = xstrdup(path);
        return c->files[c->n_files++];
}

int ini_config_read_buffer(IniConfig *c, const char *path, const char *data, size_t size) {
        Reader r = {
                .config = c,
                .file = config_intern_file(c, path),
                .data = data,
                .size = size,
        };

        if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
                log_error_at(r.file, 1,
                             "File starts with a UTF-8 byte order mark, which supervisor cannot read "
                             "(it reports a missing section header); remove it. Skipping file.");
                return -EBADMSG;
        }
        if (memchr(data, 0, size)) {
                log_error_at(r.file, 0, "File contains a NUL byte, it is not a text file. Skipping file.");
                return -EBADMSG;
        }
        const char *cr = memchr(data, '\r', size);
        if (cr && cr + 1 < data + size && cr[1] == '\n')
                log_debug_at(r.file, 0, "File has CRLF line ends; reading them as supervisor does.");

        /* Size inih's buffer for the longest line so no line is ever split:
         * the line plus its (synthetic) "\n", a NUL, and slack. */
        size_t need = longest_line(data, size) + 3;
#if HAVE_INI_MAX_LINE
        if (need > INT_MAX / 2)
                return log_error_at(r.file, 0, "File has a line too long to read, skipping file."), -E2BIG;
        ini_use_stack = false;
        ini_allow_realloc = true;
        ini_max_line = ini_initial_alloc = (int) (need < 256 ? 256 : need);
#else
        if (need > INIH_STATIC_LINE_MAX + 3) {
                /* Find it, to name it. */
                unsigned ln = 1;
                size_t cur = 0;
                for (size_t i = 0; i < size; i++) {
                        if (data[i] == '\n')
                                ln++, cur = 0;
                        else if (++cur > INIH_STATIC_LINE_MAX)
                                break;
                }
                log_error_at(r.file, ln, "Line is longer than this build's inih can read (%d bytes), skipping file.",
                             INIH_STATIC_LINE_MAX);
                return -E2BIG;
        }
#endif
#if HAVE_INI_ALLOW_INLINE_COMMENTS
        ini_allow_inline_comments = false;   /* comments are stripped by the reader */
        ini_allow_multiline = true;
        ini_start_comment_prefixes = (char *) "";
        ini_stop_on_first_error = false;
#endif
#if HAVE_INI_ALLOW_BOM
        ini_allow_bom = false;
#endif

        log_debug_at(r.file, 0, "Reading.");
        (void) ini_parse_stream(reader_fgets, &r, inih_handler, &r);
        sb_done(&r.out);
        if (r.file_failed)
                return -EBADMSG;
        return 0;
}

int ini_config_read_file(IniConfig *c, const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f) {
                int r = -errno;
                log_error_at(path, 0, "Failed to open: %s, skipping file.", strerror(-r));
                return r;
        }
        struct stat st;
        if (fstat(fileno(f), &st) < 0)
                return log_error_at(path, 0, "Failed to stat: %s, skipping file.", strerror(errno)), -EIO;
        if (!S_ISREG(st.st_mode))
                return log_error_at(path, 0, "Not a regular file, skipping."), -EBADF;
        if ((uint64_t) st.st_size > INI_FILE_MAX)
                return log_error_at(path, 0, "File is larger than %u bytes, skipping.", INI_FILE_MAX), -EFBIG;

        _cleanup_free_ char *data = xmalloc((size_t) st.st_size + 1);
        size_t n = fread(data, 1, (size_t) st.st_size + 1, f);
        if (ferror(f))
                return log_error_at(path, 0, "Failed to read: %s, skipping file.", strerror(errno)), -EIO;
        return ini_config_read_buffer(c, path, data, n);
}
