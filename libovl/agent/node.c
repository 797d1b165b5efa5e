/*
 * node.c - the embedded agent, flanneld's main loop as an object the
 * caller's event loop drives: start (underlay, lease, planes, peers, then
 * subnet.env), one pollable fd, dispatch of store, link and timer events,
 * status and stop.  The lease lives in node-lease.c, peers and device
 * repair in node-sync.c, what differs between backends in their ops
 * (node-backend.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "agent/node-backend.h"

#define DAY_SECONDS (24 * 3600)
#define RETRY_FIRST_MS 250
#define RETRY_MAX_MS 30000

int64_t node_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void node_error(struct ovl_node *node, int err, const char *what)
{
	node->last_error = err;
	snprintf(node->last_error_text, sizeof(node->last_error_text), "%s: %s",
		 what, *ovl_ctx_error(node->ctx) ? ovl_ctx_error(node->ctx) :
		 ovl_strerror(err));
	ctx_log(node->ctx, OVL_LOG_WARNING, "%s", node->last_error_text);
}

unsigned int node_backoff(unsigned int *backoff_ms)
{
	unsigned int now = *backoff_ms ? *backoff_ms : RETRY_FIRST_MS;

	*backoff_ms = now * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : now * 2;
	return now;
}

/* ---------------------------------------------------------------- start */

static void close_everything(struct ovl_node *node)
{
	int i;

	/* First: no answer may arrive for a lease or a node that is gone. */
	store_async_close(node->requests);
	if (node->watch)
		ovl_watch_close(node->watch);
	linkwatch_close(node->links);
	for (i = 0; i < node->nplanes; i++)
		node_plane_free(node, &node->planes[i]);
	if (node->timer_fd >= 0)
		close(node->timer_fd);
	if (node->epoll_fd >= 0)
		close(node->epoll_fd);
	ovl_lease_free(node->lease);
	node_peers_clear(node);
	free(node->node_name);
	free(node->subnet_file);
	free(node->wireguard_userspace);
	free(node->wireguard_key_file);
	explicit_bzero(node->wireguard_key, sizeof(node->wireguard_key));
	free(node);
}

static int copy_options(struct ovl_node *node, const struct ovl_node_options *options)
{
	const char *name = OPTIONS_HAS(options, node_name) ? options->node_name : NULL;
	const char *file = OPTIONS_HAS(options, subnet_file) ? options->subnet_file : NULL;
	unsigned int margin = OPTIONS_HAS(options, renew_margin_seconds) ?
		options->renew_margin_seconds : 0;
	unsigned int flags;

	node->ttl = OPTIONS_HAS(options, ttl_seconds) && options->ttl_seconds ?
		options->ttl_seconds : DAY_SECONDS;
	/* flannel renews 1 h before a 24 h expiry; keep that proportion for
	 * short TTLs so a 10 s lease is not renewed every instant. */
	node->margin = margin ? margin : node->ttl / 24;
	if (node->margin < 1)
		node->margin = 1;
	if (node->margin >= node->ttl)
		node->margin = node->ttl / 2;
	node->resync_ms = (OPTIONS_HAS(options, resync_seconds) && options->resync_seconds ?
			   options->resync_seconds : 60) * 1000LL;
	node->ip_masq = OPTIONS_HAS(options, ip_masq) ? options->ip_masq != 0 : 0;
	flags = OPTIONS_HAS(options, flags) ? options->flags : 0;
	node->forward_rules = !(flags & OVL_NODE_NO_FORWARD_RULES);
	node->node_name = name && *name ? strdup(name) : NULL;
	node->subnet_file = strdup(file && *file ? file : OVL_SUBNET_ENV_DEFAULT_PATH);
	if ((name && *name && !node->node_name) || !node->subnet_file)
		return ctx_fail(node->ctx, -ENOMEM, "out of memory");
	if ((OPTIONS_HAS(options, wireguard_userspace) && options->wireguard_userspace &&
	     !(node->wireguard_userspace = strdup(options->wireguard_userspace))) ||
	    (OPTIONS_HAS(options, wireguard_key_file) && options->wireguard_key_file &&
	     !(node->wireguard_key_file = strdup(options->wireguard_key_file))))
		return ctx_fail(node->ctx, -ENOMEM, "out of memory");
	return 0;
}

