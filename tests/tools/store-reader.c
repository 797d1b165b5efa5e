/*
 * store-reader.c - the embedder's side of tests/netns/test-store-truncate.sh:
 * one store handle listing the leases over and over, as a host program
 * would, until STOP_FILE exists.  Prints how many listings succeeded and
 * failed and the first few errors; exits 1 when a listing failed with an
 * error other than -EBADMSG (a document that does not parse) or -EAGAIN (a
 * file that kept changing while it was read), or when none succeeded.  A
 * signal kills it, which is what the test looks for.
 *
 *   store-reader URI STOP_FILE
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ovl.h"

int main(int argc, char **argv)
{
	struct ovl_ctx *ctx;
	struct ovl_store *store;
	struct ovl_lease **leases;
	unsigned long ok = 0, unclear = 0, shown = 0, failed = 0;
	size_t count;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: store-reader URI STOP_FILE\n");
		return 2;
	}
	if (ovl_ctx_new(&ctx) < 0)
		return 1;
	err = ovl_store_open(ctx, argv[1], &store);
	if (err < 0) {
		fprintf(stderr, "store-reader: %s\n", ovl_ctx_error(ctx));
		ovl_ctx_free(ctx);
		return 1;
	}
	while (access(argv[2], F_OK) < 0) {
		err = ovl_leases(store, &leases, &count);
		if (!err) {
			ovl_leases_free(leases, count);
			ok++;
			continue;
		}
		failed++;
		if (err != -EBADMSG && err != -EAGAIN)
			unclear++;
		if (shown++ < 5 || (err != -EBADMSG && err != -EAGAIN && unclear <= 5))
			printf("error %d (%s): %s\n", err, ovl_strerror(err), ovl_ctx_error(ctx));
	}
	printf("listings: %lu succeeded, %lu failed, %lu with an unexpected error\n", ok,
	       failed, unclear);
	ovl_store_close(store);
	ovl_ctx_free(ctx);
	return unclear || !ok;
}
