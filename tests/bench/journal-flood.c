/* journal-flood: how many access-log entries journald takes in per second,
 * with nothing else done: COUNT entries shaped like unitcorn's access
 * entries (server/access.c: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and the
 * HTTP_* fields, a port and a duration that vary), sent with
 * sd_journal_sendv() one after another.  Used by tests/bench/run's journal
 * section: journald's ceiling, beside unitcorn's req/s with its access log
 * on.  Usage: journal-flood COUNT [FIELDS] (FIELDS: send only the first
 * FIELDS fields; MESSAGE, PRIORITY and the identifier are the first 3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-journal.h>

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

#define FIELD(s) { (char *) (s), sizeof(s) - 1 }

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: journal-flood COUNT [FIELDS]\n");
                return 2;
        }
        long count = atol(argv[1]);
        struct iovec iov[] = {
                FIELD("MESSAGE=127.0.0.1 - - [25/Nov/2026:18:00:00 +0000] \"GET / HTTP/1.1\" 200 13 \"-\" \"wrk\""),
                FIELD("PRIORITY=6"),
                FIELD("SYSLOG_IDENTIFIER=unitcorn"),
                FIELD("HTTP_METHOD=GET"),
                FIELD("HTTP_PATH=/"),
                FIELD("HTTP_QUERY="),
                FIELD("HTTP_VERSION=HTTP/1.1"),
                FIELD("HTTP_STATUS=200"),
                FIELD("HTTP_BYTES=13"),
                FIELD("HTTP_DURATION_USEC="),           /* varies: filled below */
                FIELD("REMOTE_ADDR=127.0.0.1"),
                FIELD("REMOTE_PORT="),                  /* varies */
                FIELD("WORKER_PID=1234"),
        };
        size_t n = sizeof iov / sizeof iov[0];
        if (argc > 2 && atol(argv[2]) > 0 && (size_t) atol(argv[2]) < n)
                n = (size_t) atol(argv[2]);
        char dur[48], port[48];
        double start = now_s();
        for (long i = 0; i < count; i++) {
                iov[9] = (struct iovec) { dur, (size_t) snprintf(dur, sizeof dur, "HTTP_DURATION_USEC=%ld", 20 + i % 50) };
                iov[11] = (struct iovec) { port, (size_t) snprintf(port, sizeof port, "REMOTE_PORT=%ld", 32768 + i % 28000) };
                int r = sd_journal_sendv(iov, (int) n);
                if (r < 0) {
                        fprintf(stderr, "journal-flood: sd_journal_sendv: %s\n", strerror(-r));
                        return 1;
                }
        }
        double s = now_s() - start;
        printf("%ld %.3f %.0f\n", count, s, (double) count / s);
        return 0;
}
