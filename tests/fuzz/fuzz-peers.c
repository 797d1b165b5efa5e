/*
 * fuzz-peers.c - the peer list file of `ovlctl peer sync FILE` and `ovlctl
 * udp run` (ovlctl_read_peers): refused with a message or read as peers
 * whose subnet is a string.
 */
#include <stdlib.h>
#include <jansson.h>

#include "fuzz.h"
#include "ovlctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	const char *path = fuzz_path("peers.json");
	struct ovl_peer *peers = NULL;
	json_t *root = NULL;
	size_t count = 0, i;

	if (!quiet++)
		fuzz_quiet();
	fuzz_write(path, data, size);
	if (ovlctl_read_peers("peer sync", path, &root, &peers, &count) != 0)
		return 0;
	for (i = 0; i < count; i++)
		FUZZ_ASSERT(peers[i].subnet);
	free(peers);
	json_decref(root);
	return 0;
}
