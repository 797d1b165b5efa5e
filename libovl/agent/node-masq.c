/*
 * node-masq.c - flannel's masquerade rules (--ip-masq) kept in place: applied
 * at start, checked and restored on every resync, removed at teardown (or,
 * without --ip-masq, a previous run's removed at start).
 */
#include <errno.h>

#include "agent/node.h"

/* Applies (apply != 0) or checks the rules of every plane; a check that
 * finds them gone or changed restores them. */
void node_masq_ensure(struct ovl_node *node, int apply)
{
	char network[OVL_PREFIX_STRLEN];
	int i, err;

	if (!node->ip_masq)
		return;
	node->masq_failed = 0;
	for (i = 0; i < node->nplanes; i++) {
		const struct node_plane *plane = &node->planes[i];

		ovl_prefix_format(ovl_config_network(node->config, plane->family),
				  network, sizeof(network));
		if (!apply) {
			err = ovl_masq_check(node->ctx, network, plane->subnet, 0);
			if (err == 0)
				continue;
			ctx_log(node->ctx, OVL_LOG_WARNING,
				"masquerade rules of %s %s: %s: restoring", network,
				plane->subnet, *ovl_ctx_error(node->ctx) ?
				ovl_ctx_error(node->ctx) : ovl_strerror(err));
			ctx_clear_error(node->ctx);
		}
		err = ovl_masq_apply(node->ctx, network, plane->subnet, 0);
		if (err < 0) {
			node_error(node, err, "masquerade rules");
			node->masq_failed = 1;
		} else if (!apply) {
			ctx_log(node->ctx, OVL_LOG_NOTICE, "masquerade rules of %s restored",
				network);
		}
	}
}

/* Without --ip-masq, a previous run's tables go, as flannel clears its
 * chains; with it, teardown removes ours. */
int node_masq_remove(struct ovl_node *node)
{
	int err = ovl_masq_remove(node->ctx, 0);

	if (err < 0)
		node_error(node, err, "removing masquerade rules");
	return err;
}
