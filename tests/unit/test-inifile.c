/* test-inifile.c: ini_config_read_buffer() against Python's configparser as
 * supervisor configures it.
 *
 * Every case's tables were computed with /usr/bin/python3 (3.11) by
 * writing the bytes to a file and reading it as supervisor does:
 *
 *     cp = configparser.RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False)
 *     with open(path, encoding='utf-8') as f:    # universal newlines
 *         cp.read_file(f, path)                  # once per file, same cp
 *
 * kv rows (lookup false) are every key of every section, in order, exactly
 * as cp._defaults / cp._sections[s] hold them after reading, with the line
 * number configparser was on when it set the key (taken from _read()'s
 * `lineno` by a recording dict_type); lookup rows are cp.get(s, key,
 * raw=True) for every key of cp.options(s), [DEFAULT] included.  sect rows
 * are cp.sections() in order, with the line each first appeared on.
 *
 * Cases with Python's whitespace that is not ASCII (U+3000, U+00A0, \v, \f,
 * \x1c-\x1f) around a key, a value or a line, or odd bytes inside comments,
 * are read exactly as configparser reads them.  The last group is what we
 * refuse where configparser reads on silently (see inifile.h): such bytes
 * inside a section name, key or value.  For those, Python read a reference
 * file in which each rejected line is replaced by a "#" comment line (or,
 * for a refused section header, the file itself), and `broken` names the
 * sections we must mark.  A BOM, a NUL byte, or anything before the first
 * section header fails the whole file (ret < 0). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inifile.h"
#include "log.h"
#include "strbuf.h"
#include "tap.h"

typedef struct IniKv {
        const char *section;   /* "DEFAULT" for the defaults */
        const char *key;
        const char *value;
        unsigned line;
        bool lookup;           /* an ini_section_lookup() row */
} IniKv;

typedef struct IniSect {
        const char *name;
        unsigned line;
        bool broken;
} IniSect;

typedef struct IniFile {
        const char *data;
        size_t size;
        int ret;               /* 0, or -1 for "< 0" */
} IniFile;

typedef struct IniCase {
        const char *name;
        IniFile files[3];
        bool errors;           /* whether errors must be logged */
        const IniKv *kv;
        const IniSect *sections;
} IniCase;

