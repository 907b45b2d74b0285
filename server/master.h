/* master.h: the master process (DESIGN §4.1) on an sd-event loop: forks
 * the workers, reaps them, respawns one that died (with back-off), sends
 * READY=1 once every worker has the app loaded and accepts, live STATUS=
 * figures, WATCHDOG=1 while healthy; kills a worker past --timeout (stack
 * dump first); SIGHUP reloads (RELOADING=1, new workers, READY=1, old ones
 * drain); SIGTERM stops gracefully (STOPPING=1), SIGINT/SIGQUIT fast;
 * --max-requests replacements; --preload imports the app before forking.
 *
 * Not done: gunicorn's TTIN/TTOU (more or fewer workers at run time). */
#pragma once

#include "config.h"
#include "listen.h"

/* Returns the process exit status. */
int master_run(const Config *c, Listeners *ls);
