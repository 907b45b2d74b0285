/* listen.c: see listen.h. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include "listen.h"
#include "log.h"
#include "strbuf.h"

static void listeners_add(Listeners *ls, int fd, int family, const char *name, const char *unix_path) {
        ls->items = xrealloc(ls->items, (ls->n + 1) * sizeof *ls->items);
        ls->items[ls->n++] = (Listener) {
                .fd = fd,
                .family = family,
                .name = xstrdup(name),
                .unix_path = unix_path ? xstrdup(unix_path) : NULL,
        };
}

static int fd_prepare(int fd) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;
        flags = fcntl(fd, F_GETFD);
        if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
                return -errno;
        return 0;
}

/* "127.0.0.1:8000", "[::1]:8000", "unix:/run/x.sock": where fd listens. */
static char *socket_address(int fd) {
        struct sockaddr_storage sa = {0};
        socklen_t len = sizeof sa;
        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return xstrdup("?");
        if (sa.ss_family == AF_UNIX) {
                const struct sockaddr_un *un = (const struct sockaddr_un *) &sa;
                size_t off = offsetof(struct sockaddr_un, sun_path);
                size_t n = len > off ? strnlen(un->sun_path, len - off) : 0;
                if (n == 0 && len > off + 1)            /* abstract: "@name" */
                        return xasprintf("unix:@%.*s", (int) (len - off - 1), un->sun_path + 1);
                return xasprintf("unix:%.*s", (int) n, un->sun_path);
        }
        char host[NI_MAXHOST], port[NI_MAXSERV];
        if (getnameinfo((struct sockaddr *) &sa, len, host, sizeof host, port, sizeof port,
                        NI_NUMERICHOST | NI_NUMERICSERV) != 0)
                return xstrdup("?");
        return sa.ss_family == AF_INET6 ? xasprintf("[%s]:%s", host, port) : xasprintf("%s:%s", host, port);
}

static int socket_family(int fd) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof sa;
        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return -errno;
        return sa.ss_family;
}

static int listeners_from_systemd(Listeners *ls) {
        char **names = NULL;
        int n = sd_listen_fds_with_names(false, &names);
        if (n == -EINVAL) {
                /* The names do not match the descriptors: a socket unit's
                 * name with a ':' (a [group:x] member's app@x:NAME.socket,
                 * when nothing sets FileDescriptorName=) reads as two names
                 * in LISTEN_FDNAMES.  The descriptors are good: take them. */
                log_debug("LISTEN_FDNAMES does not match LISTEN_FDS (a ':' in a name?); the sockets are taken unnamed.");
                names = NULL;
                n = sd_listen_fds(false);
        }
        /* neither the app nor its children are to see them */
        (void) unsetenv("LISTEN_PID");
        (void) unsetenv("LISTEN_FDS");
        (void) unsetenv("LISTEN_FDNAMES");
        if (n <= 0) {
                if (n < 0)
                        log_error_errno(n, "Failed to take the sockets systemd passed: %s", STRERROR(n));
                return n;
        }
        _cleanup_strv_free_ char **names_owned = names;
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                int r = sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1);
                if (r < 0)
                        return log_error_errno(r, "Failed to check passed fd %d: %s", fd, STRERROR(r));
                if (r == 0)
                        return log_error_errno(EINVAL, "Passed fd %d (%s) is not a listening stream socket.",
                                               fd, names ? names[i] : "?");
                r = fd_prepare(fd);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up passed fd %d: %s", fd, STRERROR(r));
                /* the address, and systemd's name for it when there is one */
                _cleanup_free_ char *addr = socket_address(fd);
                _cleanup_free_ char *label = names && names[i] && !streq(names[i], "unknown") ?
                        xasprintf("%s (%s)", addr, names[i]) : xstrdup(addr);
                listeners_add(ls, fd, socket_family(fd), label, NULL);
        }
        ls->activated = true;
        return n;
}

