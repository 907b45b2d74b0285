/* keys.h: one key of a section, read as supervisor's saneget() reads it:
 * the section's value or [DEFAULT]'s or the default, "%(here)s" replaced by
 * the directory of the file that set it, then "%"-expanded; and the
 * datatype conversions on top.  Errors are reported here, once, with the
 * file, line, key and value, and say what is skipped (KeyCtx). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "expand.h"
#include "inifile.h"
#include "program.h"

typedef struct KeyCtx {
        Model *model;              /* set for [supervisord]: where its first error was */
        const IniConfig *config;
        const IniSection *section;
        const char *kind;          /* "program", "group", "supervisord" */
        const char *name;          /* what is skipped on error */
} KeyCtx;

/* Reports an error about a key (msg is taken) and returns -EINVAL. */
int key_fail(const KeyCtx *x, const IniKey *k, const char *key, char *msg);
/* The value, or a copy of def; *ret is NULL when both are absent. */
int key_get(const KeyCtx *x, const char *key, const char *def, Expansions *e, bool do_expand, char **ret,
            const IniKey **ret_key);
/* The same for values only converted: without '%', used in place. */
int key_view(const KeyCtx *x, const char *key, const char *def, Expansions *e, const char **ret, char **ret_owned,
             const IniKey **ret_key);
int key_integer(const KeyCtx *x, const char *key, const char *def, Expansions *e, int64_t *ret);
int key_boolean(const KeyCtx *x, const char *key, const char *def, Expansions *e, bool *ret);
int key_byte_size(const KeyCtx *x, const char *key, const char *def, Expansions *e);
