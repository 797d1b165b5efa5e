/*
 * node-lease.c - the agent's lease: acquired preferring the subnets we held,
 * renewed ahead of its expiry, re-acquired when it is lost (taken, deleted
 * or expired), and subnet.env, which tells CNI what it holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "agent/node-backend.h"

/* Our lease request, preferring the given subnets ("" or NULL: none), with
 * the planes' BackendData, which the caller frees (data[0], data[1]). */
static int build_request(struct ovl_node *node, const char *preferred, const char *preferred6,
			 struct ovl_lease_request *request, char *data[2])
{
	int i, err;

	data[0] = data[1] = NULL;
	for (i = 0; i < node->nplanes && node->backend->backend_data; i++) {
		err = node->backend->backend_data(node, &node->planes[i], &data[i]);
		if (err < 0) {
			free(data[0]);
			data[0] = NULL;
			return err;
		}
	}
	request->node_name = node->node_name;
	request->public_ip = node->public_ip[0] ? node->public_ip : NULL;
	request->public_ipv6 = node->public_ipv6[0] ? node->public_ipv6 : NULL;
	request->backend_type = node->backend->name;
	for (i = 0; i < node->nplanes; i++) {
		if (node->planes[i].family == AF_INET)
			request->backend_data = data[i];
		else
			request->backend_v6_data = data[i];
	}
	request->preferred_subnet = preferred && *preferred ? preferred : NULL;
	request->preferred_ipv6_subnet = preferred6 && *preferred6 ? preferred6 : NULL;
	request->ttl_seconds = node->ttl;
	return 0;
}

int node_lease_acquire(struct ovl_node *node, const char *preferred,
		       const char *preferred6, struct ovl_lease **lease)
{
	struct ovl_lease_request request = OVL_LEASE_REQUEST_INIT;
	char *data[2];
	int err = build_request(node, preferred, preferred6, &request, data);

	if (err < 0)
		return err;
	err = ovl_lease(node->store, node->config, &request, lease);
	free(data[0]);
	free(data[1]);
	return err;
}

static void schedule_renewal(struct ovl_node *node)
{
	int64_t expiration = ovl_lease_expiration(node->lease);
	int64_t wait;

	if (expiration == 0) {		/* a reservation never expires */
		node->renew_at = INT64_MAX;
		return;
	}
	wait = expiration - (int64_t)node->margin - (int64_t)time(NULL);
	node->renew_at = node_now_ms() + (wait > 0 ? wait * 1000 : 0);
}

void node_lease_adopt(struct ovl_node *node, struct ovl_lease *lease)
{
	int i;

	ovl_lease_free(node->lease);
	node->lease = lease;
	for (i = 0; i < node->nplanes; i++) {
		struct node_plane *plane = &node->planes[i];

		snprintf(plane->subnet, sizeof(plane->subnet), "%s",
			 ovl_lease_subnet(lease, plane->family));
		ovl_prefix_parse(plane->subnet, &plane->subnet_prefix);
	}
	node->lease_lost = 0;
	node->renew_backoff_ms = 0;
	schedule_renewal(node);
}

int node_is_own_record(const struct ovl_node *node, const struct ovl_lease *lease)
{
	const char *name = ovl_lease_node_name(lease);
	const char *ip = ovl_lease_public_ip(lease, node->public_ip[0] ? AF_INET : AF_INET6);
	const char *ours = node->public_ip[0] ? node->public_ip : node->public_ipv6;

	if (node->node_name)
		return name && !strcmp(name, node->node_name);
	return !name && ip && !strcmp(ip, ours);
}

void node_lease_lost(struct ovl_node *node, const char *why)
{
	if (node->lease_lost)
		return;
	ctx_log(node->ctx, OVL_LOG_WARNING, "lease %s lost (%s): re-acquiring",
		ovl_lease_key(node->lease), why);
	node->metrics.lease_losses++;
	node->lease_lost = 1;
	node->reacquire_backoff_ms = 0;
	node->reacquire_at = node_now_ms();
	node->last_error = -ESTALE;
	snprintf(node->last_error_text, sizeof(node->last_error_text),
		 "lease %s lost: %s", ovl_lease_key(node->lease), why);
}