static int bind_unix(Listeners *ls, const char *spec, const char *path, unsigned backlog) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path || !*path)
                return log_error_errno(EINVAL, "Invalid UNIX socket path '%s'.", path);
        strcpy(sa.sun_path, path);

        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create a socket for '%s': %s", spec, STRERROR(errno));
        /* As gunicorn: a stale socket file from an earlier run is removed;
         * anything else at that path is left alone and bind() fails. */
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
                (void) unlink(path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return log_error_errno(errno, "Failed to bind '%s': %s", spec, STRERROR(errno));
        if (listen(fd, (int) backlog) < 0)
                return log_error_errno(errno, "Failed to listen on '%s': %s", spec, STRERROR(errno));
        listeners_add(ls, TAKE_FD(fd), AF_UNIX, spec, path);
        return 0;
}

/* Splits HOST:PORT, [V6]:PORT and HOST (port 8000) into host and port. */
static int split_host_port(const char *spec, char **ret_host, char **ret_port) {
        const char *host = spec, *port = NULL;
        size_t hlen;
        if (spec[0] == '[') {
                const char *end = strchr(spec, ']');
                if (!end || (end[1] && end[1] != ':'))
                        return -EINVAL;
                host = spec + 1;
                hlen = (size_t) (end - host);
                port = end[1] ? end + 2 : NULL;
        } else {
                const char *colon = strrchr(spec, ':');
                if (colon && strchr(spec, ':') != colon)
                        return -EINVAL;   /* a bare IPv6 address needs brackets */
                hlen = colon ? (size_t) (colon - spec) : strlen(spec);
                port = colon ? colon + 1 : NULL;
        }
        if (port && !*port)
                return -EINVAL;
        char *h = xmalloc(hlen + 1);
        memcpy(h, host, hlen);
        h[hlen] = 0;
        *ret_host = h;
        *ret_port = xstrdup(port ? port : "8000");
        return 0;
}

static int bind_inet(Listeners *ls, const char *spec, unsigned backlog) {
        _cleanup_free_ char *host = NULL, *port = NULL;
        if (split_host_port(spec, &host, &port) < 0)
                return log_error_errno(EINVAL, "Invalid address '%s': expected HOST:PORT, [V6]:PORT or unix:PATH.", spec);

        struct addrinfo hints = {
                .ai_family = AF_UNSPEC,
                .ai_socktype = SOCK_STREAM,
                .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
        }, *res = NULL;
        int r = getaddrinfo(*host ? host : NULL, port, &hints, &res);
        if (r != 0)
                return log_error_errno(EINVAL, "Failed to resolve '%s': %s", spec, gai_strerror(r));

        /* As gunicorn: the first address that resolves is the one bound. */
        int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, res->ai_protocol);
        if (fd < 0) {
                r = log_error_errno(errno, "Failed to create a socket for '%s': %s", spec, STRERROR(errno));
                goto out;
        }
        int one = 1;
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
                r = log_error_errno(errno, "Failed to bind '%s': %s", spec, STRERROR(errno));
                close(fd);
                goto out;
        }
        if (listen(fd, (int) backlog) < 0) {
                r = log_error_errno(errno, "Failed to listen on '%s': %s", spec, STRERROR(errno));
                close(fd);
                goto out;
        }
        listeners_add(ls, fd, res->ai_family, spec, NULL);
        r = 0;
out:
        freeaddrinfo(res);
        return r;
}

int listeners_open(Listeners *ls, char * const *binds, unsigned backlog) {
        *ls = (Listeners) {0};
        int r = listeners_from_systemd(ls);
        if (r != 0)
                return r < 0 ? r : 0;

        for (size_t i = 0; binds && binds[i]; i++) {
                const char *b = binds[i];
                if (strncmp(b, "unix://", 7) == 0)
                        r = bind_unix(ls, b, b + 7, backlog);
                else if (strncmp(b, "unix:", 5) == 0)
                        r = bind_unix(ls, b, b + 5, backlog);
                else
                        r = bind_inet(ls, b, backlog);
                if (r < 0)
                        return r;
        }
        return 0;
}

void listeners_close(Listeners *ls, bool unlink_paths) {
        for (size_t i = 0; i < ls->n; i++) {
                if (ls->items[i].fd >= 0)
                        close(ls->items[i].fd);
                if (unlink_paths && ls->items[i].unix_path)
                        (void) unlink(ls->items[i].unix_path);
                free(ls->items[i].name);
                free(ls->items[i].unix_path);
        }
        free(ls->items);
        *ls = (Listeners) {0};
}
