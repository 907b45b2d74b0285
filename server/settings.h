/* settings.h: a Config as gunicorn's settings, name -> Python value, with
 * gunicorn's names (keepalive, preload_app, raw_env, proc_name, ...) and
 * ours where gunicorn has none (header_timeout, limit_request_body,
 * virtualenv).  Used by --print-config (gunicorn's format: every setting,
 * sorted, "name = value") and as the hooks' cfg.
 *
 * A new option gets a line in settings_dict(). */
#pragma once

#include "config.h"
#include "python.h"

/* A new dict in *ret.  Returns 0, or -1 with a Python exception set. */
int settings_dict(const Config *c, PyObject **ret);
/* --print-config: the settings on stdout.  Returns 0 or -1 (logged). */
int settings_print(const Config *c);
