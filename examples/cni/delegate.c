/*
 * delegate.c - finding the delegate plugin on CNI_PATH and running it the
 * way libcni's invoke package does: same environment, the config on stdin,
 * its result (or error) on our stdout or captured, its exit status ours;
 * and asking it which spec versions it speaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cni.h"

extern char **environ;

int cni_delegate_find(const char *type, const char *cni_path, char **path,
		      struct cni_error *err)
{
	char *dirs, *save = NULL, *dir, full[PATH_MAX];
	struct stat st;

	*path = NULL;
	if (strchr(type, '/') || strcmp(type, ".") == 0 || strcmp(type, "..") == 0)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"delegate type \"%s\" must be a plugin name, not a path",
				type);
	dirs = strdup(cni_path);
	if (!dirs)
		return cni_fail(err, CNI_ERR_INTERNAL, "out of memory");
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		if (snprintf(full, sizeof(full), "%s/%s", dir, type) >= (int)sizeof(full))
			continue;
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(full, X_OK) == 0) {
			free(dirs);
			*path = strdup(full);
			return *path ? 0 : cni_fail(err, CNI_ERR_INTERNAL, "out of memory");
		}
	}
	free(dirs);
	return cni_fail(err, CNI_ERR_INTERNAL,
			"failed to find plugin \"%s\" in CNI_PATH \"%s\"", type,
			cni_path);
}

/* The config as an in-memory file: no pipe to deadlock on, any size. */
static int stdin_file(const char *text, struct cni_error *err)
{
	size_t len = strlen(text);
	int fd = memfd_create("ovl-cni-delegate", MFD_CLOEXEC);

	if (fd < 0)
		return cni_fail(err, CNI_ERR_IO, "memfd_create: %s", strerror(errno));
	if (cni_write_all(fd, text, len) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return cni_fail(err, CNI_ERR_IO, "delegate stdin: %s", strerror(errno));
	}
	return fd;
}

/* Reads the whole of fd from its start into a NUL-terminated string. */
static char *read_back(int fd, struct cni_error *err)
{
	struct stat st;
	char *buf;
	ssize_t n = 0, got;

	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		cni_fail(err, CNI_ERR_IO, "delegate stdout: %s", strerror(errno));
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		cni_fail(err, CNI_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	while (n < st.st_size) {
		got = read(fd, buf + n, (size_t)(st.st_size - n));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += got;
	}
	buf[n] = '\0';
	return buf;
}

int cni_delegate_run(const char *path, const char *text, const char *command,
		     const char *cni_version, char **output,
		     struct cni_error *err)
{
	int fd = stdin_file(text, err), out = -1, status;
	pid_t pid;

	if (output)
		*output = NULL;
	if (fd < 0)
		return -1;
	if (output && (out = stdin_file("", err)) < 0) {
		close(fd);
		return -1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(fd);
		if (out >= 0)
			close(out);
		return cni_fail(err, CNI_ERR_INTERNAL, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		char *argv[] = { (char *)path, NULL };

		if (dup2(fd, STDIN_FILENO) >= 0 &&
		    (out < 0 || dup2(out, STDOUT_FILENO) >= 0) &&
		    (!command || setenv("CNI_COMMAND", command, 1) == 0))
			execve(path, argv, environ);
		cni_fail(err, CNI_ERR_INTERNAL, "cannot execute delegate %s: %s",
			 path, strerror(errno));
		cni_error_print(err, cni_version);
		_exit(1);
	}
	close(fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			if (out >= 0)
				close(out);
			return cni_fail(err, CNI_ERR_INTERNAL, "waitpid: %s",
					strerror(errno));
		}
	if (out >= 0) {
		*output = read_back(out, err);
		close(out);
		if (!*output)
			return -1;
	}
	if (WIFSIGNALED(status))
		return cni_fail(err, CNI_ERR_INTERNAL,
				"delegate %s was killed by signal %d", path,
				WTERMSIG(status));
	return WEXITSTATUS(status);
}

const char *cni_delegate_version(const char *path, const char *wanted)
{
	struct cni_error ignored = { 0 };
	char *output = NULL;
	json_t *info = NULL, *v;
	int found = 0, best = -1, index;
	size_t i;

	/* libcni's GetVersionInfo asks with its own newest version */
	if (cni_delegate_run(path, "{\"cniVersion\":\"" CNI_LATEST_VERSION "\"}",
			     "VERSION", CNI_LATEST_VERSION, &output, &ignored) == 0)
		info = json_loads(output, 0, NULL);
	json_array_foreach(json_object_get(info, "supportedVersions"), i, v) {
		if (!json_is_string(v))
			continue;
		found |= strcmp(json_string_value(v), wanted) == 0;
		index = cni_version_index(json_string_value(v));
		if (index > best)
			best = index;
	}
	free(output);
	json_decref(info);
	return found || best < 0 ? wanted : cni_version_name(best);
}
