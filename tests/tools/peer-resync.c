/*
 * peer-resync.c - one link handle synced again and again, as the agent's
 * resyncs do, for tests/netns/test-peer-resync.sh: a second sync of the
 * same peers reuses the plans of the first and guesses each dumped entry
 * from the first's order, which separate `ovlctl peer sync` runs never do.
 * Reads lines from stdin:
 *   sync [N[:MM]]...   peers 10.244.N.0/24 at 192.168.77.(N+10), MAC
 *                      0e:00:00:00:00:NN (or :MM), in that order
 * and answers each with "ok REQUESTS" (the requests the sync sent, from
 * its debug log) or "error MESSAGE";
 *   how                what the last sync read: "nexthops read" or
 *                      "routes checked alone" (its debug log)
 *
 *   peer-resync LINK      (inside the link's network namespace)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ovl.h"

#define MAX_PEERS 64

static long requests = -1;
static char how[64];

static void on_log(void *userdata, int level, const char *message)
{
	const char *at = strstr(message, " peers: "), *open;

	(void)userdata;
	(void)level;
	if (!at || !strstr(message, "sync of"))
		return;
	requests = strtol(at + 8, NULL, 10);
	open = strchr(at, '(');
	snprintf(how, sizeof(how), "%.*s", open ? (int)strcspn(open + 1, ")") : 0,
		 open ? open + 1 : "");
}

/* "N" or "N:MM" into peer number n's text. */
static int parse_peer(const char *word, char text[3][48], struct ovl_peer *peer)
{
	unsigned int n, mac;
	char tail;
	int fields = sscanf(word, "%u:%x%c", &n, &mac, &tail);

	if (fields == 1)
		mac = n;
	else if (fields != 2)
		return -1;
	if (n > 255 - 10 || mac > 255)
		return -1;
	snprintf(text[0], sizeof(text[0]), "10.244.%u.0/24", n);
	snprintf(text[1], sizeof(text[1]), "192.168.77.%u", n + 10);
	snprintf(text[2], sizeof(text[2]), "0e:00:00:00:00:%02x", mac);
	peer->subnet = text[0];
	peer->public_ip = text[1];
	peer->mac = text[2];
	return 0;
}

int main(int argc, char **argv)
{
	static char text[MAX_PEERS][3][48];
	struct ovl_peer peers[MAX_PEERS];
	struct ovl_link *link;
	struct ovl_ctx *ctx;
	char line[1024], *word, *save;
	size_t count;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: peer-resync LINK\n");
		return 2;
	}
	if (ovl_ctx_new(&ctx) < 0)
		return 1;
	ovl_ctx_set_log(ctx, OVL_LOG_DEBUG, on_log, NULL);
	if (ovl_link_open(ctx, argv[1], &link) < 0) {
		fprintf(stderr, "peer-resync: %s\n", ovl_ctx_error(ctx));
		ovl_ctx_free(ctx);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		word = strtok_r(line, " \n", &save);
		if (word && !strcmp(word, "how")) {
			printf("%s\n", how);
			continue;
		}
		if (!word || strcmp(word, "sync")) {
			printf("error: unknown command\n");
			continue;
		}
		for (count = 0, err = 0; (word = strtok_r(NULL, " \n", &save)) && !err; count++)
			err = count == MAX_PEERS ? -1 : parse_peer(word, text[count], &peers[count]);
		if (err) {
			printf("error: bad peer\n");
			continue;
		}
		requests = -1;
		err = ovl_peer_sync(link, peers, count);
		if (err < 0)
			printf("error %s\n", ovl_ctx_error(ctx));
		else
			printf("ok %ld\n", requests);
	}
	ovl_link_free(link);
	ovl_ctx_free(ctx);
	return 0;
}
