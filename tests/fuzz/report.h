/* report.h: how a harness says what failed.
 *
 * tests/fuzz/run passes -close_fd_mask=3 so that the code under test's own
 * messages (every one of them formatted, none printed) do not flood the
 * log; libFuzzer keeps its own reports on a copy of stderr.  A harness's
 * check needs one too: report_init(), from LLVMFuzzerInitialize(), takes a
 * copy before libFuzzer closes fd 2, and report_fail() prints there and
 * aborts (libFuzzer then keeps the input). */
#pragma once

#include <stdio.h>

void report_init(void);
FILE *report_file(void);
void report_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
