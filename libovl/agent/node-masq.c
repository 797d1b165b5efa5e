/*
 * node-masq.c - flannel's masquerade rules (--ip-masq) and forward accept
 * rules (--iptables-forward-rules, on by default and independent of
 * --ip-masq: flannel main.go:138,437) kept in place: applied at start,
 * checked and restored on every resync, removed at teardown (or, when the
 * node wants neither, a previous run's removed at start).
 */
#include <errno.h>

#include "agent/node.h"

/* The ovl_masq_* flags of the rule sets the node wants. */
static unsigned int rule_flags(const struct ovl_node *node)
{
	return (node->ip_masq ? 0 : OVL_MASQ_NO_MASQUERADE) |
	       (node->forward_rules ? 0 : OVL_MASQ_NO_FORWARD);
}

/* "masquerade rules" with or without the forward ones, as flannel says. */
static const char *rules_name(const struct ovl_node *node)
{
	return node->ip_masq ? "masquerade rules" : "forward rules";
}

/* Applies (apply != 0) or checks the rules of every plane; a check that
 * finds them gone or changed restores them. */
void node_masq_ensure(struct ovl_node *node, int apply)
{
	char network[OVL_PREFIX_STRLEN];
	unsigned int flags = rule_flags(node);
	int i, err;

	if (!node->ip_masq && !node->forward_rules)
		return;
	node->masq_failed = 0;
	for (i = 0; i < node->nplanes; i++) {
		const struct node_plane *plane = &node->planes[i];

		ovl_prefix_format(ovl_config_network(node->config, plane->family),
				  network, sizeof(network));
		if (!apply) {
			err = ovl_masq_check(node->ctx, network, plane->subnet, flags);
			if (err == 0)
				continue;
			ctx_log(node->ctx, OVL_LOG_WARNING, "%s of %s %s: %s: restoring",
				rules_name(node), network, plane->subnet,
				*ovl_ctx_error(node->ctx) ? ovl_ctx_error(node->ctx) :
				ovl_strerror(err));
			ctx_clear_error(node->ctx);
		}
		err = ovl_masq_apply(node->ctx, network, plane->subnet, flags);
		if (err < 0) {
			node_error(node, err, rules_name(node));
			node->masq_failed = 1;
		} else if (!apply) {
			ctx_log(node->ctx, OVL_LOG_NOTICE, "%s of %s restored",
				rules_name(node), network);
		}
	}
}

static int remove_rules(struct ovl_node *node)
{
	int err = ovl_masq_remove(node->ctx, 0);

	if (err < 0)
		node_error(node, err, "removing masquerade and forward rules");
	return err;
}

/* Failed rules do not stop the start: logged, in the status, retried with
 * the resyncs.  A node that wants no rules removes a previous run's, as
 * flannel clears its chains. */
void node_masq_start(struct ovl_node *node)
{
	if (node->ip_masq || node->forward_rules)
		node_masq_ensure(node, 1);
	else
		remove_rules(node);
}

int node_masq_teardown(struct ovl_node *node)
{
	return node->ip_masq || node->forward_rules ? remove_rules(node) : 0;
}
