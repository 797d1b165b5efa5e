/*
 * fileio.h - small-file helpers shared by the config loader, the file
 * store and subnet.env: read a whole file, create directories, replace a
 * file atomically (temporary file, fsync, rename, directory fsync).
 */
#ifndef OVL_FILEIO_H
#define OVL_FILEIO_H

#include <stddef.h>
#include "core/internal.h"

/* Creates dir and its missing parents with mode 0755. */
int file_make_dirs(struct ovl_ctx *ctx, const char *dir);

/* Reads the whole file at path (a pipe or /dev/stdin too) into a new
 * NUL-terminated buffer; -EFBIG when it holds more than limit bytes. */
int file_read(struct ovl_ctx *ctx, const char *path, size_t limit, char **data,
	      size_t *length);

/* Replaces path with data (mode 0644), creating its directory.  tmp_path is
 * the temporary name to use (for callers that hold a lock, so that a crash
 * leaves no litter), or NULL for a unique one.  With kept_fd the new file's
 * descriptor is returned open (it pins the inode for a cache check). */
int file_replace(struct ovl_ctx *ctx, const char *path, const char *tmp_path,
		 const char *data, size_t length, int *kept_fd);
/* The same for a secret (a private key): mode 0400, a unique temporary
 * name (created 0600 by mkostemp, so never readable by others). */
int file_replace_secret(struct ovl_ctx *ctx, const char *path, const char *data, size_t length);
/* The same with the content in pieces (consumed: partial writes move them
 * on), so that a large file can be written from where its parts are. */
struct iovec;
int file_replace_pieces(struct ovl_ctx *ctx, const char *path, const char *tmp_path,
			struct iovec *pieces, size_t count, int *kept_fd);

#endif
