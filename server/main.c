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

#include "config.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "proctitle.h"
#include "python.h"
#include "settings.h"

/* As gunicorn: --print-config prints, then both import the app; exit 0
 * if it loads, else 1. */
static int check_config(const Config *c) {
        PyObject *app = NULL;
        if (python_init(c) < 0 || (c->print_config && settings_print(c) < 0) ||
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
        if (python_init(&c) < 0) {
                listeners_close(&ls, true);
                config_done(&c);
                return EXIT_FAILURE;
        }

        r = master_run(&c, &ls);

        python_finalize();
        listeners_close(&ls, true);
        config_done(&c);
        return r;
}