/* host: what the store told of this host, its record maybe. */
static int setup_planes(struct ovl_node *node, struct store_host *host)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct ovl_lease **leases = NULL;
	size_t count = 0, i;
	int err = 0;

	/* Unreachable store: no old record to learn from; acquiring will
	 * say why. */
	if (host->own_known) {
		leases = &host->own;
		count = host->own ? 1 : 0;
	} else if (store_list_alive(node->store, &leases, &count) < 0) {
		ctx_clear_error(node->ctx);
	}
	for (i = 0; i < count; i++)
		node->lease_existed |= node_is_own_record(node, leases[i]);
	for (i = 0; i < ARRAY_SIZE(families) && err == 0; i++) {
		struct node_plane *plane = &node->planes[node->nplanes];

		if (!ovl_config_family_enabled(node->config, families[i]))
			continue;
		plane->family = families[i];
		plane->carrier = node->nplanes;
		node->backend->plane_name(node, plane);
		node->nplanes++;
		if (node->backend->plane_previous)
			err = node->backend->plane_previous(node, plane, leases, count);
	}
	if (leases && !host->own_known)
		ovl_leases_free(leases, count);
	if (err == 0 && !node->nplanes)
		err = ctx_fail(node->ctx, -EINVAL, "config enables neither IPv4 nor IPv6");
	return err;
}

static int setup_fds(struct ovl_node *node)
{
	struct epoll_event event = { .events = EPOLLIN };

	node->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	node->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (node->epoll_fd < 0 || node->timer_fd < 0)
		return ctx_fail(node->ctx, -errno, "epoll/timerfd: %s", ovl_strerror(errno));
	if (epoll_ctl(node->epoll_fd, EPOLL_CTL_ADD, node->timer_fd, &event) < 0 ||
	    epoll_ctl(node->epoll_fd, EPOLL_CTL_ADD, linkwatch_fd(node->links), &event) < 0)
		return ctx_fail(node->ctx, -errno, "epoll_ctl: %s", ovl_strerror(errno));
	return 0;
}

int node_watch_open(struct ovl_node *node, int nonblocking)
{
	struct epoll_event event = { .events = EPOLLIN };
	int err;

	if (node->watch)
		return 0;
	/* Other nodes' expirations are etcd's business: it deletes expired
	 * records and the watch reports that. */
	err = store_watch_open(node->store, STORE_WATCH_ALIVE_ONLY |
			       (nonblocking ? STORE_WATCH_NONBLOCKING : 0), &node->watch);
	if (err < 0)
		return err;
	if (epoll_ctl(node->epoll_fd, EPOLL_CTL_ADD, ovl_watch_fd(node->watch), &event) < 0) {
		err = ctx_fail(node->ctx, -errno, "epoll_ctl: %s", ovl_strerror(errno));
		ovl_watch_close(node->watch);
		node->watch = NULL;
	}
	node->watch_number++;
	return err;
}

/* Names the start-up step in front of the reason the callee recorded. */
static int step_failed(struct ovl_node *node, int err, const char *step)
{
	if (!*ovl_ctx_error(node->ctx))
		return ctx_fail(node->ctx, err, "%s: %s", step, ovl_strerror(err));
	return ctx_fail_prefix(node->ctx, err, "%s: ", step);
}

/* What the store knows of this host: its name when the caller gave none,
 * addresses pinned for it (the kube store: the pod's Node and its
 * node-public-ip annotations). */
