/* proctitle.h: process titles as gunicorn sets them with setproctitle:
 * "unitcorn: master [NAME]" and "unitcorn: worker [NAME]", NAME being -n
 * (proc_name) or the app spec (gunicorn's default_proc_name).
 *
 * The title goes into the argv area (what ps and /proc/PID/cmdline show,
 * what "pkill -f" matches), truncated to the length of the original
 * command line, never past it: the environment that follows is not moved
 * (setproctitle moves it to make room; we do not need that much), and the
 * rest of the area is zeroed.  The comm name (PR_SET_NAME: top, ps -o comm,
 * the journal's _COMM) gets the title's first 15 bytes, as setproctitle
 * does on Linux. */
#pragma once

/* Remembers the argv area: call first thing in main(), before anything
 * permutes argv (getopt moves pointers, never the strings). */
void proctitle_init(int argc, char **argv);
/* role: "master" or "worker". */
void proctitle_set(const char *role, const char *name);