static const IniKv kv_basic[] = {
        { "program:web", "command", "/usr/bin/web --port 80", 2, false },
        { "program:web", "autostart", "true", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_basic[] = {
        { "program:web", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_empty[] = {
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_empty[] = {
        { NULL, 0, false },
};
static const IniKv kv_only_comments[] = {
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_only_comments[] = {
        { NULL, 0, false },
};
static const IniKv kv_comments_first[] = {
        { "s", "a", "1", 5, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_comments_first[] = {
        { "s", 4, false },
        { NULL, 0, false },
};
static const IniKv kv_full_line_comments[] = {
        { "s", "a", "1", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_full_line_comments[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_inline_comments[] = {
        { "s", "a", "b", 2, false },
        { "s", "b", "b;c", 3, false },
        { "s", "c", "b", 4, false },
        { "s", "d", "b#c", 5, false },
        { "s", "e", "", 6, false },
        { "s", "f", "#c", 7, false },
        { "s", "g", "x", 8, false },
        { "s", "h", "", 9, false },
        { "s", "i", "a", 10, false },
        { "s", "j", "a;b", 11, false },
        { "s", "k", "", 12, false },
        { "s", "l", ";c", 13, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_inline_comments[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_inline_comment_order[] = {
        { "s", "a", "x#y #z", 2, false },
        { "s", "b", "x;y ;z", 3, false },
        { "s", "c", "p#q", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_inline_comment_order[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_header_comments[] = {
        { "s", "a", "1", 2, false },
        { "t", "b", "2", 4, false },
        { "u", "c", "3", 6, false },
        { "v", "d", "4", 8, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_header_comments[] = {
        { "s", 1, false },
        { "t", 3, false },
        { "u", 5, false },
        { "v", 7, false },
        { NULL, 0, false },
};
static const IniKv kv_continuation[] = {
        { "s", "command", "a\nb\nc", 2, false },
        { "s", "next", "1", 5, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_continuation[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_continuation_tab[] = {
        { "s", "a", "1\nb\nc", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_continuation_tab[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_continuation_relative[] = {
        { "s", "a", "1", 2, false },
        { "s", "b", "2\nc", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_continuation_relative[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_dedent_key[] = {
        { "s", "a", "1", 2, false },
        { "s", "b", "2\nc", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_dedent_key[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_continuation_keys[] = {
        { "s", "a", "1\nb = 2\nc = 3", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_continuation_keys[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_empty_lines_in_value[] = {
        { "s", "a", "1\n\n2\n\n\n3", 2, false },
        { "s", "b", "x", 8, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_empty_lines_in_value[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_trailing_blank_dropped[] = {
        { "s", "a", "1\n2", 2, false },
        { "t", "b", "1", 7, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_trailing_blank_dropped[] = {
        { "s", 1, false },
        { "t", 6, false },
        { NULL, 0, false },
};
static const IniKv kv_blank_then_key[] = {
        { "s", "a", "1", 2, false },
        { "s", "b", "2", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_blank_then_key[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_comment_in_value[] = {
        { "s", "a", "1\n2\n3", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_comment_in_value[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_comment_only_continuation[] = {
        { "s", "a", "1\n2", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_comment_only_continuation[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_comment_ends_nothing[] = {
        { "s", "a", "1\n\n2", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_comment_ends_nothing[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_empty_first_value[] = {
        { "s", "a", "\nx\ny", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_empty_first_value[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_blank_with_spaces[] = {
        { "s", "a", "1\n\n2", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_blank_with_spaces[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_continuation_comment[] = {
        { "s", "a", "1\n2\n3#notc", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_continuation_comment[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_delimiters[] = {
        { "s", "a", "b:c", 2, false },
        { "s", "d", "e=f", 3, false },
        { "s", "url", "http://x:80/", 4, false },
        { "s", "g", "=h", 5, false },
        { "s", "i", ":j", 6, false },
        { "s", "k", "l", 7, false },
        { "s", "m", "=n", 8, false },
        { "s", "o", ":p", 9, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_delimiters[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_lower_case[] = {
        { "s", "command", "x", 2, false },
        { "s", "autostart", "true", 3, false },
        { "s", "mixed_case", "y", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_lower_case[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_key_spaces[] = {
        { "s", "my key", "v\nsp  =  v", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_key_spaces[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_duplicate_keys[] = {
        { "s", "a", "4", 5, false },
        { "s", "b", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_duplicate_keys[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_duplicate_sections[] = {
        { "s", "a", "3", 7, false },
        { "s", "b", "2", 6, false },
        { "t", "x", "1", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_duplicate_sections[] = {
        { "s", 1, false },
        { "t", 3, false },
        { NULL, 0, false },
};
static const IniKv kv_default[] = {
        { "DEFAULT", "x", "1", 2, false },
        { "DEFAULT", "y", "2", 3, false },
        { "s", "y", "3", 5, false },
        { "s", "y", "3", 0, true },
        { "s", "x", "1", 0, true },
        { "t", "x", "1", 0, true },
        { "t", "y", "2", 0, true },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_default[] = {
        { "s", 4, false },
        { "t", 6, false },
        { NULL, 0, false },
};
static const IniKv kv_default_after[] = {
        { "DEFAULT", "d", "4", 4, false },
        { "DEFAULT", "a", "5", 5, false },
        { "s", "a", "1", 2, false },
        { "t", "d", "6", 7, false },
        { "s", "a", "1", 0, true },
        { "s", "d", "4", 0, true },
        { "t", "d", "6", 0, true },
        { "t", "a", "5", 0, true },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_default_after[] = {
        { "s", 1, false },
        { "t", 6, false },
        { NULL, 0, false },
};
static const IniKv kv_default_twice[] = {
        { "DEFAULT", "x", "2", 5, false },
        { "DEFAULT", "y", "3", 6, false },
        { "s", "x", "2", 0, true },
        { "s", "y", "3", 0, true },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_default_twice[] = {
        { "s", 3, false },
        { NULL, 0, false },
};
static const IniKv kv_default_lowercase[] = {
        { "default", "x", "1", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_default_lowercase[] = {
        { "default", 1, false },
        { "s", 3, false },
        { NULL, 0, false },
};
static const IniKv kv_header_greedy[] = {
        { "a]b", "x", "1", 2, false },
        { "c] junk ", "y", "2", 4, false },
        { " sp ", "z", "3", 6, false },
        { "]", "w", "4", 8, false },
        { "[x]", "v", "5", 10, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_header_greedy[] = {
        { "a]b", 1, false },
        { "c] junk ", 3, false },
        { " sp ", 5, false },
        { "]", 7, false },
        { "[x]", 9, false },
        { NULL, 0, false },
};
static const IniKv kv_header_trailing[] = {
        { "a", "x", "1", 2, false },
        { "b", "y", "2", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_header_trailing[] = {
        { "a", 1, false },
        { "b", 3, false },
        { NULL, 0, false },
};
static const IniKv kv_header_unclosed_is_key[] = {
        { "s", "[a", "b", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_header_unclosed_is_key[] = {
        { "s", 1, false },
        { "c: d", 3, false },
        { NULL, 0, false },
};
static const IniKv kv_header_semicolon[] = {
        { "s;x", "a", "1", 2, false },
        { "p#q", "b", "2", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_header_semicolon[] = {
        { "s;x", 1, false },
        { "p#q", 3, false },
        { NULL, 0, false },
};
static const IniKv kv_long_section_name[] = {
        { "program:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "a", "1", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_long_section_name[] = {
        { "program:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_long_key_name[] = {
        { "s", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", "v", 2, false },
        { "s", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", "w", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_long_key_name[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_crlf[] = {
        { "s", "a", "1\n2", 2, false },
        { "s", "b", "3", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_crlf[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_cr[] = {
        { "s", "a", "1\n2", 2, false },
        { "s", "b", "3", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_cr[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_mixed_line_ends[] = {
        { "s", "a", "1", 2, false },
        { "s", "b", "2", 3, false },
        { "s", "c", "3", 4, false },
        { "t", "d", "4", 7, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_mixed_line_ends[] = {
        { "s", 1, false },
        { "t", 5, false },
        { NULL, 0, false },
};
static const IniKv kv_cr_cr_lf[] = {
        { "s", "a", "1\n\n2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_cr_cr_lf[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_no_final_newline[] = {
        { "s", "a", "1", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_no_final_newline[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_strip_value[] = {
        { "s", "a", "spaced out", 2, false },
        { "s", "b", "x", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_strip_value[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_indented_header[] = {
        { "s", "a", "1\nb = 2", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_indented_header[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_header_as_continuation[] = {
        { "s", "a", "1\n[t]", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_header_as_continuation[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_specials[] = {
        { "s", "command", "echo %(program_name)s $HOME \\n 'q' \"d\"", 2, false },
        { "s", "environment", "A=\"x,y\",B='z'", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_specials[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_unicode_values[] = {
        { "s", "name", "héllo wörld 日本", 2, false },
        { "prögram:ü", "x", "ü", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_unicode_values[] = {
        { "s", 1, false },
        { "prögram:ü", 3, false },
        { NULL, 0, false },
};
/* Python's str.lower() would give "kéy" and "über"; we lower-case ASCII
 * only, a documented deviation (no supervisor key has a non-ASCII letter). */
static const IniKv kv_unicode_key[] = {
        { "s", "k\303\211y", "1", 2, false },
        { "s", "\303\234ber", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_unicode_key[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_tab_in_value[] = {
        { "s", "a", "x\ty", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_tab_in_value[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_empty_values[] = {
        { "s", "a", "", 2, false },
        { "s", "b", "", 3, false },
        { "s", "c", "", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_empty_values[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_indented_first_key[] = {
        { "s", "a", "1", 2, false },
        { "s", "b", "2\nc", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_indented_first_key[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_section_no_keys[] = {
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_section_no_keys[] = {
        { "a", 1, false },
        { "b", 2, false },
        { "c", 3, false },
        { NULL, 0, false },
};
static const IniKv kv_many_sections[] = {
        { "program:a", "command", "a", 2, false },
        { "program:b", "command", "b", 4, false },
        { "group:g", "programs", "a,b", 6, false },
        { "fcgi-program:f", "socket", "tcp://localhost:9000", 8, false },
        { "eventlistener:e", "events", "PROCESS_STATE", 10, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_many_sections[] = {
        { "program:a", 1, false },
        { "program:b", 3, false },
        { "group:g", 5, false },
        { "fcgi-program:f", 7, false },
        { "eventlistener:e", 9, false },
        { NULL, 0, false },
};
static const IniKv kv_default_continuation[] = {
        { "DEFAULT", "d", "1\n2", 2, false },
        { "s", "e", "3", 5, false },
        { "s", "e", "3", 0, true },
        { "s", "d", "1\n2", 0, true },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_default_continuation[] = {
        { "s", 4, false },
        { NULL, 0, false },
};
static const IniKv kv_header_then_comment_then_key[] = {
        { "s", "a", "1", 3, false },
        { "s", "b", "2", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_header_then_comment_then_key[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_empty_lines_cr[] = {
        { "s", "a", "1\n\n2", 2, false },
        { "s", "b", "3", 7, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_empty_lines_cr[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_continuation_after_reopen[] = {
        { "s", "a", "1", 2, false },
        { "s", "c", "3\n4", 6, false },
        { "t", "b", "2", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_continuation_after_reopen[] = {
        { "s", 1, false },
        { "t", 3, false },
        { NULL, 0, false },
};
static const IniKv kv_key_only_delims[] = {
        { "s", "a", "=", 2, false },
        { "s", "b", "::", 3, false },
        { "s", "c", ":=", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_key_only_delims[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_value_brackets[] = {
        { "s", "a", "[x]", 2, false },
        { "s", "b", "[", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_value_brackets[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_two_files[] = {
        { "s", "a", "3", 2, false },
        { "s", "b", "2", 3, false },
        { "t", "c", "4", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_two_files[] = {
        { "s", 1, false },
        { "t", 3, false },
        { NULL, 0, false },
};
static const IniKv kv_two_files_no_carry[] = {
        { "s", "a", "1", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_two_files_no_carry[] = {
        { "s", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_two_files_default[] = {
        { "DEFAULT", "d", "2", 2, false },
        { "s", "d", "2", 0, true },
        { "t", "d", "2", 0, true },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_two_files_default[] = {
        { "s", 3, false },
        { "t", 3, false },
        { NULL, 0, false },
};
static const IniKv kv_u3000_indent[] = {
        { "a", "x", "1", 2, false },
        { "b", "y", "1", 4, false },
        { "b", "z", "2", 5, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_u3000_indent[] = {
        { "a", 1, false },
        { "b", 3, false },
        { NULL, 0, false },
};
static const IniKv kv_u3000_continuation[] = {
        { "b", "y", "1\nmore", 2, false },
        { "b", "z", "2", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_u3000_continuation[] = {
        { "b", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_nbsp_key[] = {
        { "b", "y", "1", 2, false },
        { "b", "z", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_nbsp_key[] = {
        { "b", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_edge_u3000_value[] = {
        { "b", "y", "a", 2, false },
        { "b", "w", "b", 3, false },
        { "b", "z", "2", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_edge_u3000_value[] = {
        { "b", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_ff_line[] = {
        { "b", "z", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_ff_line[] = {
        { "b", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_vt_fs_lines[] = {
        { "b", "z", "1\n\n\n2", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_vt_fs_lines[] = {
        { "b", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_ascii_space_edges[] = {
        { "b", "z", "v", 2, false },
        { "c", "k", "1", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_ascii_space_edges[] = {
        { "b", 1, false },
        { "c", 3, false },
        { NULL, 0, false },
};
static const IniKv kv_control_in_comment[] = {
        { "b", "z", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_control_in_comment[] = {
        { "b", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_control_in_inline_comment[] = {
        { "b", "y", "1", 2, false },
        { "b", "z", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_control_in_inline_comment[] = {
        { "b", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_u3000_in_comment[] = {
        { "b", "y", "1", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_u3000_in_comment[] = {
        { "b", 1, false },
        { NULL, 0, false },
};
static const IniKv kv_bom[] = {
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_bom[] = {
        { NULL, 0, false },
};
static const IniKv kv_nul[] = {
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_nul[] = {
        { NULL, 0, false },
};
static const IniKv kv_key_before_section[] = {
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_key_before_section[] = {
        { NULL, 0, false },
};
static const IniKv kv_control_before_section[] = {
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_control_before_section[] = {
        { NULL, 0, false },
};
static const IniKv kv_u3000_value[] = {
        { "a", "x", "1", 2, false },
        { "b", "z", "2", 5, false },
        { "c", "w", "3", 7, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_u3000_value[] = {
        { "a", 1, false },
        { "b", 3, true },
        { "c", 6, false },
        { NULL, 0, false },
};
static const IniKv kv_nbsp_value[] = {
        { "b", "z", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_nbsp_value[] = {
        { "b", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_nel_value[] = {
        { "b", "z", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_nel_value[] = {
        { "b", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_feff_value[] = {
        { "a", "y", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_feff_value[] = {
        { "a", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_control_value[] = {
        { "a", "x", "1", 2, false },
        { "b", "z", "2", 5, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_control_value[] = {
        { "a", 1, false },
        { "b", 3, true },
        { NULL, 0, false },
};
static const IniKv kv_vt_value[] = {
        { "b", "z", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_vt_value[] = {
        { "b", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_esc_value[] = {
        { "b", "z", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_esc_value[] = {
        { "b", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_del_value[] = {
        { "b", "z", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_del_value[] = {
        { "b", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_invalid_utf8[] = {
        { "a", "x", "1", 2, false },
        { "b", "z", "2", 5, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_invalid_utf8[] = {
        { "a", 1, false },
        { "b", 3, true },
        { NULL, 0, false },
};
static const IniKv kv_overlong_utf8[] = {
        { "b", "z", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_overlong_utf8[] = {
        { "b", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_surrogate_utf8[] = {
        { "b", "z", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_surrogate_utf8[] = {
        { "b", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_truncated_utf8[] = {
        { "b", "z", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_truncated_utf8[] = {
        { "b", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_truncated_utf8_eof[] = {
        { "b", "z", "2", 2, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_truncated_utf8_eof[] = {
        { "b", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_no_delimiter[] = {
        { "a", "x", "1", 2, false },
        { "b", "y", "2", 5, false },
        { "c", "z", "3", 7, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_no_delimiter[] = {
        { "a", 1, false },
        { "b", 3, true },
        { "c", 6, false },
        { NULL, 0, false },
};
static const IniKv kv_empty_header[] = {
        { "a", "x", "1", 2, false },
        { "a", "y", "2", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_empty_header[] = {
        { "a", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_commented_header[] = {
        { "a", "x", "1", 2, false },
        { "a", "y", "2", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_commented_header[] = {
        { "a", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_no_key_name[] = {
        { "a", "x", "1", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_no_key_name[] = {
        { "a", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_no_key_name_colon[] = {
        { "a", "x", "1", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_no_key_name_colon[] = {
        { "a", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_bad_line_ends_value[] = {
        { "a", "x", "1", 2, false },
        { "a", "y", "2", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_bad_line_ends_value[] = {
        { "a", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_inner_u3000_key[] = {
        { "b", "z", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_inner_u3000_key[] = {
        { "b", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_inner_nbsp_continuation[] = {
        { "b", "y", "1", 2, false },
        { "b", "z", "2", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_inner_nbsp_continuation[] = {
        { "b", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_control_continuation[] = {
        { "b", "y", "1", 2, false },
        { "b", "z", "2", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_control_continuation[] = {
        { "b", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_header_u3000[] = {
        { "a", "x", "1", 2, false },
        { "b\343\200\200c", "y", "2", 4, false },
        { "d", "w", "3", 6, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_header_u3000[] = {
        { "a", 1, false },
        { "b\343\200\200c", 3, true },
        { "d", 5, false },
        { NULL, 0, false },
};
static const IniKv kv_header_control[] = {
        { "a", "x", "1", 2, false },
        { "b\001", "y", "2", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_header_control[] = {
        { "a", 1, false },
        { "b\001", 3, true },
        { NULL, 0, false },
};
static const IniKv kv_comment_hides_delimiter[] = {
        { "a", "y", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_comment_hides_delimiter[] = {
        { "a", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_only_equals[] = {
        { "a", "y", "2", 3, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_only_equals[] = {
        { "a", 1, true },
        { NULL, 0, false },
};
static const IniKv kv_broken_then_fine[] = {
        { "a", "y", "2", 6, false },
        { "b", "x", "1", 4, false },
        { NULL, NULL, NULL, 0, false },
};
static const IniSect sect_broken_then_fine[] = {
        { "a", 1, true },
        { "b", 3, false },
        { NULL, 0, false },
};
static const IniCase cases[] = {
        { "basic", { { "[program:web]\ncommand = /usr/bin/web --port 80\nautostart=true\n", sizeof("[program:web]\ncommand = /usr/bin/web --port 80\nautostart=true\n") - 1, 0 } }, false, kv_basic, sect_basic },
        { "empty", { { "", sizeof("") - 1, 0 } }, false, kv_empty, sect_empty },
        { "only_comments", { { "# c\n; c\n\n   \n", sizeof("# c\n; c\n\n   \n") - 1, 0 } }, false, kv_only_comments, sect_only_comments },
        { "comments_first", { { "; hello\n# x\n\n[s]\na=1\n", sizeof("; hello\n# x\n\n[s]\na=1\n") - 1, 0 } }, false, kv_comments_first, sect_comments_first },
        { "full_line_comments", { { "[s]\n  # indented comment\n\t; tab comment\na = 1\n#a = 2\n;b = 3\n", sizeof("[s]\n  # indented comment\n\t; tab comment\na = 1\n#a = 2\n;b = 3\n") - 1, 0 } }, false, kv_full_line_comments, sect_full_line_comments },
        { "inline_comments", { { "[s]\na = b ;c\nb = b;c\nc = b #c\nd = b#c\ne = #c\nf=#c\ng = x\t;c\nh = ;\ni = a ; b ; c\nj = a;b ;c\nk = ;;\nl=;c\n", sizeof("[s]\na = b ;c\nb = b;c\nc = b #c\nd = b#c\ne = #c\nf=#c\ng = x\t;c\nh = ;\ni = a ; b ; c\nj = a;b ;c\nk = ;;\nl=;c\n") - 1, 0 } }, false, kv_inline_comments, sect_inline_comments },
        { "inline_comment_order", { { "[s]\na = x#y #z ;w\nb = x;y ;z #w\nc = p#q ;r #s\n", sizeof("[s]\na = x#y #z ;w\nb = x;y ;z #w\nc = p#q ;r #s\n") - 1, 0 } }, false, kv_inline_comment_order, sect_inline_comment_order },
        { "header_comments", { { "[s] ; comment\na=1\n[t];c\nb=2\n[u]#c\nc=3\n[v] # [w]\nd=4\n", sizeof("[s] ; comment\na=1\n[t];c\nb=2\n[u]#c\nc=3\n[v] # [w]\nd=4\n") - 1, 0 } }, false, kv_header_comments, sect_header_comments },
        { "continuation", { { "[s]\ncommand = a\n  b\n  c\nnext = 1\n", sizeof("[s]\ncommand = a\n  b\n  c\nnext = 1\n") - 1, 0 } }, false, kv_continuation, sect_continuation },
        { "continuation_tab", { { "[s]\na = 1\n\tb\n \tc\n", sizeof("[s]\na = 1\n\tb\n \tc\n") - 1, 0 } }, false, kv_continuation_tab, sect_continuation_tab },
        { "continuation_relative", { { "[s]\n  a = 1\n  b = 2\n   c\n", sizeof("[s]\n  a = 1\n  b = 2\n   c\n") - 1, 0 } }, false, kv_continuation_relative, sect_continuation_relative },
        { "dedent_key", { { "[s]\n  a = 1\nb = 2\n c\n", sizeof("[s]\n  a = 1\nb = 2\n c\n") - 1, 0 } }, false, kv_dedent_key, sect_dedent_key },
        { "continuation_keys", { { "[s]\na = 1\n  b = 2\n  c = 3\n", sizeof("[s]\na = 1\n  b = 2\n  c = 3\n") - 1, 0 } }, false, kv_continuation_keys, sect_continuation_keys },
        { "empty_lines_in_value", { { "[s]\na = 1\n\n  2\n\n\n  3\nb = x\n", sizeof("[s]\na = 1\n\n  2\n\n\n  3\nb = x\n") - 1, 0 } }, false, kv_empty_lines_in_value, sect_empty_lines_in_value },
        { "trailing_blank_dropped", { { "[s]\na = 1\n  2\n\n\n[t]\nb = 1\n\n\n", sizeof("[s]\na = 1\n  2\n\n\n[t]\nb = 1\n\n\n") - 1, 0 } }, false, kv_trailing_blank_dropped, sect_trailing_blank_dropped },
        { "blank_then_key", { { "[s]\na = 1\n\nb = 2\n", sizeof("[s]\na = 1\n\nb = 2\n") - 1, 0 } }, false, kv_blank_then_key, sect_blank_then_key },
        { "comment_in_value", { { "[s]\na = 1\n# c\n  2\n  ; d\n  3\n", sizeof("[s]\na = 1\n# c\n  2\n  ; d\n  3\n") - 1, 0 } }, false, kv_comment_in_value, sect_comment_in_value },
        { "comment_only_continuation", { { "[s]\na = 1\n  ;x\n  2\n  #y\n", sizeof("[s]\na = 1\n  ;x\n  2\n  #y\n") - 1, 0 } }, false, kv_comment_only_continuation, sect_comment_only_continuation },
        { "comment_ends_nothing", { { "[s]\na = 1\n#c\n\n  2\n", sizeof("[s]\na = 1\n#c\n\n  2\n") - 1, 0 } }, false, kv_comment_ends_nothing, sect_comment_ends_nothing },
        { "empty_first_value", { { "[s]\na =\n  x\n  y\n", sizeof("[s]\na =\n  x\n  y\n") - 1, 0 } }, false, kv_empty_first_value, sect_empty_first_value },
        { "blank_with_spaces", { { "[s]\na = 1\n   \n  2\n\t\n", sizeof("[s]\na = 1\n   \n  2\n\t\n") - 1, 0 } }, false, kv_blank_with_spaces, sect_blank_with_spaces },
        { "continuation_comment", { { "[s]\na = 1\n  2 ;c\n  3#notc\n", sizeof("[s]\na = 1\n  2 ;c\n  3#notc\n") - 1, 0 } }, false, kv_continuation_comment, sect_continuation_comment },
        { "delimiters", { { "[s]\na = b:c\nd: e=f\nurl = http://x:80/\ng:=h\ni=:j\nk : l\nm==n\no::p\n", sizeof("[s]\na = b:c\nd: e=f\nurl = http://x:80/\ng:=h\ni=:j\nk : l\nm==n\no::p\n") - 1, 0 } }, false, kv_delimiters, sect_delimiters },
        { "lower_case", { { "[s]\nCommand = x\nAUTOSTART = true\nMixed_Case = y\n", sizeof("[s]\nCommand = x\nAUTOSTART = true\nMixed_Case = y\n") - 1, 0 } }, false, kv_lower_case, sect_lower_case },
        { "key_spaces", { { "[s]\nmy key = v\n  sp  =  v  \n", sizeof("[s]\nmy key = v\n  sp  =  v  \n") - 1, 0 } }, false, kv_key_spaces, sect_key_spaces },
        { "duplicate_keys", { { "[s]\na = 1\nb = 2\na = 3\nA = 4\n", sizeof("[s]\na = 1\nb = 2\na = 3\nA = 4\n") - 1, 0 } }, false, kv_duplicate_keys, sect_duplicate_keys },
        { "duplicate_sections", { { "[s]\na=1\n[t]\nx=1\n[s]\nb=2\na=3\n", sizeof("[s]\na=1\n[t]\nx=1\n[s]\nb=2\na=3\n") - 1, 0 } }, false, kv_duplicate_sections, sect_duplicate_sections },
        { "default", { { "[DEFAULT]\nx = 1\ny = 2\n[s]\ny = 3\n[t]\n", sizeof("[DEFAULT]\nx = 1\ny = 2\n[s]\ny = 3\n[t]\n") - 1, 0 } }, false, kv_default, sect_default },
        { "default_after", { { "[s]\na=1\n[DEFAULT]\nd=4\nA=5\n[t]\nd=6\n", sizeof("[s]\na=1\n[DEFAULT]\nd=4\nA=5\n[t]\nd=6\n") - 1, 0 } }, false, kv_default_after, sect_default_after },
        { "default_twice", { { "[DEFAULT]\nx=1\n[s]\n[DEFAULT]\nx=2\ny=3\n", sizeof("[DEFAULT]\nx=1\n[s]\n[DEFAULT]\nx=2\ny=3\n") - 1, 0 } }, false, kv_default_twice, sect_default_twice },
        { "default_lowercase", { { "[default]\nx=1\n[s]\n", sizeof("[default]\nx=1\n[s]\n") - 1, 0 } }, false, kv_default_lowercase, sect_default_lowercase },
        { "header_greedy", { { "[a]b]\nx=1\n[c] junk ]\ny=2\n[ sp ]\nz=3\n[]]\nw=4\n[[x]]\nv=5\n", sizeof("[a]b]\nx=1\n[c] junk ]\ny=2\n[ sp ]\nz=3\n[]]\nw=4\n[[x]]\nv=5\n") - 1, 0 } }, false, kv_header_greedy, sect_header_greedy },
        { "header_trailing", { { "[a] = b\nx=1\n[b]junk\ny=2\n", sizeof("[a] = b\nx=1\n[b]junk\ny=2\n") - 1, 0 } }, false, kv_header_trailing, sect_header_trailing },
        { "header_unclosed_is_key", { { "[s]\n[a = b\n[c: d]\n", sizeof("[s]\n[a = b\n[c: d]\n") - 1, 0 } }, false, kv_header_unclosed_is_key, sect_header_unclosed_is_key },
        { "header_semicolon", { { "[s;x]\na=1\n[p#q]\nb=2\n", sizeof("[s;x]\na=1\n[p#q]\nb=2\n") - 1, 0 } }, false, kv_header_semicolon, sect_header_semicolon },
        { "long_section_name", { { "[program:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]\na=1\n", sizeof("[program:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]\na=1\n") - 1, 0 } }, false, kv_long_section_name, sect_long_section_name },
        { "long_key_name", { { "[s]\nkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk = v\nKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK=w\n", sizeof("[s]\nkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk = v\nKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK=w\n") - 1, 0 } }, false, kv_long_key_name, sect_long_key_name },
        { "crlf", { { "[s]\r\na = 1\r\n  2\r\nb = 3\r\n", sizeof("[s]\r\na = 1\r\n  2\r\nb = 3\r\n") - 1, 0 } }, false, kv_crlf, sect_crlf },
        { "cr", { { "[s]\ra = 1\r  2\rb = 3\r", sizeof("[s]\ra = 1\r  2\rb = 3\r") - 1, 0 } }, false, kv_cr, sect_cr },
        { "mixed_line_ends", { { "[s]\r\na=1\rb=2\nc=3\r\n[t]\n\rd=4", sizeof("[s]\r\na=1\rb=2\nc=3\r\n[t]\n\rd=4") - 1, 0 } }, false, kv_mixed_line_ends, sect_mixed_line_ends },
        { "cr_cr_lf", { { "[s]\r\r\na = 1\r\r\n  2\r\n", sizeof("[s]\r\r\na = 1\r\r\n  2\r\n") - 1, 0 } }, false, kv_cr_cr_lf, sect_cr_cr_lf },
        { "no_final_newline", { { "[s]\na = 1", sizeof("[s]\na = 1") - 1, 0 } }, false, kv_no_final_newline, sect_no_final_newline },
        { "strip_value", { { "[s]\na =   spaced out   \t\nb=\tx\t\n", sizeof("[s]\na =   spaced out   \t\nb=\tx\t\n") - 1, 0 } }, false, kv_strip_value, sect_strip_value },
        { "indented_header", { { "  [s]\na = 1\n b = 2\n", sizeof("  [s]\na = 1\n b = 2\n") - 1, 0 } }, false, kv_indented_header, sect_indented_header },
        { "header_as_continuation", { { "[s]\na = 1\n  [t]\n", sizeof("[s]\na = 1\n  [t]\n") - 1, 0 } }, false, kv_header_as_continuation, sect_header_as_continuation },
        { "specials", { { "[s]\ncommand = echo %(program_name)s $HOME \\n 'q' \"d\"\nenvironment = A=\"x,y\",B='z'\n", sizeof("[s]\ncommand = echo %(program_name)s $HOME \\n 'q' \"d\"\nenvironment = A=\"x,y\",B='z'\n") - 1, 0 } }, false, kv_specials, sect_specials },
        { "unicode_values", { { "[s]\nname = h\303\251llo w\303\266rld \346\227\245\346\234\254\n[pr\303\266gram:\303\274]\nx = \303\274\n", sizeof("[s]\nname = h\303\251llo w\303\266rld \346\227\245\346\234\254\n[pr\303\266gram:\303\274]\nx = \303\274\n") - 1, 0 } }, false, kv_unicode_values, sect_unicode_values },
        { "unicode_key", { { "[s]\nK\303\211Y = 1\n\303\234ber = 2\n", sizeof("[s]\nK\303\211Y = 1\n\303\234ber = 2\n") - 1, 0 } }, false, kv_unicode_key, sect_unicode_key },
        { "tab_in_value", { { "[s]\na = x\ty\n", sizeof("[s]\na = x\ty\n") - 1, 0 } }, false, kv_tab_in_value, sect_tab_in_value },
        { "empty_values", { { "[s]\na =\nb:\nc = ;c\n", sizeof("[s]\na =\nb:\nc = ;c\n") - 1, 0 } }, false, kv_empty_values, sect_empty_values },
        { "indented_first_key", { { "[s]\n    a = 1\n    b = 2\n     c\n", sizeof("[s]\n    a = 1\n    b = 2\n     c\n") - 1, 0 } }, false, kv_indented_first_key, sect_indented_first_key },
        { "section_no_keys", { { "[a]\n[b]\n[c]\n", sizeof("[a]\n[b]\n[c]\n") - 1, 0 } }, false, kv_section_no_keys, sect_section_no_keys },
        { "many_sections", { { "[program:a]\ncommand=a\n[program:b]\ncommand=b\n[group:g]\nprograms=a,b\n[fcgi-program:f]\nsocket=tcp://localhost:9000\n[eventlistener:e]\nevents=PROCESS_STATE\n", sizeof("[program:a]\ncommand=a\n[program:b]\ncommand=b\n[group:g]\nprograms=a,b\n[fcgi-program:f]\nsocket=tcp://localhost:9000\n[eventlistener:e]\nevents=PROCESS_STATE\n") - 1, 0 } }, false, kv_many_sections, sect_many_sections },
        { "default_continuation", { { "[DEFAULT]\nd = 1\n  2\n[s]\ne = 3\n", sizeof("[DEFAULT]\nd = 1\n  2\n[s]\ne = 3\n") - 1, 0 } }, false, kv_default_continuation, sect_default_continuation },
        { "header_then_comment_then_key", { { "[s]\n#c\n  a=1\n  b=2\n", sizeof("[s]\n#c\n  a=1\n  b=2\n") - 1, 0 } }, false, kv_header_then_comment_then_key, sect_header_then_comment_then_key },
        { "empty_lines_cr", { { "[s]\ra = 1\r\r  2\r\r\rb = 3\r", sizeof("[s]\ra = 1\r\r  2\r\r\rb = 3\r") - 1, 0 } }, false, kv_empty_lines_cr, sect_empty_lines_cr },
        { "continuation_after_reopen", { { "[s]\na = 1\n[t]\nb = 2\n[s]\nc = 3\n  4\n", sizeof("[s]\na = 1\n[t]\nb = 2\n[s]\nc = 3\n  4\n") - 1, 0 } }, false, kv_continuation_after_reopen, sect_continuation_after_reopen },
        { "key_only_delims", { { "[s]\na = =\nb = ::\nc=:=\n", sizeof("[s]\na = =\nb = ::\nc=:=\n") - 1, 0 } }, false, kv_key_only_delims, sect_key_only_delims },
        { "value_brackets", { { "[s]\na = [x]\nb = [\n", sizeof("[s]\na = [x]\nb = [\n") - 1, 0 } }, false, kv_value_brackets, sect_value_brackets },
        { "two_files", { { "[s]\na=1\nb=2\n", sizeof("[s]\na=1\nb=2\n") - 1, 0 }, { "[s]\na=3\n[t]\nc=4\n", sizeof("[s]\na=3\n[t]\nc=4\n") - 1, 0 } }, false, kv_two_files, sect_two_files },
        { "two_files_no_carry", { { "[s]\na=1\n", sizeof("[s]\na=1\n") - 1, 0 }, { "  x=2\n[t]\ny=3\n", sizeof("  x=2\n[t]\ny=3\n") - 1, -1 } }, true, kv_two_files_no_carry, sect_two_files_no_carry },
        { "two_files_default", { { "[DEFAULT]\nd=1\n[s]\n", sizeof("[DEFAULT]\nd=1\n[s]\n") - 1, 0 }, { "[DEFAULT]\nd=2\n[t]\n", sizeof("[DEFAULT]\nd=2\n[t]\n") - 1, 0 } }, false, kv_two_files_default, sect_two_files_default },
        { "u3000_indent", { { "[a]\nx=1\n[b]\n\343\200\200y=1\nz=2\n", sizeof("[a]\nx=1\n[b]\n\343\200\200y=1\nz=2\n") - 1, 0 } }, false, kv_u3000_indent, sect_u3000_indent },
        { "u3000_continuation", { { "[b]\ny=1\n\343\200\200\343\200\200more\nz=2\n", sizeof("[b]\ny=1\n\343\200\200\343\200\200more\nz=2\n") - 1, 0 } }, false, kv_u3000_continuation, sect_u3000_continuation },
        { "nbsp_key", { { "[b]\ny\302\240=1\nz=2\n", sizeof("[b]\ny\302\240=1\nz=2\n") - 1, 0 } }, false, kv_nbsp_key, sect_nbsp_key },
        { "edge_u3000_value", { { "[b]\ny = a\343\200\200\nw =\343\200\200\343\200\200b\nz=2\n", sizeof("[b]\ny = a\343\200\200\nw =\343\200\200\343\200\200b\nz=2\n") - 1, 0 } }, false, kv_edge_u3000_value, sect_edge_u3000_value },
        { "ff_line", { { "[b]\n\014\nz=2\n", sizeof("[b]\n\014\nz=2\n") - 1, 0 } }, false, kv_ff_line, sect_ff_line },
        { "vt_fs_lines", { { "[b]\nz=1\n\013\n\034\n  2\n", sizeof("[b]\nz=1\n\013\n\034\n  2\n") - 1, 0 } }, false, kv_vt_fs_lines, sect_vt_fs_lines },
        { "ascii_space_edges", { { "[b]\nz=\013v\014\n[c]\n\037k\036=1\n\035\n", sizeof("[b]\nz=\013v\014\n[c]\n\037k\036=1\n\035\n") - 1, 0 } }, false, kv_ascii_space_edges, sect_ascii_space_edges },
        { "control_in_comment", { { "[b]\n# a\001b\nz=2\n", sizeof("[b]\n# a\001b\nz=2\n") - 1, 0 } }, false, kv_control_in_comment, sect_control_in_comment },
        { "control_in_inline_comment", { { "[b]\ny = 1 ;\001\177\303\243\302\200\302\200\nz=2\n", sizeof("[b]\ny = 1 ;\001\177\303\243\302\200\302\200\nz=2\n") - 1, 0 } }, false, kv_control_in_inline_comment, sect_control_in_inline_comment },
        { "u3000_in_comment", { { "[b]\n;\343\200\200x\ny = 1 #\302\240\n", sizeof("[b]\n;\343\200\200x\ny = 1 #\302\240\n") - 1, 0 } }, false, kv_u3000_in_comment, sect_u3000_in_comment },
        { "bom", { { "\357\273\277[s]\na=1\n", sizeof("\357\273\277[s]\na=1\n") - 1, -1 } }, true, kv_bom, sect_bom },
        { "nul", { { "[s]\na=1\000\n", sizeof("[s]\na=1\000\n") - 1, -1 } }, true, kv_nul, sect_nul },
        { "key_before_section", { { "a=1\n[s]\nb=2\n", sizeof("a=1\n[s]\nb=2\n") - 1, -1 } }, true, kv_key_before_section, sect_key_before_section },
        { "control_before_section", { { "\001\n[s]\na=1\n", sizeof("\001\n[s]\na=1\n") - 1, -1 } }, true, kv_control_before_section, sect_control_before_section },
        { "u3000_value", { { "[a]\nx=1\n[b]\ny=x\343\200\200y\nz=2\n[c]\nw=3\n", sizeof("[a]\nx=1\n[b]\ny=x\343\200\200y\nz=2\n[c]\nw=3\n") - 1, 0 } }, true, kv_u3000_value, sect_u3000_value },
        { "nbsp_value", { { "[b]\ny=a\302\240b\nz=2\n", sizeof("[b]\ny=a\302\240b\nz=2\n") - 1, 0 } }, true, kv_nbsp_value, sect_nbsp_value },
        { "nel_value", { { "[b]\ny=a\302\205b\nz=2\n", sizeof("[b]\ny=a\302\205b\nz=2\n") - 1, 0 } }, true, kv_nel_value, sect_nel_value },
        { "feff_value", { { "[a]\nx=\357\273\2771\ny=2\n", sizeof("[a]\nx=\357\273\2771\ny=2\n") - 1, 0 } }, true, kv_feff_value, sect_feff_value },
        { "control_value", { { "[a]\nx=1\n[b]\ny=a\001b\nz=2\n", sizeof("[a]\nx=1\n[b]\ny=a\001b\nz=2\n") - 1, 0 } }, true, kv_control_value, sect_control_value },
        { "vt_value", { { "[b]\ny=a\013b\nz=2\n", sizeof("[b]\ny=a\013b\nz=2\n") - 1, 0 } }, true, kv_vt_value, sect_vt_value },
        { "esc_value", { { "[b]\ny=\033[1m\nz=2\n", sizeof("[b]\ny=\033[1m\nz=2\n") - 1, 0 } }, true, kv_esc_value, sect_esc_value },
        { "del_value", { { "[b]\ny=a\177b\nz=2\n", sizeof("[b]\ny=a\177b\nz=2\n") - 1, 0 } }, true, kv_del_value, sect_del_value },
        { "invalid_utf8", { { "[a]\nx=1\n[b]\ny=\377\nz=2\n", sizeof("[a]\nx=1\n[b]\ny=\377\nz=2\n") - 1, 0 } }, true, kv_invalid_utf8, sect_invalid_utf8 },
        { "overlong_utf8", { { "[b]\ny=\300\257\nz=2\n", sizeof("[b]\ny=\300\257\nz=2\n") - 1, 0 } }, true, kv_overlong_utf8, sect_overlong_utf8 },
        { "surrogate_utf8", { { "[b]\ny=\355\240\200\nz=2\n", sizeof("[b]\ny=\355\240\200\nz=2\n") - 1, 0 } }, true, kv_surrogate_utf8, sect_surrogate_utf8 },
        { "truncated_utf8", { { "[b]\ny=\346\227\nz=2\n", sizeof("[b]\ny=\346\227\nz=2\n") - 1, 0 } }, true, kv_truncated_utf8, sect_truncated_utf8 },
        { "truncated_utf8_eof", { { "[b]\nz=2\ny=\346\227", sizeof("[b]\nz=2\ny=\346\227") - 1, 0 } }, true, kv_truncated_utf8_eof, sect_truncated_utf8_eof },
        { "no_delimiter", { { "[a]\nx=1\n[b]\njunk\ny=2\n[c]\nz=3\n", sizeof("[a]\nx=1\n[b]\njunk\ny=2\n[c]\nz=3\n") - 1, 0 } }, true, kv_no_delimiter, sect_no_delimiter },
        { "empty_header", { { "[a]\nx=1\n[]\ny=2\n", sizeof("[a]\nx=1\n[]\ny=2\n") - 1, 0 } }, true, kv_empty_header, sect_empty_header },
        { "commented_header", { { "[a]\nx=1\n[s #x]\ny=2\n", sizeof("[a]\nx=1\n[s #x]\ny=2\n") - 1, 0 } }, true, kv_commented_header, sect_commented_header },
        { "no_key_name", { { "[a]\n=value\nx=1\n", sizeof("[a]\n=value\nx=1\n") - 1, 0 } }, true, kv_no_key_name, sect_no_key_name },
        { "no_key_name_colon", { { "[a]\n : value\nx=1\n", sizeof("[a]\n : value\nx=1\n") - 1, 0 } }, true, kv_no_key_name_colon, sect_no_key_name_colon },
        { "bad_line_ends_value", { { "[a]\nx=1\n\001\ny=2\n", sizeof("[a]\nx=1\n\001\ny=2\n") - 1, 0 } }, true, kv_bad_line_ends_value, sect_bad_line_ends_value },
        { "inner_u3000_key", { { "[b]\nmy\343\200\200key = 1\nz=2\n", sizeof("[b]\nmy\343\200\200key = 1\nz=2\n") - 1, 0 } }, true, kv_inner_u3000_key, sect_inner_u3000_key },
        { "inner_nbsp_continuation", { { "[b]\ny = 1\n  a\302\240b\nz=2\n", sizeof("[b]\ny = 1\n  a\302\240b\nz=2\n") - 1, 0 } }, true, kv_inner_nbsp_continuation, sect_inner_nbsp_continuation },
        { "control_continuation", { { "[b]\ny = 1\n  a\001b\nz=2\n", sizeof("[b]\ny = 1\n  a\001b\nz=2\n") - 1, 0 } }, true, kv_control_continuation, sect_control_continuation },
        { "header_u3000", { { "[a]\nx=1\n[b\343\200\200c]\ny=2\n[d]\nw=3\n", sizeof("[a]\nx=1\n[b\343\200\200c]\ny=2\n[d]\nw=3\n") - 1, 0 } }, true, kv_header_u3000, sect_header_u3000 },
        { "header_control", { { "[a]\nx=1\n[b\001]\ny=2\n", sizeof("[a]\nx=1\n[b\001]\ny=2\n") - 1, 0 } }, true, kv_header_control, sect_header_control },
        { "comment_hides_delimiter", { { "[a]\nx ;= 1\ny=2\n", sizeof("[a]\nx ;= 1\ny=2\n") - 1, 0 } }, true, kv_comment_hides_delimiter, sect_comment_hides_delimiter },
        { "only_equals", { { "[a]\n=\ny=2\n", sizeof("[a]\n=\ny=2\n") - 1, 0 } }, true, kv_only_equals, sect_only_equals },
        { "broken_then_fine", { { "[a]\njunk\n[b]\nx=1\n[a]\ny=2\n", sizeof("[a]\njunk\n[b]\nx=1\n[a]\ny=2\n") - 1, 0 } }, true, kv_broken_then_fine, sect_broken_then_fine },
};

static const IniSection *section_by_name(const IniConfig *c, const char *name) {
        if (streq(name, "DEFAULT"))
                return &c->defaults;
        return ini_config_find(c, name);
}

static void check_case(const IniCase *t) {
        IniConfig c = {0};
        unsigned errors = log_n_errors();
        bool ok = true;

        for (size_t f = 0; f < ELEMENTSOF(t->files) && t->files[f].data; f++) {
                char path[64];
                snprintf(path, sizeof path, "/test/%s-%zu.ini", t->name, f);
                int r = ini_config_read_buffer(&c, path, t->files[f].data, t->files[f].size);
                if (t->files[f].ret < 0)
                        ok &= tap_ok(r < 0, "%s: file %zu is refused (r=%d)", t->name, f, r);
                else
                        ok &= tap_is_int(r, 0, "%s: file %zu is read", t->name, f);
        }
        if (t->errors)
                ok &= tap_ok(log_n_errors() > errors, "%s: errors are logged", t->name);
        else
                ok &= tap_is_int(log_n_errors() - errors, 0, "%s: no errors logged", t->name);

        size_t n = 0;
        while (t->sections[n].name)
                n++;
        ok &= tap_is_int((long long) c.n_sections, (long long) n, "%s: number of sections", t->name);
        for (size_t i = 0; i < n && i < c.n_sections; i++) {
                const IniSection *s = c.sections[i];
                ok &= tap_is_str(s->name, t->sections[i].name, "%s: section %zu name", t->name, i);
                ok &= tap_is_int(s->line, t->sections[i].line, "%s: [%s] line", t->name, TAP_ESC(s->name));
                ok &= tap_is_int(s->broken, t->sections[i].broken, "%s: [%s] broken", t->name, TAP_ESC(s->name));
        }
        ok &= tap_ok(!c.defaults.broken, "%s: [DEFAULT] not broken", t->name);

        /* Every section's keys, in order: a run of kv rows per section. */
        for (const IniKv *kv = t->kv; kv->section;) {
                const IniKv *run = kv;
                size_t nk = 0;
                while (kv->section && !kv->lookup && streq(kv->section, run->section))
                        kv++, nk++;
                if (nk == 0) {
                        /* lookup rows */
                        const IniSection *s = ini_config_find(&c, kv->section);
                        const IniKey *k = ini_section_lookup(&c, s, kv->key);
                        ok &= tap_is_str(k ? k->value : NULL, kv->value, "%s: lookup [%s] %s", t->name,
                                         TAP_ESC(kv->section), TAP_ESC(kv->key));
                        kv++;
                        continue;
                }
                const IniSection *s = section_by_name(&c, run->section);
                if (!tap_ok(s, "%s: [%s] exists", t->name, TAP_ESC(run->section))) {
                        ok = false;
                        continue;
                }
                ok &= tap_is_int((long long) s->n_keys, (long long) nk, "%s: [%s] number of keys", t->name,
                                 TAP_ESC(run->section));
                for (size_t j = 0; j < nk && j < s->n_keys; j++) {
                        const IniKey *k = &s->keys[j];
                        ok &= tap_is_str(k->name, run[j].key, "%s: [%s] key %zu", t->name, TAP_ESC(run->section), j);
                        ok &= tap_is_str(k->value, run[j].value, "%s: [%s] %s value", t->name,
                                         TAP_ESC(run->section), TAP_ESC(run[j].key));
                        ok &= tap_is_int(k->line, run[j].line, "%s: [%s] %s line", t->name, TAP_ESC(run->section),
                                         TAP_ESC(run[j].key));
                }
        }
        /* A section with no key rows must have no keys. */
        for (size_t i = 0; i < c.n_sections; i++) {
                bool listed = false;
                for (const IniKv *kv = t->kv; kv->section; kv++)
                        listed |= !kv->lookup && streq(kv->section, c.sections[i]->name);
                if (!listed)
                        ok &= tap_is_int((long long) c.sections[i]->n_keys, 0, "%s: [%s] has no keys", t->name,
                                         TAP_ESC(c.sections[i]->name));
        }
        if (!ok)
                for (size_t i = 0; i < c.n_sections; i++)
                        for (size_t j = 0; j < c.sections[i]->n_keys; j++)
                                tap_diag("read: [%s] %s = %s (line %u)", TAP_ESC(c.sections[i]->name),
                                         TAP_ESC(c.sections[i]->keys[j].name), TAP_ESC(c.sections[i]->keys[j].value),
                                         c.sections[i]->keys[j].line);
        ini_config_done(&c);
}

/* Lines far beyond inih's default 200-byte buffer must arrive whole.
 * Python: value == 'x' * n, key == 'k' * n, section name == 's' * n. */
static void test_long_lines(void) {
        static const size_t lengths[] = { 197, 198, 199, 200, 201, 255, 256, 257, 511, 4096, 10000, 10001, 100000 };
        for (size_t i = 0; i < ELEMENTSOF(lengths); i++) {
                size_t n = lengths[i];
                _cleanup_free_ char *v = xmalloc(n + 1);
                memset(v, 'x', n);
                v[n] = 0;
                _cleanup_free_ char *k = xstrdup(v);
                memset(k, 'k', n);
                _cleanup_free_ char *sn = xstrdup(v);
                memset(sn, 's', n);

                /* [sss...]\nkey = xxx...\nkkk... = 1\ncont = a\n  xxx...\n */
                _cleanup_free_ char *data = xasprintf("[%s]\nkey = %s\n%s = 1\ncont = a\n  %s\n", sn, v, k, v);
                IniConfig c = {0};
                tap_is_int(ini_config_read_buffer(&c, "/test/long.ini", data, strlen(data)), 0,
                           "long lines %zu: read", n);
                const IniSection *s = ini_config_find(&c, sn);
                if (tap_ok(s && c.n_sections == 1, "long lines %zu: section name whole", n)) {
                        const IniKey *key = ini_section_lookup(&c, s, "key");
                        tap_ok(key && streq(key->value, v), "long lines %zu: value whole", n);
                        tap_ok(key && key->line == 2, "long lines %zu: value line", n);
                        const IniKey *kk = ini_section_lookup(&c, s, k);
                        tap_ok(kk && streq(kk->value, "1") && kk->line == 3, "long lines %zu: key name whole", n);
                        _cleanup_free_ char *cont = xasprintf("a\n%s", v);
                        const IniKey *ck = ini_section_lookup(&c, s, "cont");
                        tap_ok(ck && streq(ck->value, cont) && ck->line == 4, "long lines %zu: continuation whole", n);
                        tap_is_int((long long) s->n_keys, 3, "long lines %zu: nothing split off", n);
                }
                ini_config_done(&c);
        }
}

static void test_file_dir(void) {
        /* The header's examples. */
        static const char *const v[][2] = {
                { "/etc/supervisor.d/blog.ini", "/etc/supervisor.d" },
                { "/blog.ini", "/" },
                { "blog.ini", "." },
                { "a/b/c.ini", "a/b" },
        };
        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                _cleanup_free_ char *d = ini_file_dir(v[i][0]);
                tap_is_str(d, v[i][1], "ini_file_dir(%s)", v[i][0]);
        }
}

/* The same bytes through a real file; files that cannot be read. */
static void test_read_file(void) {
        char dir[] = "/tmp/unitcorn-test-XXXXXX";
        if (!tap_ok(mkdtemp(dir) != NULL, "mkdtemp"))
                return;
        _cleanup_free_ char *path = xasprintf("%s/a.ini", dir);
        static const char data[] = "[s]\r\na = 1\r\n  2\r\n";
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        tap_ok(fd >= 0 && write(fd, data, sizeof data - 1) == (ssize_t) (sizeof data - 1), "write a.ini");
        if (fd >= 0)
                close(fd);

        IniConfig c = {0};
        tap_is_int(ini_config_read_file(&c, path), 0, "read_file: read");
        const IniKey *k = ini_section_lookup(&c, ini_config_find(&c, "s"), "a");
        /* configparser: cp['s']['a'] == '1\n2' */
        tap_is_str(k ? k->value : NULL, "1\n2", "read_file: value");
        tap_ok(k && k->file && streq(k->file, path), "read_file: key knows its file");
        tap_ok(c.n_files == 1 && streq(c.files[0], path), "read_file: file recorded");

        _cleanup_free_ char *missing = xasprintf("%s/missing.ini", dir);
        tap_is_int(ini_config_read_file(&c, missing), -ENOENT, "read_file: a missing file is -ENOENT");
        tap_ok(ini_config_read_file(&c, dir) < 0, "read_file: a directory is refused");
        tap_is_int((long long) c.n_sections, 1, "read_file: failures add nothing");
        ini_config_done(&c);
        tap_ok(c.n_sections == 0 && !c.sections && !c.files, "ini_config_done() resets");
        ini_config_done(&c);

        unlink(path);
        rmdir(dir);
}

/* ini_section_lookup() with no section: [DEFAULT] only. */
static void test_lookup_null(void) {
        static const char data[] = "[DEFAULT]\nd = 1\n[s]\na = 2\n";
        IniConfig c = {0};
        tap_is_int(ini_config_read_buffer(&c, "/test/l.ini", data, sizeof data - 1), 0, "lookup: read");
        const IniKey *k = ini_section_lookup(&c, NULL, "d");
        tap_is_str(k ? k->value : NULL, "1", "lookup(NULL, d) finds [DEFAULT]");
        tap_ok(!ini_section_lookup(&c, NULL, "a"), "lookup(NULL, a) does not see [s]");
        tap_ok(!ini_section_lookup(&c, ini_config_find(&c, "s"), "nope"), "lookup of an unknown key is NULL");
        tap_ok(!ini_config_find(&c, "DEFAULT"), "[DEFAULT] is not among the sections");
        ini_config_done(&c);
}

/* configparser reads "[b\u3000]" as a header (section 'b\u3000').  We refuse
 * the line; the keys under it belong to that refused section, so they must
 * not be added to, nor break, the section before it. */
static void test_rejected_header(void) {
        static const char *const headers[] = {
                "[b\343\200\200]", "[b\302\240]", "[b\001]", "[b\377]", "[\357\273\277b]",
        };
        for (size_t i = 0; i < ELEMENTSOF(headers); i++) {
                _cleanup_free_ char *data = xasprintf("[a]\nx=1\n%s\ny=2\n[c]\nz=3\n", headers[i]);
                IniConfig c = {0};
                unsigned errors = log_n_errors();
                tap_is_int(ini_config_read_buffer(&c, "/test/h.ini", data, strlen(data)), 0,
                           "rejected header %s: file read", TAP_ESC(headers[i]));
                tap_ok(log_n_errors() > errors, "rejected header %s: error logged", TAP_ESC(headers[i]));
                const IniSection *a = ini_config_find(&c, "a");
                tap_ok(a && !a->broken, "rejected header %s: [a] before it is not broken", TAP_ESC(headers[i]));
                tap_ok(a && a->n_keys == 1 && streq(a->keys[0].name, "x"),
                       "rejected header %s: its keys do not land in [a]", TAP_ESC(headers[i]));
                const IniSection *cs = ini_config_find(&c, "c");
                tap_ok(cs && !cs->broken && cs->n_keys == 1, "rejected header %s: [c] after it is read",
                       TAP_ESC(headers[i]));
                ini_config_done(&c);
        }
}

int main(void) {
        log_set_level(-1);   /* the errors are counted, not shown */
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_case(&cases[i]);
        test_long_lines();
        test_file_dir();
        test_read_file();
        test_lookup_null();
        test_rejected_header();
        return tap_done();
}
