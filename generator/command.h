/* command.h: command= to the argv systemd will run, doing at generation
 * time what supervisor does when it spawns (process.py,
 * Subprocess.get_execv_args() and check_execv_args()): shlex.split(), a bare
 * name looked up in PATH, a relative path taken from directory=. */
#pragma once

#include "keys.h"
#include "program.h"

/* Sets p->argv from p->command; path_env is the PATH to search.  Reports
 * and returns -EINVAL when supervisor could not run it. */
int command_resolve(const KeyCtx *x, const IniKey *k, Process *p, const char *path_env);
