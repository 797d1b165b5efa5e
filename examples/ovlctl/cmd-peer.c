/*
 * cmd-peer.c - `ovlctl peer add|del|list|sync`: the peers on a libovl link
 * (opened by name, so any process can program them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ovlctl.h"

#define DEFAULT_LINK "flannel.1"

static int open_link(struct ovlctl *tool, const char *name, struct ovl_link **link)
{
	int err = ovl_link_open(tool->ctx, name, link);

	return err < 0 ? ovlctl_fail(tool, err, "link %s", name) : 0;
}

static int peer_change(struct ovlctl *tool, int add, int argc, char **argv)
{
	struct ovl_peer peer = { NULL, NULL, NULL };
	const char *name = DEFAULT_LINK;
	const struct ovlctl_option spec[] = {
		{ "subnet", &peer.subnet, NULL },
		{ "public-ip", &peer.public_ip, NULL },
		{ "mac", &peer.mac, NULL },
		{ "link", &name, NULL },
		{ NULL, NULL, NULL },
	};
	struct ovl_link *link;
	int err, status;

	if (ovlctl_parse_options(add ? "peer add" : "peer del", argc, argv, spec, NULL, 0) < 0)
		return 2;
	if (!peer.subnet || (add && !peer.public_ip))
		return ovlctl_usage_error(add ? "peer add: --subnet and --public-ip are required"
					      : "peer del: --subnet is required");
	status = open_link(tool, name, &link);
	if (status)
		return status;
	err = add ? ovl_peer_add(link, &peer) : ovl_peer_del(link, &peer);
	status = err < 0 ? ovlctl_fail(tool, err, "peer %s %s", add ? "add" : "del", peer.subnet) : 0;
	ovl_link_free(link);
	return status;
}

static int peer_list(struct ovlctl *tool, int argc, char **argv)
{
	const char *name = DEFAULT_LINK;
	const struct ovlctl_option spec[] = {
		{ "link", &name, NULL },
		{ NULL, NULL, NULL },
	};
	struct ovl_link *link;
	struct ovl_peer *peers;
	json_t *list, *item;
	size_t i, count;
	char *text;
	int err, status;

	if (ovlctl_parse_options("peer list", argc, argv, spec, NULL, 0) < 0)
		return 2;
	status = open_link(tool, name, &link);
	if (status)
		return status;
	err = ovl_peer_list(link, &peers, &count);
	ovl_link_free(link);
	if (err < 0)
		return ovlctl_fail(tool, err, "peer list");
	list = json_array();
	for (i = 0; i < count; i++) {
		if (!tool->json) {
			printf("%s %s %s\n", peers[i].subnet, peers[i].public_ip ? peers[i].public_ip : "-",
			       peers[i].mac ? peers[i].mac : "-");
			continue;
		}
		item = json_pack("{s:s, s:s?, s:s?}", "subnet", peers[i].subnet, "public_ip",
				 peers[i].public_ip, "mac", peers[i].mac);
		json_array_append_new(list, item);
	}
	if (tool->json) {
		text = json_dumps(list, JSON_COMPACT);
		printf("%s\n", text ? text : "[]");
		free(text);
	}
	json_decref(list);
	ovl_peers_free(peers, count);
	return 0;
}

/* FILE: [{"subnet": .., "public_ip": .., "mac": ..}, ...]; "-" is stdin. */
int ovlctl_read_peers(const char *command, const char *file, struct json_t **json,
		      struct ovl_peer **list, size_t *length)
{
	json_error_t error;
	json_t *root, *item;
	struct ovl_peer *peers;
	size_t i, count;

	root = strcmp(file, "-") ? json_load_file(file, 0, &error) : json_loadf(stdin, 0, &error);
	if (!root || !json_is_array(root)) {
		fprintf(stderr, "ovlctl: %s: %s: %s\n", command, file,
			root ? "not a JSON list" : error.text);
		json_decref(root);
		return 1;
	}
	count = json_array_size(root);
	peers = calloc(count ? count : 1, sizeof(*peers));
	if (!peers) {
		json_decref(root);
		fprintf(stderr, "ovlctl: %s: out of memory\n", command);
		return 1;
	}
	for (i = 0; i < count; i++) {
		item = json_array_get(root, i);
		if (json_unpack_ex(item, &error, 0, "{s:s, s?s, s?s}", "subnet", &peers[i].subnet,
				   "public_ip", &peers[i].public_ip, "mac", &peers[i].mac) < 0) {
			fprintf(stderr, "ovlctl: %s: %s: entry %zu: %s\n", command, file, i,
				error.text);
			free(peers);
			json_decref(root);
			return 1;
		}
	}
	*json = root;
	*list = peers;
	*length = count;
	return 0;
}

static int peer_sync(struct ovlctl *tool, int argc, char **argv)
{
	const char *name = DEFAULT_LINK;
	const struct ovlctl_option spec[] = {
		{ "link", &name, NULL },
		{ NULL, NULL, NULL },
	};
	char *file[1];
	json_t *root;
	struct ovl_peer *peers;
	struct ovl_link *link;
	size_t count;
	int err, status;

	if (ovlctl_parse_options("peer sync", argc, argv, spec, file, 1) != 1)
		return ovlctl_usage_error("peer sync: FILE (a JSON list of peers) is required");
	status = ovlctl_read_peers("peer sync", file[0], &root, &peers, &count);
	if (status)
		return status;
	status = open_link(tool, name, &link);
	if (!status) {
		err = ovl_peer_sync(link, peers, count);
		status = err < 0 ? ovlctl_fail(tool, err, "peer sync") : 0;
		ovl_link_free(link);
	}
	free(peers);
	json_decref(root);
	return status;
}

int cmd_peer(struct ovlctl *tool, int argc, char **argv)
{
	if (argc < 1)
		return ovlctl_usage_error("peer: add, del, list or sync? (see ovlctl help peer)");
	if (!strcmp(argv[0], "add") || !strcmp(argv[0], "del"))
		return peer_change(tool, argv[0][0] == 'a', argc - 1, argv + 1);
	if (!strcmp(argv[0], "list"))
		return peer_list(tool, argc - 1, argv + 1);
	if (!strcmp(argv[0], "sync"))
		return peer_sync(tool, argc - 1, argv + 1);
	return ovlctl_usage_error("peer: unknown subcommand '%s'", argv[0]);
}
