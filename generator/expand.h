/* expand.h: Python's "%" string formatting with a mapping, as supervisor's
 * options.expand() applies it: "%(name)s", "%(process_num)02d", "%%".
 *
 * Supported: every conversion Python's printf-style formatting has
 * (d i o u x X e E f F g G c r s a), its flags (#0- +), width and
 * precision, and nested parentheses in names.  Not supported, as errors:
 * a '%' that is not a format, '*' widths, and a bare "%s" without a name
 * (Python would format the whole dictionary). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct ExpandVar {
        char *name;
        char *str;       /* when !is_num */
        long long num;   /* when is_num */
        bool is_num;
} ExpandVar;

/* A table of names; lookups fall through to parent (not owned), so a
 * program's names can sit on top of the environment's without copying it. */
typedef struct Expansions {
        ExpandVar *vars;
        size_t n;
        const struct Expansions *parent;
} Expansions;

void expansions_set_str(Expansions *e, const char *name, const char *value);
void expansions_set_num(Expansions *e, const char *name, long long value);
const ExpandVar *expansions_get(const Expansions *e, const char *name);
void expansions_copy(Expansions *dst, const Expansions *src);
/* ENV_NAME for every NAME=value of our environment, as supervisor's
 * environ_expansions. */
void expansions_add_environ(Expansions *e);
void expansions_done(Expansions *e);
/* "here, program_name, ..." sorted, as supervisor lists them in errors. */
char *expansions_names(const Expansions *e);

/* Returns 0 and the expanded string, or -EINVAL and a message naming the
 * problem ("contains names (foo) which cannot be expanded. Available names:
 * ..." / "is badly formatted: ..."). */
int expand_format(const char *fmt, const Expansions *e, char **ret, char **ret_error);
