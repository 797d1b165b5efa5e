/*
 * fuzz.c - the harnesses' shared helpers (see fuzz.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "fuzz.h"

static struct ovl_ctx *ctx;
static char dir[64];
static char *string;

static void remove_dir(void)
{
	char command[128];

	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	if (system(command) != 0)
		fprintf(stderr, "fuzz: cannot remove %s\n", dir);
}

struct ovl_ctx *fuzz_ctx(void)
{
	if (!ctx && ovl_ctx_new(&ctx) < 0)
		fuzz_fail("ovl_ctx_new", __FILE__, __LINE__);
	return ctx;
}

const char *fuzz_path(const char *name)
{
	static char path[128];

	if (!*dir) {
		/* run.sh points FUZZ_TMPDIR at tmpfs (the file store fsyncs
		 * every write) and removes it, also after a crash */
		snprintf(dir, sizeof(dir), "%.40s/ovl-fuzz.XXXXXX",
			 getenv("FUZZ_TMPDIR") ? getenv("FUZZ_TMPDIR") : "/tmp");
		if (!mkdtemp(dir))
			fuzz_fail("mkdtemp", __FILE__, __LINE__);
		atexit(remove_dir);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

void fuzz_write(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd) < 0)
		fuzz_fail("writing the input file", __FILE__, __LINE__);
}

char *fuzz_string(const uint8_t *data, size_t size)
{
	free(string);
	string = malloc(size + 1);
	if (!string)
		fuzz_fail("malloc", __FILE__, __LINE__);
	memcpy(string, data, size);
	string[size] = '\0';
	return string;
}

void fuzz_quiet(void)
{
	FILE *null = fopen("/dev/null", "w");

	if (null)
		stderr = null;
}

void fuzz_fail(const char *what, const char *file, int line)
{
	char message[256];
	int length = snprintf(message, sizeof(message), "%s:%d: %s\n", file, line, what);

	if (write(STDERR_FILENO, message, (size_t)length) < 0)
		abort();
	abort();
}
