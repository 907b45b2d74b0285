/* listen.h: the listening sockets.
 *
 * From systemd socket activation (sd_listen_fds_with_names(3), each checked
 * with sd_is_socket() to be a listening stream socket) when $LISTEN_FDS is
 * meant for us, otherwise bound from the -b addresses as gunicorn does
 * (HOST:PORT, [V6]:PORT, HOST, unix:PATH).  Every listener is made
 * non-blocking and close-on-exec: workers share them and accept with
 * EPOLLEXCLUSIVE, and an app's subprocesses must not inherit them.
 * Not here: fd://N addresses, reuse-port, TLS. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct Listener {
        int fd;
        int family;
        char *name;          /* the -b address, or the fd name systemd gave */
        char *unix_path;     /* a UNIX socket we created ourselves: unlinked at exit */
} Listener;

typedef struct Listeners {
        Listener *items;
        size_t n;
        bool activated;      /* from systemd */
} Listeners;

int listeners_open(Listeners *ls, char * const *binds, unsigned backlog);
/* unlink: remove the UNIX socket files we created (the master at exit;
 * never a worker). */
void listeners_close(Listeners *ls, bool unlink_paths);