static int learn_host(struct ovl_node *node, struct store_host *host)
{
	int err = store_host_read(node->store, node->node_name, host);

	if (err < 0)
		return step_failed(node, err, "asking the store about this host");
	if (!node->node_name && host->node_name[0]) {
		node->node_name = strdup(host->node_name);
		if (!node->node_name)
			return ctx_fail(node->ctx, -ENOMEM, "out of memory");
		ctx_log(node->ctx, OVL_LOG_INFO, "node name %s (from the store)", node->node_name);
	}
	if (host->public_ip[0] || host->public_ipv6[0])
		ctx_log(node->ctx, OVL_LOG_INFO, "public address %s%s%s pinned in the store",
			host->public_ip, host->public_ip[0] && host->public_ipv6[0] ? " " : "",
			host->public_ipv6);
	return 0;
}

/* The rest of start, once the store said what it knows of this host. */
static int start_with_host(struct ovl_node *node, const char *iface, const char *ip,
			   const char *ip6, struct store_host *host)
{
	char old[OVL_PREFIX_STRLEN], old6[OVL_PREFIX_STRLEN];
	struct ovl_lease *lease = NULL;
	int err, i;

	/* As flanneld: an address pinned in the store beats the option. */
	if (host->public_ip[0])
		ip = host->public_ip;
	if (host->public_ipv6[0])
		ip6 = host->public_ipv6;
	err = underlay_pick(node->ctx, iface && *iface ? iface : NULL,
			    ip && *ip ? ip : NULL, ip6 && *ip6 ? ip6 : NULL,
			    ovl_config_family_enabled(node->config, AF_INET),
			    ovl_config_family_enabled(node->config, AF_INET6),
			    &node->underlay);
	if (err < 0)
		return err;
	snprintf(node->public_ip, sizeof(node->public_ip), "%s",
		 ip && *ip ? ip : node->underlay.local);
	snprintf(node->public_ipv6, sizeof(node->public_ipv6), "%s",
		 ip6 && *ip6 ? ip6 : node->underlay.local6);
	ctx_log(node->ctx, OVL_LOG_INFO, "underlay %s (%s%s%s), MTU %u", node->underlay.iface,
		node->underlay.local, node->underlay.local6[0] ? " " : "", node->underlay.local6,
		node->underlay.mtu);
	node_previous_subnets(node, old, old6, sizeof(old));
	err = setup_planes(node, host);
	if (err < 0)
		return err;
	/* Subscribe before touching the device so that no event is missed. */
	err = linkwatch_open(node->ctx, node_link_event, node, &node->links);
	if (err < 0)
		return err;
	err = setup_fds(node);
	if (err < 0)
		return err;
	err = store_async_open(node->store, &node->requests);
	if (!err && epoll_ctl(node->epoll_fd, EPOLL_CTL_ADD, store_async_fd(node->requests),
			      &(struct epoll_event){ .events = EPOLLIN }) < 0)
		err = ctx_fail(node->ctx, -errno, "epoll_ctl: %s", ovl_strerror(errno));
	if (err < 0)
		return err;
	ctx_clear_error(node->ctx);
	err = node_lease_acquire(node, old, old6, &lease);
	if (err < 0)
		return step_failed(node, err, "acquiring a lease");
	ctx_log(node->ctx, OVL_LOG_INFO, "lease %s acquired%s%s", ovl_lease_key(lease),
		old[0] ? ", previous subnet " : "", old);
	node_lease_adopt(node, lease);
	for (i = 0; i < node->nplanes; i++) {
		err = node_plane_up(node, &node->planes[i]);
		if (err == 0)
			err = node_plane_settle(node, &node->planes[i]);
		if (err < 0)
			return step_failed(node, err, node->planes[i].device);
	}
	err = node_watch_open(node, 0);
	if (err < 0)
		return step_failed(node, err, "watching the store");
	node->listing_since = node_now_ms();	/* the first resync's start */
	err = node_resync(node);
	for (i = 0; i < node->nplanes && err == 0; i++)
		err = node_plane_settle(node, &node->planes[i]);
	if (err < 0)
		return step_failed(node, err, "installing the peers");
	/* Failed rules do not stop the start: logged, in the status, retried
	 * with the resyncs. */
	node_masq_start(node);
	err = node_subnet_env_write(node);
	if (err < 0)
		return step_failed(node, err, node->subnet_file);
	/* What our own device set-up announced is not news. */
	node_link_events_discard(node);
	node->resync_at = node_now_ms() + node->resync_ms;
	node_arm_timer(node);
	node->ready = 1;
	ctx_log(node->ctx, OVL_LOG_NOTICE,
		"ready: lease %s, %s%s%s mtu %u on %s (%s), %zu peers, %s written",
		ovl_lease_key(node->lease), node->planes[0].device,
		node->planes[0].mac[0] ? " mac " : "", node->planes[0].mac,
		node->mtu, node->underlay.iface,
		node->public_ip[0] ? node->public_ip : node->public_ipv6,
		node_peer_count(node), node->subnet_file);
	return 0;
}

