/* hooks.h: gunicorn's server hooks from a -c config file (DESIGN §4.5),
 * called where gunicorn calls them:
 *
 *   master: on_starting(server)            before anything starts
 *           when_ready(server)             listening, before the first fork
 *           pre_fork(server, worker)       before each fork
 *           on_reload(server)              SIGHUP, before the new workers
 *           child_exit(server, worker)     a worker was reaped
 *           on_exit(server)                the master is about to exit
 *   worker: post_fork(server, worker)      just after the fork, before the app is loaded
 *           post_worker_init(worker)       the app is loaded, before serving
 *           pre_request(worker, req)       before each request goes to the app
 *           post_request(worker, req, environ, resp)   after each response
 *           worker_exit(server, worker)    the worker is about to exit
 *           worker_abort(worker)           past --timeout: after the stack dump, before SIGKILL
 *
 * An exception in a hook is logged with its traceback.  As in gunicorn it
 * then stops the server for on_starting and when_ready (exit status 1), is
 * a boot error for post_fork and post_worker_init (the worker exits 3 and
 * the master stops, as for an app that fails to load), and a 500 for
 * pre_request; elsewhere it is only logged.
 *
 * gunicorn passes its Arbiter, Worker and Request objects; hooks get
 * small stand-ins with what hooks use (hooks.c lists them): server.pid,
 * .cfg, .log, .num_workers, .proc_name, .address; worker.pid, .ppid, .age
 * (1, 2, ... per fork, as gunicorn), .cfg, .log, .booted, .alive; req.method,
 * .uri, .path, .query, .fragment, .version, .headers (upper-case names),
 * .scheme, .remote_addr; resp.status ("200 OK"), .status_code, .headers,
 * .sent, .response_length.  cfg has every setting as an attribute
 * (settings.c); log has debug/info/warning/error/critical/exception/log.
 *
 * worker_abort runs on the stack-dump signal (SIGUSR1, not gunicorn's
 * SIGABRT), when Python gets to run it: at once in a Python loop or an
 * interrupted blocking call, not in a C extension stuck without checking
 * signals; the master's SIGKILL follows one second after the signal.
 *
 * Defined but never called (accepted with a notice): worker_int (signals
 * are handled in C), pre_exec (no USR2 re-exec),
 * nworkers_changed (no TTIN/TTOU), ssl_context (no TLS).
 * pre_request/post_request cost one test of a flag per request when not
 * defined. */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "config.h"
#include "http.h"
#include "listen.h"
#include "python.h"

/* Set when pre_request or post_request is defined. */
extern bool hooks_per_request;

/* The hooks of a config file's namespace (pyconfig.c).  Returns 0, or
 * -EINVAL after saying which hook is not callable. */
int hooks_load(PyObject *ns, const char *path);
/* Adds every hook name to settings: the file's callable, or a stand-in
 * named as gunicorn's default (for --print-config and cfg). */
int hooks_add_settings(PyObject *settings);
/* gunicorn's Config.__str__: "name = value" lines, sorted, aligned. */
int hooks_format_settings(PyObject *settings, PyObject **ret_text);

/* Master.  hooks_master_start() builds the server stand-in (nothing when
 * no hook is defined). */
int hooks_master_start(const Config *c, const Listeners *ls);
int hooks_on_starting(void);
int hooks_when_ready(void);
void hooks_on_reload(void);
void hooks_pre_fork(unsigned age);
void hooks_child_exit(pid_t pid, unsigned age);
void hooks_on_exit(void);

/* Worker (in the child, after fork). */
int hooks_post_fork(unsigned age);
int hooks_post_worker_init(void);
/* Installs worker_abort as the Python handler of sig, if it is defined.
 * Returns whether it did: faulthandler must then chain to it. */
bool hooks_install_abort(int sig);
/* Once per worker; a no-op after the first call or once Python is gone. */
void hooks_worker_exit(void);
/* *ret_req: the request's stand-in (a new reference, possibly NULL), for
 * hooks_post_request(); per request, not global, so that threads can
 * each have theirs.  Returns -1 when pre_request raised (answer 500). */
int hooks_pre_request(const HttpRequest *req, const struct sockaddr_storage *peer, bool https,
                      PyObject **ret_req);
/* hreq: from hooks_pre_request(), released here.  status: what was sent
 * ("200 OK"), NULL for our own 500.  environ may be NULL (the app never
 * ran). */
void hooks_post_request(PyObject *hreq, PyObject *environ, PyObject *status, PyObject *headers,
                        unsigned long long sent);
