/* pidfile.h: -p/--pid FILE (gunicorn's pidfile): the master's PID, written
 * when it starts (to a temporary file renamed over FILE, mode 0644, as
 * gunicorn) and removed when it exits, if FILE still holds our PID.  A
 * FILE holding the PID of a live process is an error ("Already running"),
 * a stale one is replaced.  A relative FILE is relative to --chdir. */
#pragma once

/* Returns 0, or a negative errno after saying why. */
int pidfile_create(const char *path);
void pidfile_remove(const char *path);