static int start(struct ovl_node *node, const struct ovl_node_options *options)
{
	const char *iface = OPTIONS_HAS(options, iface) ? options->iface : NULL;
	const char *ip = OPTIONS_HAS(options, public_ip) ? options->public_ip : NULL;
	const char *ip6 = OPTIONS_HAS(options, public_ipv6) ? options->public_ipv6 : NULL;
	struct store_host host;
	int err;

	err = node_backend_pick(node);
	if (err < 0)
		return err;
	err = copy_options(node, options);
	if (err < 0)
		return err;
	err = learn_host(node, &host);
	if (err < 0)
		return err;
	err = start_with_host(node, iface, ip, ip6, &host);
	store_host_clear(&host);
	return err;
}

/* Undoes a failed start: what we created goes, what existed stays. */
static void unwind(struct ovl_node *node)
{
	int i;

	for (i = 0; i < node->nplanes; i++)
		if (node->planes[i].link && !node->planes[i].existed)
			ovl_link_down(node->planes[i].link);
	if (node->lease && !node->lease_existed)
		ovl_lease_release(node->store, node->lease);
}

OVL_EXPORT int ovl_node_start(struct ovl_ctx *ctx, struct ovl_store *store,
			      const struct ovl_config *config,
			      const struct ovl_node_options *options,
			      struct ovl_node **out)
{
	struct ovl_node_options defaults = OVL_NODE_OPTIONS_INIT;
	struct ovl_node *node;
	char error[sizeof(ctx->error)];
	int err;

	ctx_clear_error(ctx);
	if (!ctx || !store || !config || !out)
		return ctx_fail(ctx, -EINVAL, "ovl_node_start: ctx, store, config and node are required");
	if (!options)
		options = &defaults;
	err = options_check(ctx, "ovl_node_start: options", options, NODE_OPTIONS_SIZE_0_1,
			    sizeof(*options));
	if (!err)
		err = flags_check(ctx, "ovl_node_start: options", options->flags,
				  OVL_NODE_NO_FORWARD_RULES);
	if (err < 0)
		return err;
	node = calloc(1, sizeof(*node));
	if (!node)
		return ctx_fail(ctx, -ENOMEM, "out of memory");
	node->ctx = ctx;
	node->store = store;
	node->config = config;
	node->epoll_fd = node->timer_fd = -1;
	node->underlay_up = 1;
	err = start(node, options);
	if (err < 0) {
		/* Keep the reason of the failure, not that of the clean-up. */
		memcpy(error, ctx->error, sizeof(error));
		unwind(node);
		close_everything(node);
		memcpy(ctx->error, error, sizeof(error));
		return err;
	}
	*out = node;
	return 0;
}

/* ------------------------------------------------------------- dispatch */

void node_arm_timer(struct ovl_node *node)
{
	struct itimerspec spec = { { 0, 0 }, { 0, 0 } };
	int64_t next = node_next_deadline(node);

	if (next != INT64_MAX) {
		if (next < 1)
			next = 1;	/* 0 would disarm */
		spec.it_value.tv_sec = next / 1000;
		spec.it_value.tv_nsec = (next % 1000) * 1000000;
	}
	timerfd_settime(node->timer_fd, TFD_TIMER_ABSTIME, &spec, NULL);
}