/* The store's answer to acquire_again(): a lost lease re-acquired, or
 * ours rewritten with new BackendData. */
static void reacquired(void *arg, int err, struct ovl_lease *lease)
{
	struct ovl_node *node = arg;
	char old[2][OVL_PREFIX_STRLEN];
	int i, changed = 0, republishing = node->republishing;

	node->reacquiring = node->republishing = 0;
	node_metrics_store_result(node, STORE_ACQUIRE, err);
	if (err < 0 && republishing) {
		node_error(node, err, "publishing the new key in the lease");
		node->republish_at = node_now_ms() + node_backoff(&node->republish_backoff_ms);
		return;
	}
	if (err < 0) {
		node_error(node, err, "re-acquiring the lease");
		node->reacquire_at = node_now_ms() + node_backoff(&node->reacquire_backoff_ms);
		return;
	}
	for (i = 0; i < 2; i++)
		snprintf(old[i], sizeof(old[i]), "%s",
			 i < node->nplanes ? node->planes[i].subnet : "");
	if (republishing) {
		node->metrics.key_rotations++;
		node->republish_backoff_ms = 0;
	} else {
		node->metrics.reacquisitions++;
	}
	/* Whatever the request, it wrote the planes' BackendData of now. */
	node->republish = 0;
	node_lease_adopt(node, lease);
	for (i = 0; i < node->nplanes; i++)
		changed |= strcmp(old[i], node->planes[i].subnet) != 0;
	if (!changed) {
		ctx_log(node->ctx, OVL_LOG_NOTICE, "lease %s %s", ovl_lease_key(lease),
			republishing ? "publishes the new key" : "re-acquired");
		if (!republishing) {
			node->last_error = 0;
			node->last_error_text[0] = '\0';
		}
		return;
	}
	/* The old subnet belongs to someone else now: move the device's address,
	 * tell CNI, and let the new owner's record become a peer. */
	ctx_log(node->ctx, OVL_LOG_WARNING,
		"lease %s re-acquired with a new subnet (was %s%s%s): pods of the old subnet must be restarted",
		ovl_lease_key(lease), old[0], old[1][0] ? "," : "", old[1]);
	for (i = 0; i < node->nplanes; i++) {
		node->planes[i].repair = "subnet changed";
		node->planes[i].repair_at = node_now_ms();
	}
	node->subnet_env_stale = 1;
	node->resync_at = node_now_ms();
}

/* After a loss: the same subnet when it is free, else a new one; the
 * device, subnet.env and the peers then follow the new lease.  Held, the
 * record is rewritten in place (compare-and-swap) with the BackendData
 * of now: a new key is published so (republishing). */
static void acquire_again(struct ovl_node *node, int republishing)
{
	struct ovl_lease_request request = OVL_LEASE_REQUEST_INIT;
	char *data[2];
	int err = build_request(node, node_plane_subnet(node, AF_INET),
				node_plane_subnet(node, AF_INET6), &request, data);

	node->republishing = republishing;
	if (!err)
		err = store_async_acquire(node->requests, node->config, &request, reacquired,
					  node);
	if (!err)
		node->reacquiring = 1;
	else
		reacquired(node, err, NULL);
	free(data[0]);
	free(data[1]);
}

void node_lease_republish(struct ovl_node *node, unsigned int delay_ms)
{
	node->republish = 1;
	node->republish_at = node_now_ms() + delay_ms;
	node->republish_backoff_ms = 0;
}

