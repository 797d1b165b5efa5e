/*
 * state.c - the rendered delegate config kept per container in
 * <dataDir>/<containerID> so DEL can replay it without subnet.env.  The file
 * is written whole or not at all (temp file, fsync, rename, fsync of the
 * directory): a zero-byte file after a power loss made flannel's DEL fail.
 * Also the one way ovl-cni reads a small file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cni.h"

static int io_fail(struct cni_error *err, const char *what, const char *path)
{
	return cni_fail(err, CNI_ERR_IO, "%s %s: %s", what, path, strerror(errno));
}

/* mkdir -p with mode 0700 for every directory it creates. */
static int make_dirs(const char *dir, struct cni_error *err)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (len >= sizeof(path))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"dataDir: path is longer than %d bytes", PATH_MAX - 1);
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return io_fail(err, "cannot create", path);
		*p = saved;
		if (saved == '\0')
			return 0;
	}
}

static int sync_dir(const char *dir, struct cni_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return io_fail(err, "cannot open", dir);
	if (fsync(fd) < 0)
		rc = io_fail(err, "cannot fsync", dir);
	close(fd);
	return rc;
}

int cni_write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

int cni_state_save(const char *data_dir, const char *container_id,
		   const char *text, struct cni_error *err)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	int fd;

	if (make_dirs(data_dir, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", data_dir, container_id);
	/* a fixed short name: a 255-byte containerID is still a valid file */
	if (snprintf(tmp, sizeof(tmp), "%s/.ovl-cni.XXXXXX", data_dir) >= (int)sizeof(tmp))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"dataDir: path is longer than %d bytes", PATH_MAX - 1);
	fd = mkostemp(tmp, O_CLOEXEC);	/* mode 0600 */
	if (fd < 0)
		return io_fail(err, "cannot create", tmp);
	if (cni_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		io_fail(err, "cannot write", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		io_fail(err, "cannot rename to", path);
		unlink(tmp);
		return -1;
	}
	return sync_dir(data_dir, err);
}

int cni_file_read(const char *path, int flags, char **text, size_t *len,
		  struct cni_error *err)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	*text = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return io_fail(err, "cannot open", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CNI_MAX_STDIN) {
		close(fd);
		return cni_fail(err, CNI_ERR_IO,
				"%s is not a regular file of at most 1 MiB", path);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return cni_fail(err, CNI_ERR_INTERNAL, "out of memory");
	}
	do
		n = read(fd, buf, (size_t)st.st_size);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0) {
		free(buf);
		return io_fail(err, "cannot read", path);
	}
	buf[n] = '\0';
	*text = buf;
	if (len)
		*len = (size_t)n;
	return 0;
}

int cni_state_load(const char *data_dir, const char *container_id,
		   char **text, struct cni_error *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", data_dir, container_id);
	return cni_file_read(path, O_NOFOLLOW, text, NULL, err);
}

int cni_state_remove(const char *data_dir, const char *container_id,
		     struct cni_error *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", data_dir, container_id);
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		return io_fail(err, "cannot remove", path);
	}
	return sync_dir(data_dir, err);
}
