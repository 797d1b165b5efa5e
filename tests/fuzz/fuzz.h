/*
 * fuzz.h - what the libFuzzer harnesses share: one context and one private
 * temporary directory per process, writing an input to a file, and quiet
 * stdio (harnesses of code that prints its errors).
 */
#ifndef OVL_FUZZ_H
#define OVL_FUZZ_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include "ovl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The process's context (created on first use, never freed). */
struct ovl_ctx *fuzz_ctx(void);
/* A path in the process's temporary directory (removed at exit). */
const char *fuzz_path(const char *name);
/* Writes data to path (replacing it); aborts on failure: the harness is broken. */
void fuzz_write(const char *path, const uint8_t *data, size_t size);
/* data as a NUL-terminated string (the previous one is freed). */
char *fuzz_string(const uint8_t *data, size_t size);
/* Sends stdio's stderr to /dev/null; sanitizer and libFuzzer reports are
 * written to fd 2 directly and still show. */
void fuzz_quiet(void);
/* Fails the run (a crash libFuzzer records) when cond is false. */
#define FUZZ_ASSERT(cond) do { if (!(cond)) fuzz_fail(#cond, __FILE__, __LINE__); } while (0)
void fuzz_fail(const char *what, const char *file, int line) __attribute__((noreturn));

#endif