/* The store's answer to renew(): node->lease is up to date (or lost). */
static void renewed(void *arg, int err, struct ovl_lease *lease)
{
	struct ovl_node *node = arg;

	node->renewing = 0;
	node_metrics_renewed(node, err);
	if (err == -ESTALE || (err == 0 && ovl_lease_is_lost(node->lease))) {
		node_lease_lost(node, "renewal found it taken or gone");
		return;
	}
	if (err < 0) {
		/* The store may be unreachable: keep the data path, retry. */
		node_error(node, err, "renewing the lease");
		node->renew_at = node_now_ms() + node_backoff(&node->renew_backoff_ms);
		return;
	}
	node->renew_backoff_ms = 0;
	ctx_log(node->ctx, OVL_LOG_INFO, "lease %s renewed for %u s",
		ovl_lease_key(node->lease), node->ttl);
	schedule_renewal(node);
}

static void renew(struct ovl_node *node)
{
	int err = store_async_renew(node->requests, node->lease, node->ttl, renewed, node);

	if (err < 0)
		renewed(node, err, node->lease);
	else
		node->renewing = 1;
}

void node_lease_keep(struct ovl_node *node)
{
	int64_t now = node_now_ms();

	/* One request at a time: a renewal holds node->lease, which a
	 * re-acquisition replaces. */
	if (node->renewing || node->reacquiring)
		return;
	if (node->lease_lost && now >= node->reacquire_at)
		acquire_again(node, 0);
	else if (!node->lease_lost && node->republish && now >= node->republish_at)
		acquire_again(node, 1);
	else if (!node->lease_lost && now >= node->renew_at)
		renew(node);
}

/* ----------------------------------------------------------- subnet.env */

/* "10.244.3.0/24" -> "10.244.3.1/24": flannel's FLANNEL_SUBNET. */
static void first_host(const char *subnet, char *out, size_t size)
{
	struct ovl_prefix prefix;

	out[0] = '\0';
	if (ovl_prefix_parse(subnet, &prefix) < 0)
		return;
	prefix.addr[prefix.family == AF_INET ? 3 : 15] |= 1;
	ovl_prefix_format(&prefix, out, size);
}

int node_subnet_env_write(struct ovl_node *node)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;
	int i, err;

	for (i = 0; i < node->nplanes; i++) {
		const struct node_plane *plane = &node->planes[i];
		const struct ovl_prefix *network = ovl_config_network(node->config,
								       plane->family);

		if (plane->family == AF_INET) {
			ovl_prefix_format(network, env.network, sizeof(env.network));
			first_host(plane->subnet, env.subnet, sizeof(env.subnet));
		} else {
			ovl_prefix_format(network, env.ipv6_network, sizeof(env.ipv6_network));
			first_host(plane->subnet, env.ipv6_subnet, sizeof(env.ipv6_subnet));
		}
		if (plane->link && (!env.mtu || ovl_link_mtu(plane->link) < env.mtu))
			env.mtu = ovl_link_mtu(plane->link);
	}
	env.ipmasq = node->ip_masq;
	err = ovl_subnet_env_write(node->ctx, node->subnet_file, &env);
	if (err == 0) {
		node->mtu = env.mtu;
		node->subnet_env_stale = 0;
	}
	return err;
}

void node_previous_subnets(struct ovl_node *node, char *v4, char *v6, size_t size)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;
	struct ovl_prefix prefix;

	v4[0] = v6[0] = '\0';
	if (ovl_subnet_env_read(node->ctx, node->subnet_file, &env) < 0) {
		ctx_clear_error(node->ctx);
		return;
	}
	if (env.subnet[0] && ovl_prefix_parse(env.subnet, &prefix) == 0) {
		ovl_prefix_mask(&prefix);
		ovl_prefix_format(&prefix, v4, size);
	}
	if (env.ipv6_subnet[0] && ovl_prefix_parse(env.ipv6_subnet, &prefix) == 0) {
		ovl_prefix_mask(&prefix);
		ovl_prefix_format(&prefix, v6, size);
	}
}
