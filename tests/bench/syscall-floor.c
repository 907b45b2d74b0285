/* syscall-floor: what the kernel alone needs to write what unitcorn-generator
 * writes for the generator benchmark (1,120 drop-in directories and files of
 * ~900 bytes, 1,000+ autostart links), with nothing else done.  Used by
 * tests/bench/generator to show how much of the generator's time is the
 * filesystem's.  Usage: syscall-floor DIR [COUNT] (DIR must be empty). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: syscall-floor DIR [COUNT]\n");
                return 2;
        }
        int count = argc > 2 ? atoi(argv[2]) : 1120;
        int d = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0 || mkdirat(d, "apps.target.wants", 0755) < 0) {
                perror(argv[1]);
                return 1;
        }
        char content[900];
        memset(content, 'x', sizeof content);
        double t0 = now_ms();
        for (int i = 0; i < count; i++) {
                char dir[64], file[96], link[96];
                snprintf(dir, sizeof dir, "app@p%05d.service.d", i);
                snprintf(file, sizeof file, "%s/50-supervisor.conf", dir);
                snprintf(link, sizeof link, "apps.target.wants/app@p%05d.service", i);
                int fd;
                if (mkdirat(d, dir, 0755) < 0 ||
                    (fd = openat(d, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
                    write(fd, content, sizeof content) != (ssize_t) sizeof content || close(fd) < 0 ||
                    symlinkat("/usr/lib/systemd/system/app@.service", d, link) < 0) {
                        perror(dir);
                        return 1;
                }
        }
        printf("%.3f\n", now_ms() - t0);
        return 0;
}
