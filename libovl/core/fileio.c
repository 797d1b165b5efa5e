/*
 * fileio.c - small-file helpers: read a whole file, and replace one
 * durably (a reader sees either the old or the new whole file, and after a
 * crash the new one survives or the old one does, never a torn mix).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/uio.h>

#include "core/fileio.h"

int file_make_dirs(struct ovl_ctx *ctx, const char *dir)
{
	char path[PATH_MAX];
	size_t length = strlen(dir), i;

	if (length >= sizeof(path))
		return ctx_fail(ctx, -ENAMETOOLONG, "%s: path too long", dir);
	memcpy(path, dir, length + 1);
	for (i = 1; i <= length; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return ctx_fail(ctx, -errno, "cannot create directory %s: %s",
					path, ovl_strerror(errno));
		path[i] = i < length ? '/' : '\0';
	}
	return 0;
}

int file_read(struct ovl_ctx *ctx, const char *path, size_t limit, char **data,
	      size_t *length)
{
	size_t used = 0, size = 4096;
	char *buffer = NULL, *bigger;
	ssize_t got;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ctx_fail(ctx, -errno, "%s: cannot open: %s", path, ovl_strerror(errno));
	for (;;) {
		/* one byte more than the data, for the NUL */
		if (!buffer || used + 1 == size) {
			if (buffer)
				size *= 2;
			bigger = realloc(buffer, size);
			if (!bigger) {
				err = ctx_fail(ctx, -ENOMEM, "%s: out of memory", path);
				break;
			}
			buffer = bigger;
		}
		/* read(), not pread(): pipes and /dev/stdin have no offsets */
		got = read(fd, buffer + used, size - used - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = ctx_fail(ctx, -errno, "%s: cannot read: %s", path,
				       ovl_strerror(errno));
			break;
		}
		if (got == 0)
			break;
		used += (size_t)got;
		if (used > limit) {
			err = ctx_fail(ctx, -EFBIG, "%s: larger than %zu bytes", path, limit);
			break;
		}
	}
	close(fd);
	if (err < 0) {
		free(buffer);
		return err;
	}
	buffer[used] = '\0';
	*data = buffer;
	*length = used;
	return 0;
}

/* -1 with errno set on failure; consumes pieces (partial writes move
 * their bases on). */
static int write_all(int fd, struct iovec *pieces, size_t count)
{
	ssize_t n;

	while (count) {
		n = writev(fd, pieces, count < IOV_MAX ? (int)count : IOV_MAX);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		for (; count && (size_t)n >= pieces->iov_len; pieces++, count--)
			n -= (ssize_t)pieces->iov_len;
		if (count) {
			pieces->iov_base = (char *)pieces->iov_base + n;
			pieces->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

static int replace(struct ovl_ctx *ctx, const char *path, const char *tmp_path,
		   struct iovec *pieces, size_t count, int *kept_fd, mode_t mode);

int file_replace(struct ovl_ctx *ctx, const char *path, const char *tmp_path,
		 const char *data, size_t length, int *kept_fd)
{
	struct iovec piece = { (void *)data, length };

	return replace(ctx, path, tmp_path, &piece, 1, kept_fd, 0644);
}

int file_replace_secret(struct ovl_ctx *ctx, const char *path, const char *data, size_t length)
{
	struct iovec piece = { (void *)data, length };

	return replace(ctx, path, NULL, &piece, 1, NULL, 0400);
}

int file_replace_pieces(struct ovl_ctx *ctx, const char *path, const char *tmp_path,
			struct iovec *pieces, size_t count, int *kept_fd)
{
	return replace(ctx, path, tmp_path, pieces, count, kept_fd, 0644);
}

static int replace(struct ovl_ctx *ctx, const char *path, const char *tmp_path,
		   struct iovec *pieces, size_t count, int *kept_fd, mode_t mode)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *step = "";
	int fd, err;

	if (strlen(path) + 8 >= sizeof(tmp))
		return ctx_fail(ctx, -ENAMETOOLONG, "%s: path too long", path);
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	err = file_make_dirs(ctx, dir);
	if (err < 0)
		return err;
	if (tmp_path) {
		snprintf(tmp, sizeof(tmp), "%s", tmp_path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	} else {
		snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
		fd = mkostemp(tmp, O_CLOEXEC);
	}
	if (fd < 0)
		return ctx_fail(ctx, -errno, "cannot create %s: %s", tmp, ovl_strerror(errno));
	/* the mode must not depend on the caller's umask or mkostemp's 0600 */
	if (fchmod(fd, mode) < 0)
		step = "chmod";
	else if (write_all(fd, pieces, count) < 0)
		step = "write";
	else if (fsync(fd) < 0)
		step = "fsync";
	else if (rename(tmp, path) < 0)
		step = "rename";
	if (*step) {
		err = ctx_fail(ctx, -errno, "cannot replace %s (%s %s): %s", path, step,
			       tmp, ovl_strerror(errno));
		unlink(tmp);
		close(fd);
		return err;
	}
	err = sync_dir(dir);
	if (err < 0) {
		close(fd);
		return ctx_fail(ctx, err, "%s: cannot fsync directory %s: %s", path, dir,
				ovl_strerror(err));
	}
	if (kept_fd)
		*kept_fd = fd;
	else
		close(fd);
	return 0;
}