int64_t node_next_deadline(const struct ovl_node *node)
{
	/* What is waiting for the store's answer has no deadline of ours:
	 * the answer wakes the node through the requests' fd. */
	int64_t next = node->listing ? INT64_MAX : node->resync_at;
	int i;

	/* One lease request at a time (node_lease_keep): while one is out,
	 * neither deadline is ours to wake for. */
	if (node->renewing || node->reacquiring)
		;
	else if (node->lease_lost && node->reacquire_at < next)
		next = node->reacquire_at;
	else if (!node->lease_lost && node->republish && node->republish_at < next)
		next = node->republish_at;
	else if (!node->lease_lost && node->renew_at < next)
		next = node->renew_at;
	/* A device still coming up is its link's to wake us for. */
	for (i = 0; i < node->nplanes; i++)
		if (node->planes[i].repair && !node->planes[i].pending &&
		    node->planes[i].repair_at < next)
			next = node->planes[i].repair_at;
	return next;
}

OVL_EXPORT int ovl_node_fd(const struct ovl_node *node)
{
	return node ? node->epoll_fd : -EINVAL;
}

OVL_EXPORT int ovl_node_next_timeout_ms(const struct ovl_node *node)
{
	int64_t next, now;

	if (!node)
		return -1;
	next = node_next_deadline(node);
	if (next == INT64_MAX)
		return -1;
	now = node_now_ms();
	if (next <= now)
		return 0;
	return next - now > INT32_MAX ? INT32_MAX : (int)(next - now);
}

