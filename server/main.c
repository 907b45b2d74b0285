/* unitcorn: a WSGI HTTP server for systemd, with gunicorn's command line.
 *
 *   unitcorn [OPTIONS] MODULE:CALLABLE
 *
 * main() only wires the pieces together (everything else is in libserver,
 * so tests link the same code): parse the options (running a -c config
 * file, which starts Python early), change directory, then
 * either print the settings and check the app (--print-config,
 * --check-config) or take the listening sockets, start Python and run the
 * master. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "config.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "pylog.h"
#include "proctitle.h"
#include "python.h"
#include "settings.h"

/* As gunicorn: --print-config prints, then both import the app; exit 0
 * if it loads, else 1. */
static int check_config(const Config *c) {
        PyObject *app = NULL;
        if (python_init(c) < 0 || pylog_setup() < 0 || (c->print_config && settings_print(c) < 0) ||
            python_load_app(c->app, &app) < 0) {
                python_finalize();
                return EXIT_FAILURE;
        }
        Py_DECREF(app);
        python_finalize();
        return EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        Config c;
        proctitle_init(argc, argv);
        log_setup();
        /* With -c this starts Python (the file runs in it) */
        int r = config_parse(&c, argc, argv);
        if (r != 0) {
                python_finalize();
                config_done(&c);
                return r > 0 ? EXIT_SUCCESS : 2;   /* 2: a usage error, as argparse */
        }

        if (c.chdir && chdir(c.chdir) < 0) {
                log_error_errno(errno, "Failed to change directory to '%s': %s", c.chdir, STRERROR(errno));
                python_finalize();
                config_done(&c);
                return EXIT_FAILURE;
        }

        /* relative paths are taken after --chdir, as gunicorn does */
        log_set_level(c.log_level);
        if (log_open_file(c.errorlog) < 0 || access_setup(c.accesslog, c.access_log_format) < 0) {
                python_finalize();
                config_done(&c);
                return EXIT_FAILURE;
        }
        log_debug("Error log: %s; access log: %s.",
                  c.errorlog && !streq(c.errorlog, "-") ? c.errorlog : log_to_journal() ? "the journal" : "stderr",
                  !c.accesslog ? "off" : !streq(c.accesslog, "-") ? c.accesslog :
                  log_fd_is_journal(STDOUT_FILENO) ? "the journal" : "stdout");

        if (c.check_config || c.print_config) {
                r = check_config(&c);
                config_done(&c);
                return r;
        }

        /* A client that goes away must not kill a worker in writev(). */
        signal(SIGPIPE, SIG_IGN);

        Listeners ls;
        r = listeners_open(&ls, c.binds, c.backlog);
        if (r < 0 || ls.n == 0) {
                if (r >= 0)
                        log_error("No sockets to listen on.");
                listeners_close(&ls, true);
                python_finalize();
                config_done(&c);
                return EXIT_FAILURE;
        }
        /* Python in the master only when it has a use there (python.h) */
        if ((c.preload || python_initialized()) && (python_init(&c) < 0 || pylog_setup() < 0)) {
                listeners_close(&ls, true);
                config_done(&c);
                return EXIT_FAILURE;
        }

        r = master_run(&c, &ls);

        python_finalize();
        access_done();
        listeners_close(&ls, true);
        config_done(&c);
        return r;
}
