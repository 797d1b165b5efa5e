/*
 * delegate.c - finding the delegate plugin on CNI_PATH and running it the
 * way libcni's invoke package does: same environment, the config on stdin,
 * its result (or error) on our stdout, its exit status ours.
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

int cni_delegate_run(const char *path, const char *text,
		     const char *cni_version, struct cni_error *err)
{
	int fd = stdin_file(text, err), status;
	pid_t pid;

	if (fd < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(fd);
		return cni_fail(err, CNI_ERR_INTERNAL, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		char *argv[] = { (char *)path, NULL };

		if (dup2(fd, STDIN_FILENO) >= 0)
			execve(path, argv, environ);
		cni_fail(err, CNI_ERR_INTERNAL, "cannot execute delegate %s: %s",
			 path, strerror(errno));
		cni_error_print(err, cni_version);
		_exit(1);
	}
	close(fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return cni_fail(err, CNI_ERR_INTERNAL, "waitpid: %s",
					strerror(errno));
	if (WIFSIGNALED(status))
		return cni_fail(err, CNI_ERR_INTERNAL,
				"delegate %s was killed by signal %d", path,
				WTERMSIG(status));
	return WEXITSTATUS(status);
}
