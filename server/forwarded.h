/* forwarded.h: --forwarded-allow-ips and gunicorn's secure_scheme_headers.
 *
 * As gunicorn: the scheme headers (X-Forwarded-Proto: https,
 * X-Forwarded-Protocol: ssl, X-Forwarded-SSL: on; names and values
 * exactly as gunicorn's default secure_scheme_headers) set
 * wsgi.url_scheme only on a connection from a trusted peer: one listed in
 * --forwarded-allow-ips (addresses, or, as gunicorn 22, networks
 * "10.0.0.0/8"), every peer with "*", and always a UNIX-socket peer (a
 * local front end; gunicorn trusts any peer that is not an IP address).
 * From anyone else they are ignored: the scheme stays "http".  Two such
 * headers that disagree are a 400, as gunicorn's InvalidSchemeHeaders.
 *
 * REMOTE_ADDR is never taken from X-Forwarded-For (gunicorn stopped doing
 * that in 19.0): it is the peer's address.  An IPv4-mapped IPv6 peer
 * (::ffff:a.b.c.d, a dual-stack listener) matches its IPv4 form.  Not
 * done: gunicorn 22's forwarder_headers (SCRIPT_NAME from a proxy), the
 * secure_scheme_headers setting itself (the default is fixed). */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>

#include "http.h"

/* Parses the list (entries already split at commas).  Returns 0, or
 * -EINVAL after printing which entry is not an address or network. */
int forwarded_init(char **list);
/* 1: the request says https and the peer may say so; 0: http; -1:
 * contradictory scheme headers from a trusted peer (answer 400). */
int forwarded_scheme(const HttpRequest *req, const struct sockaddr_storage *peer);
