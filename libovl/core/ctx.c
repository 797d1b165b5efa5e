/*
 * ctx.c - the library context: last error, log callback, target network
 * namespace; and the library-wide helpers ovl_version, ovl_strerror, ovl_free.
 */
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/socket.h>

#include "core/internal.h"

OVL_EXPORT const char *ovl_version(void)
{
	return OVL_VERSION_STRING;
}

OVL_EXPORT const char *ovl_strerror(int err)
{
	static const char unknown[] = "Unknown error";
	locale_t c_locale;
	const char *text;

	if (err < 0)
		err = -err;
	if (err == 0)
		return "Success";
	/* strerror_l in the C locale: the untranslated text, which glibc and
	 * musl both keep in a static table for the errnos they know (strerror
	 * may use a buffer that another call rewrites).  Both hand out their
	 * built-in C locale here, allocating nothing; an errno glibc does not
	 * know gets a per-thread buffer instead, so its text is not passed on. */
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (!c_locale)
		return unknown;
	text = strerror_l(err, c_locale);
	freelocale(c_locale);
	return text && strncmp(text, unknown, sizeof(unknown) - 1) ? text : unknown;
}

OVL_EXPORT void ovl_free(void *memory)
{
	free(memory);
}

OVL_EXPORT int ovl_ctx_new(struct ovl_ctx **ctx)
{
	struct ovl_ctx *new_ctx;

	if (!ctx)
		return -EINVAL;
	new_ctx = calloc(1, sizeof(*new_ctx));
	if (!new_ctx)
		return -ENOMEM;
	new_ctx->netns_fd = -1;
	*ctx = new_ctx;
	return 0;
}

/* The ctx owns the socket netlink/nl.c opens on demand; it is dropped here
 * with libnl's own call so that core/ needs nothing from the layer above. */
static void drop_socket(struct ovl_ctx *ctx)
{
	nl_socket_free(ctx->sock);
	ctx->sock = NULL;
}

OVL_EXPORT void ovl_ctx_free(struct ovl_ctx *ctx)
{
	if (!ctx)
		return;
	drop_socket(ctx);
	if (ctx->netns_fd >= 0)
		close(ctx->netns_fd);
	free(ctx);
}

OVL_EXPORT void ovl_ctx_set_log(struct ovl_ctx *ctx, int max_level,
				ovl_log_fn fn, void *userdata)
{
	if (!ctx)
		return;
	ctx->log_fn = fn;
	ctx->log_userdata = userdata;
	ctx->log_max_level = max_level;
}

OVL_EXPORT const char *ovl_ctx_error(const struct ovl_ctx *ctx)
{
	return ctx ? ctx->error : "no context";
}

OVL_EXPORT int ovl_ctx_set_netns(struct ovl_ctx *ctx, int netns_fd)
{
	int copy = -1;

	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	if (netns_fd >= 0) {
		copy = fcntl(netns_fd, F_DUPFD_CLOEXEC, 3);
		if (copy < 0)
			return ctx_fail(ctx, -errno, "cannot duplicate netns fd %d: %s",
					netns_fd, ovl_strerror(errno));
	}
	/* The socket belongs to the old namespace; the next call opens one in
	 * the new namespace. */
	drop_socket(ctx);
	if (ctx->netns_fd >= 0)
		close(ctx->netns_fd);
	ctx->netns_fd = copy;
	return 0;
}

OVL_EXPORT int ovl_ctx_set_netns_name(struct ovl_ctx *ctx, const char *name)
{
	char path[PATH_MAX];
	int fd, err;

	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return ctx_fail(ctx, -EINVAL, "invalid network namespace name '%s'",
				name ? name : "(null)");
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ctx_fail(ctx, -errno, "network namespace %s: %s", name,
				ovl_strerror(errno));
	err = ovl_ctx_set_netns(ctx, fd);
	close(fd);
	return err;
}

int ctx_fail(struct ovl_ctx *ctx, int err, const char *format, ...)
{
	va_list args;

	if (ctx) {
		va_start(args, format);
		vsnprintf(ctx->error, sizeof(ctx->error), format, args);
		va_end(args);
	}
	return err;
}

int ctx_fail_prefix(struct ovl_ctx *ctx, int err, const char *format, ...)
{
	char old[sizeof(ctx->error)];
	size_t used;
	va_list args;

	if (!ctx)
		return err;
	memcpy(old, ctx->error, sizeof(old));
	va_start(args, format);
	vsnprintf(ctx->error, sizeof(ctx->error), format, args);
	va_end(args);
	used = strlen(ctx->error);
	snprintf(ctx->error + used, sizeof(ctx->error) - used, "%s", old);
	return err;
}

void ctx_clear_error(struct ovl_ctx *ctx)
{
	if (ctx)
		ctx->error[0] = '\0';
}

void ctx_log(struct ovl_ctx *ctx, int level, const char *format, ...)
{
	char message[1024];
	va_list args;

	if (!ctx || !ctx->log_fn || level > ctx->log_max_level)
		return;
	va_start(args, format);
	vsnprintf(message, sizeof(message), format, args);
	va_end(args);
	ctx->log_fn(ctx->log_userdata, level, message);
}
