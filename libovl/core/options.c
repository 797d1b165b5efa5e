/*
 * options.c - the one rule for option structs and flags that every public
 * call applies on entry (ovl(3), "Option structures"): a size below the
 * struct's first release is -EINVAL, bytes past what this library knows
 * must be zero (-E2BIG otherwise, as openat2 and clone3 do), and unknown
 * flag bits are -EINVAL.
 */
#include <string.h>

#include "core/internal.h"

static int size_too_small(struct ovl_ctx *ctx, const char *what, size_t size, size_t first_size)
{
	return ctx_fail(ctx, -EINVAL, "%s: size %zu is below %zu, its size in libovl 0.1 "
			"(set it with the struct's _INIT macro)", what, size, first_size);
}

int options_check(struct ovl_ctx *ctx, const char *what, const void *options,
		  size_t first_size, size_t known_size)
{
	size_t size = *(const size_t *)options, i;

	if (size < first_size)
		return size_too_small(ctx, what, size, first_size);
	/* A newer caller's fields this library cannot honour must be unset. */
	for (i = known_size; i < size; i++)
		if (((const unsigned char *)options)[i])
			return ctx_fail(ctx, -E2BIG, "%s: byte %zu of %zu is set, past the %zu "
					"bytes this libovl %s knows", what, i, size, known_size,
					ovl_version());
	return 0;
}

int output_check(struct ovl_ctx *ctx, const char *what, void *output, size_t first_size,
		 size_t known_size)
{
	size_t size = *(const size_t *)output;

	if (size < first_size)
		return size_too_small(ctx, what, size, first_size);
	/* Fields of a newer header that this library does not fill read as
	 * zero: "not reported". */
	if (size > known_size)
		memset((char *)output + known_size, 0, size - known_size);
	return 0;
}

int flags_check(struct ovl_ctx *ctx, const char *what, unsigned int flags, unsigned int known)
{
	if (flags & ~known)
		return ctx_fail(ctx, -EINVAL, "%s: unknown bits 0x%x in flags", what,
				flags & ~known);
	return 0;
}