OVL_EXPORT int ovl_node_dispatch(struct ovl_node *node)
{
	uint64_t expirations;

	if (!node)
		return -EINVAL;
	/* Only clears the timer's readiness; deadlines are checked below. */
	if (read(node->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		ctx_log(node->ctx, OVL_LOG_DEBUG, "timerfd: %s", ovl_strerror(errno));
	if (node->backend->dispatch)
		node->backend->dispatch(node);
	/* Answers of the store: renewals, re-acquisitions, listings. */
	if (store_async_dispatch(node->requests) < 0)
		node_error(node, -EIO, "store requests");
	node_link_events_read(node);
	node_store_events_read(node);
	node_lease_keep(node);
	node_repair_planes(node);
	if (!node->listing && node_now_ms() >= node->resync_at && node_resync_start(node) < 0)
		node->resync_at = node_now_ms() + node_backoff(&node->resync_backoff_ms);
	if (node->subnet_env_stale && !node->lease_lost && node_subnet_env_write(node) < 0)
		node_error(node, -EIO, "writing subnet.env");
	node->ready = !node->lease_lost && !node->subnet_env_stale &&
		node->watch && !node_planes_need_repair(node);
	node_arm_timer(node);
	return 0;
}

OVL_EXPORT int ovl_node_rotate_key(struct ovl_node *node)
{
	ctx_clear_error(node ? node->ctx : NULL);
	if (!node)
		return -EINVAL;
	if (!node->backend->rotate_key)
		return ctx_fail(node->ctx, -EOPNOTSUPP, "ovl_node_rotate_key: backend %s has no key",
				node->backend->name);
	return node->backend->rotate_key(node);
}

/* --------------------------------------------------------- status, stop */

OVL_EXPORT int ovl_node_status(const struct ovl_node *node,
			       struct ovl_node_status *status)
{
	struct ovl_node_status out = OVL_NODE_STATUS_INIT;
	size_t size;
	int i;

	ctx_clear_error(node ? node->ctx : NULL);
	if (!node || !status)
		return node ? ctx_fail(node->ctx, -EINVAL, "ovl_node_status: NULL status") : -EINVAL;
	if (output_check(node->ctx, "ovl_node_status: status", status, NODE_STATUS_SIZE_0_1,
			 sizeof(*status)) < 0)
		return -EINVAL;
	out.ready = node->ready;
	out.lease_lost = node->lease_lost;
	for (i = 0; i < node->nplanes; i++) {
		const struct node_plane *plane = &node->planes[i];

		snprintf(plane->family == AF_INET ? out.subnet : out.ipv6_subnet,
			 sizeof(out.subnet), "%s", plane->subnet);
		snprintf(plane->family == AF_INET ? out.link : out.ipv6_link,
			 sizeof(out.link), "%s", plane->device);
	}
	snprintf(out.backend, sizeof(out.backend), "%s",
		 ovl_config_backend_type(node->config));
	/* A backend without a device has a link name, which is no device's. */
	snprintf(out.device, sizeof(out.device), "%.15s",
		 node->backend->has_device ? node->planes[0].device : "");
	snprintf(out.mac, sizeof(out.mac), "%s", node->planes[0].mac);
	snprintf(out.public_ip, sizeof(out.public_ip), "%s", node->public_ip);
	snprintf(out.public_ipv6, sizeof(out.public_ipv6), "%s", node->public_ipv6);
	snprintf(out.iface, sizeof(out.iface), "%s", node->underlay.iface);
	out.mtu = node->mtu;
	out.peers = (unsigned int)node_peer_count(node);
	out.skipped = (unsigned int)(node->peers.count - out.peers);
	out.lease_expiration = node->lease ? ovl_lease_expiration(node->lease) : 0;
	out.last_sync = node->last_sync;
	out.last_error = node->last_error;
	snprintf(out.last_error_text, sizeof(out.last_error_text), "%s",
		 node->last_error_text);
	/* Copy only what the caller's struct has room for. */
	size = status->size < sizeof(out) ? status->size : sizeof(out);
	memcpy((char *)status + sizeof(size_t), (char *)&out + sizeof(size_t),
	       size - sizeof(size_t));
	return 0;
}

/* Keeps the first failure of a teardown and its reason: the next steps'
 * public calls clear the context's message on entry. */
static void keep_first(struct ovl_node *node, int step, int *err, char *reason)
{
	if (step < 0 && !*err) {
		*err = step;
		memcpy(reason, node->ctx->error, sizeof(node->ctx->error));
	}
}

OVL_EXPORT int ovl_node_stop(struct ovl_node *node, unsigned int flags)
{
	char reason[sizeof(node->ctx->error)];
	int err = 0, i;

	if (!node)
		return 0;
	ctx_clear_error(node->ctx);
	if (flags_check(node->ctx, "ovl_node_stop", flags, OVL_NODE_TEARDOWN) < 0)
		return -EINVAL;
	if (flags & OVL_NODE_TEARDOWN) {
		/* Release first so the others drop us as early as possible. */
		if (node->lease && !node->lease_lost)
			keep_first(node, ovl_lease_release(node->store, node->lease), &err, reason);
		for (i = 0; i < node->nplanes; i++)
			keep_first(node, node->planes[i].link ? ovl_link_down(node->planes[i].link)
				   : 0, &err, reason);
		keep_first(node, node_masq_teardown(node), &err, reason);
		if (unlink(node->subnet_file) < 0 && errno != ENOENT)
			keep_first(node, ctx_fail(node->ctx, -errno, "%s: %s", node->subnet_file,
						  ovl_strerror(errno)), &err, reason);
		if (err)
			memcpy(node->ctx->error, reason, sizeof(reason));
		ctx_log(node->ctx, OVL_LOG_NOTICE, "stopped: lease %s released, %s removed",
			node->lease ? ovl_lease_key(node->lease) : "-", node->planes[0].device);
	} else if (!node->backend->outlives_node) {
		/* The data path lives in this process (udp: the TUN as long
		 * as our fd); the lease stays for a restart. */
		ctx_log(node->ctx, OVL_LOG_NOTICE,
			"stopped: lease %s kept, %s removed with the process's %s loop",
			node->lease ? ovl_lease_key(node->lease) : "-", node->planes[0].device,
			node->backend->name);
	} else {
		ctx_log(node->ctx, OVL_LOG_NOTICE,
			"stopped: lease %s, %s and its peers kept",
			node->lease ? ovl_lease_key(node->lease) : "-", node->planes[0].device);
	}
	close_everything(node);
	return err;
}
