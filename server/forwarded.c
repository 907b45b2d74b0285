/* forwarded.c: see forwarded.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "forwarded.h"
#include "strbuf.h"

/* At most this many entries in --forwarded-allow-ips. */
#define MAX_ALLOWED 64

typedef struct Allowed {
        int family;                      /* AF_INET or AF_INET6 */
        unsigned char addr[16];
        unsigned prefix;                 /* bits that must match */
} Allowed;

static Allowed allowed[MAX_ALLOWED];
static size_t n_allowed;
static bool allow_all;

/* gunicorn's default secure_scheme_headers: the value that means https.
 * Any other value of one of these fields means http. */
static const struct {
        const char *name;
        size_t len;
        const char *https;
} scheme_headers[] = {
        { "X-Forwarded-Protocol", 20, "ssl" },
        { "X-Forwarded-Proto",    17, "https" },
        { "X-Forwarded-Ssl",      15, "on" },
};

static int parse_entry(const char *s, Allowed *ret) {
        char buf[INET6_ADDRSTRLEN + 8];
        if (strlen(s) >= sizeof buf)
                return -EINVAL;
        strcpy(buf, s);
        char *slash = strchr(buf, '/');
        if (slash)
                *slash = 0;
        Allowed a = {0};
        if (inet_pton(AF_INET, buf, a.addr) == 1) {
                a.family = AF_INET;
                a.prefix = 32;
        } else if (inet_pton(AF_INET6, buf, a.addr) == 1) {
                a.family = AF_INET6;
                a.prefix = 128;
        } else
                return -EINVAL;
        if (slash) {
                char *end;
                errno = 0;
                unsigned long p = strtoul(slash + 1, &end, 10);
                if (slash[1] < '0' || slash[1] > '9' || *end || errno || p > a.prefix)
                        return -EINVAL;
                a.prefix = (unsigned) p;
        }
        *ret = a;
        return 0;
}

int forwarded_init(char **list) {
        allow_all = false;
        n_allowed = 0;
        for (size_t i = 0; list && list[i]; i++) {
                if (streq(list[i], "*")) {
                        allow_all = true;
                        continue;
                }
                if (n_allowed == MAX_ALLOWED) {
                        fprintf(stderr, "unitcorn: error: --forwarded-allow-ips: more than %d entries\n", MAX_ALLOWED);
                        return -EINVAL;
                }
                if (parse_entry(list[i], &allowed[n_allowed]) < 0) {
                        fprintf(stderr, "unitcorn: error: --forwarded-allow-ips: '%s' is not an IP address "
                                "or network (ADDRESS/PREFIX), nor '*'\n", list[i]);
                        return -EINVAL;
                }
                n_allowed++;
        }
        return 0;
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits) {
        size_t bytes = bits / 8;
        if (memcmp(a, b, bytes) != 0)
                return false;
        if (bits % 8 == 0)
                return true;
        unsigned char mask = (unsigned char) (0xff << (8 - bits % 8));
        return (a[bytes] & mask) == (b[bytes] & mask);
}

static bool peer_trusted(const struct sockaddr_storage *peer) {
        if (allow_all)
                return true;
        int family = peer->ss_family;
        const unsigned char *addr;
        if (family == AF_INET)
                addr = (const unsigned char *) &((const struct sockaddr_in *) peer)->sin_addr;
        else if (family == AF_INET6) {
                const struct in6_addr *a6 = &((const struct sockaddr_in6 *) peer)->sin6_addr;
                addr = a6->s6_addr;
                if (IN6_IS_ADDR_V4MAPPED(a6)) {
                        family = AF_INET;
                        addr += 12;
                }
        } else
                return true;             /* a UNIX socket: local, as gunicorn */
        for (size_t i = 0; i < n_allowed; i++)
                if (allowed[i].family == family && prefix_match(allowed[i].addr, addr, allowed[i].prefix))
                        return true;
        return false;
}

int forwarded_scheme(const HttpRequest *req, const struct sockaddr_storage *peer) {
        int scheme = -2;                 /* none seen yet */
        bool trusted = false, checked = false;
        for (size_t i = 0; i < req->n_headers; i++) {
                const HttpHeader *h = &req->headers[i];
                for (size_t k = 0; k < ELEMENTSOF(scheme_headers); k++) {
                        if (h->name_len != scheme_headers[k].len ||
                            strncasecmp(http_req_str(req, h->name), scheme_headers[k].name, h->name_len) != 0)
                                continue;
                        if (!checked) {
                                trusted = peer_trusted(peer);
                                checked = true;
                        }
                        if (!trusted)
                                return 0;
                        size_t vl = strlen(scheme_headers[k].https);
                        int s = h->value_len == vl && memcmp(http_req_str(req, h->value), scheme_headers[k].https, vl) == 0;
                        if (scheme != -2 && s != scheme)
                                return -1;
                        scheme = s;
                }
        }
        return scheme == 1;
}
