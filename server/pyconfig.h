/* pyconfig.h: -c FILE, a gunicorn Python config file.
 *
 * As gunicorn does, the file is executed as a module (in the embedded
 * interpreter, which this starts) and its module-level names are read:
 * those that are settings unitcorn supports are applied to the Config,
 * the ones it does not implement yet are accepted with a notice, hooks
 * are kept for hooks.c, anything else is ignored. */
#pragma once

#include "config.h"

/* Runs path and applies its settings to c.  app is the app spec for
 * sys.argv (may be NULL).  Returns 0, or a negative errno after printing
 * the problem (a syntax error names the file and line). */
int pyconfig_load(Config *c, const char *path, const char *app);
