/* master.h: the master process (DESIGN §4.1) on an sd-event loop: forks
 * the workers, reaps them, respawns one that died (with back-off), sends
 * READY=1 once every worker has the app loaded and accepts, and stops
 * them on SIGTERM (graceful, STOPPING=1) or SIGINT/SIGQUIT (fast).
 *
 * Not done yet: SIGHUP reload, WATCHDOG=1, --timeout enforcement (stack
 * dump then SIGKILL), --max-requests recycling, live STATUS= figures,
 * --preload, TTIN/TTOU. */
#pragma once

#include "config.h"
#include "listen.h"

/* Returns the process exit status. */
int master_run(const Config *c, Listeners *ls);
