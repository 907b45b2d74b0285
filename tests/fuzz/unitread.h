/* unitread.h: reading a unit file back the way systemd reads it, for
 * fuzz-unit: the C twin of tests/generator/unitfile.py, plus what that
 * one leaves out (a line ending in a backslash continues on the next).
 *
 * References: systemd.syntax(7) (lines, sections, comments, continuation
 * lines, quoting and C escapes), systemd.service(5) "Command lines"
 * (words, "\;", "$$"), systemd.unit(5) "Specifiers" ("%%").  Every
 * function returns -EINVAL for what systemd would read differently from
 * anything the generator means to write (a lone '%' specifier, a '$'
 * variable, an unterminated quote...), with a message in *ret_error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct UnitSetting {
        char *section;
        char *key;
        char *value;             /* whitespace-stripped, continuations joined */
} UnitSetting;

typedef struct UnitFile {
        UnitSetting *settings;
        size_t n;
} UnitFile;

int unit_read(const char *text, UnitFile *ret, char **ret_error);
void unit_file_done(UnitFile *u);

/* systemd's extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE) loop:
 * the words of a value, NULL-terminated; *ret_quoted (optional) says for
 * each whether any part of it was quoted. */
int unit_split_words(const char *value, char ***ret, char **ret_quoted, char **ret_error);
/* "%%" -> "%" (and, with dollar, "$$" -> "$"). */
int unit_unspecifier(const char *s, bool dollar, char **ret, char **ret_error);
/* The argv an ExecStart= value runs ("\;" a literal ";", a bare ";"
 * an error: we never write a second command). */
int unit_exec_argv(const char *value, char ***ret, char **ret_error);
