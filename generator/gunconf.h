/* gunconf.h: `bind` read out of a gunicorn config file without running it.
 *
 * gunicorn executes its -c file as Python; the generator only recognises a
 * strict subset: a top-level statement `bind = LITERAL` where LITERAL is one
 * string literal ('...', "...", r'...', u'...') or a list or tuple of them.
 * Anything that might change `bind` some other way (the name anywhere else,
 * an indented assignment, `bind +=`, `from x import *`, globals(), exec…)
 * makes the file "not recognised": binding is then left to the server,
 * which runs the file.  The file is never executed or imported. */
#pragma once

#include <stddef.h>

/* Returns 1 with *ret_binds (the last literal assignment's value) and
 * *ret_line (its line), 0 when the file never mentions `bind`, -EINVAL
 * when it does in a way we do not evaluate, with *ret_error and *ret_line. */
int gunconf_find_bind(const char *text, size_t len, char ***ret_binds, unsigned *ret_line, char **ret_error);
