/* spool.h: where a large request body goes instead of the heap (DESIGN
 * §4.3): an unnamed file, written as the body arrives, read back with
 * pread(2) by wsgi.input.
 *
 * The file is opened with O_TMPFILE in $TMPDIR, else /var/tmp: disk-backed
 * on a usual system (where /tmp is often a tmpfs, i.e. RAM), never visible
 * in the directory, and gone with its last descriptor, so a crashed worker
 * leaves nothing behind.  Where O_TMPFILE is refused (a file system without
 * it, a missing directory) it falls back to memfd_create(2), which works
 * everywhere but is shmem, RAM or swap: said once per process in the log.
 *
 * Not here: when to spool (http.c decides, SPOOL_THRESHOLD), reading it
 * (input.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Opens a new, empty spool file (close-on-exec, read-write).  Returns the
 * fd or -errno, logged here. */
int spool_open(void);
/* Writes a then b (either may be empty) at the end of the file: one
 * writev(2), repeated until everything is written.  Returns 0 or -errno
 * (ENOSPC...), logged here. */
int spool_write(int fd, const char *a, size_t a_len, const char *b, size_t b_len);
