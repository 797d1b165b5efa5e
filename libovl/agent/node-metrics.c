/*
 * node-metrics.c - the agent's counters (counted by one-line calls where
 * things happen in the other node files) and ovl_node_metrics, which
 * writes them with the node's state as Prometheus text exposition format
 * 0.0.4.  Names follow Prometheus' conventions: ovl_ prefix, base units in
 * the name (_seconds), counters end in _total.  Serving the text is the
 * caller's business: the library opens no listening socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/node-backend.h"

/* Upper bounds of the resync duration buckets, in seconds: a resync is a
 * store listing plus one netlink batch per plane, milliseconds at a few
 * peers, ~0.1 s at 10k (bench/peers), seconds only when the store is slow. */
static const double resync_bounds[NODE_RESYNC_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};

static const char *const request_names[STORE_REQUESTS] = {
	[STORE_RENEW] = "renew", [STORE_ACQUIRE] = "acquire",
	[STORE_LIST] = "list", [STORE_WATCH] = "watch",
};

static const char *const error_names[STORE_ERRORS] = {
	[STORE_TIMEOUT] = "timeout", [STORE_UNREACHABLE] = "unreachable",
	[STORE_BAD_REPLY] = "bad_reply", [STORE_DENIED] = "denied",
	[STORE_OTHER] = "other",
};

/* ------------------------------------------------------------ counting */

static enum node_store_error error_kind(int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return STORE_TIMEOUT;
	case -ECONNREFUSED: case -EHOSTUNREACH: case -ENETUNREACH:
	case -ECONNRESET: case -ECONNABORTED: case -EPIPE:
		return STORE_UNREACHABLE;
	case -EPROTO: case -EBADMSG: case -EMSGSIZE:
		return STORE_BAD_REPLY;
	case -EACCES: case -EPERM: case -EKEYREJECTED:
		return STORE_DENIED;
	default:
		return STORE_OTHER;
	}
}

void node_metrics_store_result(struct ovl_node *node, enum node_store_request request,
			       int err)
{
	if (err < 0)
		node->metrics.store_errors[request][error_kind(err)]++;
}

void node_metrics_renewed(struct ovl_node *node, int err)
{
	if (err == 0 && !ovl_lease_is_lost(node->lease)) {
		node->metrics.renewals++;
		return;
	}
	node->metrics.renewal_failures++;
	/* -ESTALE is the store's answer that the lease is taken: a loss,
	 * counted as such, not a failure of the store. */
	if (err != -ESTALE)
		node_metrics_store_result(node, STORE_RENEW, err);
}

void node_metrics_watch_failed(struct ovl_node *node, int err)
{
	node_metrics_store_result(node, STORE_WATCH, err);
	/* The closed watch takes its own reconnects along; the agent's
	 * reopening of it is one more. */
	node->metrics.watch_reconnects += node->watch->reconnects + 1;
	node->metrics.watch_relists += node->watch->relists;
}

void node_metrics_resync_done(struct ovl_node *node)
{
	double seconds = (node_now_ms() - node->listing_since) / 1000.0;
	size_t i;

	for (i = 0; i < NODE_RESYNC_BUCKETS && seconds > resync_bounds[i]; i++)
		;
	node->metrics.resync_buckets[i]++;
	node->metrics.resyncs++;
	node->metrics.resync_seconds += seconds;
}

/* ------------------------------------------------------------- writing */

static void header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(FILE *out, const char *name, const char *help, double value)
{
	header(out, name, "gauge", help);
	fprintf(out, "%s %.17g\n", name, value);
}

static void counter(FILE *out, const char *name, const char *help, uint64_t value)
{
	header(out, name, "counter", help);
	fprintf(out, "%s %llu\n", name, (unsigned long long)value);
}

/* A label value as the format wants it: backslash, quote and newline
 * escaped. */
static void label(FILE *out, const char *name, const char *value, const char *after)
{
	fprintf(out, "%s=\"", name);
	for (; *value; value++) {
		if (*value == '\\' || *value == '"')
			fputc('\\', out);
		if (*value == '\n')
			fputs("\\n", out);
		else
			fputc(*value, out);
	}
	fprintf(out, "\"%s", after);
}

static void write_info(FILE *out, const struct ovl_node *node,
		       const struct ovl_node_status *status)
{
	header(out, "ovl_node_info", "gauge",
	       "The node's backend, device, subnets and public addresses (always 1).");
	fputs("ovl_node_info{", out);
	label(out, "backend", status->backend, ",");
	label(out, "device", node->planes[0].device, ",");
	label(out, "subnet", status->subnet, ",");
	label(out, "ipv6_subnet", status->ipv6_subnet, ",");
	label(out, "public_ip", status->public_ip, ",");
	label(out, "public_ipv6", status->public_ipv6, "} 1\n");
}

static void write_lease(FILE *out, const struct ovl_node *node,
			const struct ovl_node_status *status)
{
	gauge(out, "ovl_node_ready", "1 while the lease is held, the devices are up and "
	      "the peers are synced.", status->ready);
	gauge(out, "ovl_lease_held", "1 while the node holds its lease, 0 from its loss "
	      "until it is re-acquired.", !status->lease_lost);
	gauge(out, "ovl_lease_expiry_timestamp_seconds", "When the lease expires unless "
	      "renewed, in unix seconds; 0 for a reservation.",
	      (double)status->lease_expiration);
	counter(out, "ovl_lease_renewals_total", "Lease renewals the store accepted.",
		node->metrics.renewals);
	counter(out, "ovl_lease_renewal_failures_total", "Lease renewals that failed or "
		"found the lease taken.", node->metrics.renewal_failures);
	counter(out, "ovl_lease_losses_total", "Times the lease was found taken, deleted "
		"or expired.", node->metrics.lease_losses);
	counter(out, "ovl_lease_reacquisitions_total", "Leases acquired again after a "
		"loss.", node->metrics.reacquisitions);
}

static void write_sync(FILE *out, const struct ovl_node *node,
		       const struct ovl_node_status *status)
{
	const struct node_metrics *m = &node->metrics;
	uint64_t cumulative = 0;
	size_t i;

	gauge(out, "ovl_peers_installed", "Peers whose entries are in the kernel.",
	      status->peers);
	gauge(out, "ovl_peers_skipped", "Lease records of other nodes skipped: failed "
	      "validation or refused by the backend.", status->skipped);
	header(out, "ovl_resync_duration_seconds", "histogram", "Full resyncs (store "
	       "listing to kernel in sync) that succeeded, by duration.");
	for (i = 0; i <= NODE_RESYNC_BUCKETS; i++) {
		cumulative += m->resync_buckets[i];
		if (i < NODE_RESYNC_BUCKETS)
			fprintf(out, "ovl_resync_duration_seconds_bucket{le=\"%g\"} %llu\n",
				resync_bounds[i], (unsigned long long)cumulative);
		else
			fprintf(out, "ovl_resync_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				(unsigned long long)cumulative);
	}
	fprintf(out, "ovl_resync_duration_seconds_sum %.9g\n", m->resync_seconds);
	fprintf(out, "ovl_resync_duration_seconds_count %llu\n",
		(unsigned long long)m->resyncs);
	gauge(out, "ovl_last_sync_timestamp_seconds", "When the last full resync "
	      "succeeded, in unix seconds; 0 before the first.", (double)status->last_sync);
}

static void write_errors(FILE *out, const struct ovl_node *node)
{
	const struct node_metrics *m = &node->metrics;
	int request, kind;

	header(out, "ovl_store_request_errors_total", "counter", "Store requests that "
	       "failed, by request and by kind of error.");
	for (request = 0; request < STORE_REQUESTS; request++)
		for (kind = 0; kind < STORE_ERRORS; kind++)
			fprintf(out, "ovl_store_request_errors_total{request=\"%s\",error=\"%s\"} %llu\n",
				request_names[request], error_names[kind],
				(unsigned long long)m->store_errors[request][kind]);
	counter(out, "ovl_store_watch_reconnects_total", "Times the store watch lost its "
		"connection or failed and was resumed or reopened.",
		m->watch_reconnects + (node->watch ? node->watch->reconnects : 0));
	counter(out, "ovl_store_watch_relists_total", "Times the store watch listed again "
		"because it could not resume (etcd compaction, Kubernetes 410 Gone).",
		m->watch_relists + (node->watch ? node->watch->relists : 0));
	counter(out, "ovl_store_listings_total", "Resyncs that listed every record: the "
		"store changed in a way the watch did not show (or there was none).",
		m->listings);
	counter(out, "ovl_netlink_errors_total", "Kernel changes (peers, devices) that "
		"failed.", m->netlink_errors);
	counter(out, "ovl_device_recreations_total", "Devices brought back after being "
		"deleted, replaced, set down or flapped.", m->device_recreations);
	if (node->backend->rotate_key)
		counter(out, "ovl_wireguard_key_rotations_total", "New WireGuard keys published "
			"in the lease (ovl_node_rotate_key).", m->key_rotations);
}

/* The userspace data path's counters of every plane that has one (udp). */
static void write_link_stats(FILE *out, const struct ovl_node *node)
{
	static const struct {
		const char *name, *type, *help;
	} families[] = {
		{ "ovl_udp_packets_total", "direction", "Inner IP packets forwarded, out "
		  "(TUN to UDP, towards peers) and in (UDP to TUN)." },
		{ "ovl_udp_bytes_total", "direction", "Bytes of the packets forwarded." },
		{ "ovl_udp_dropped_packets_total", "reason", "Packets dropped, by reason." },
	};
	struct ovl_link_stats stats[2];
	int have[2] = { 0, 0 }, any = 0, i;
	size_t f;

	for (i = 0; i < node->nplanes; i++) {
		stats[i] = (struct ovl_link_stats)OVL_LINK_STATS_INIT;
		have[i] = node->planes[i].link && ovl_link_stats(node->planes[i].link,
								 &stats[i]) == 0;
		any |= have[i];
	}
	for (f = 0; any && f < ARRAY_SIZE(families); f++) {
		header(out, families[f].name, "counter", families[f].help);
		for (i = 0; i < node->nplanes; i++) {
			const struct ovl_link_stats *s = &stats[i];
			const struct {
				const char *value;
				uint64_t count;
			} rows[3][6] = {
				{ { "out", s->packets_out }, { "in", s->packets_in } },
				{ { "out", s->bytes_out }, { "in", s->bytes_in } },
				{ { "unknown_source", s->drop_unknown_source },
				  { "not_ours", s->drop_not_ours },
				  { "malformed", s->drop_malformed },
				  { "no_route", s->drop_no_route }, { "ttl", s->drop_ttl },
				  { "io", s->drop_io } },
			};
			size_t r;

			for (r = 0; have[i] && r < 6 && rows[f][r].value; r++) {
				fprintf(out, "%s{", families[f].name);
				label(out, "device", node->planes[i].device, ",");
				fprintf(out, "%s=\"%s\"} %llu\n", families[f].type, rows[f][r].value,
					(unsigned long long)rows[f][r].count);
			}
		}
	}
}

OVL_EXPORT int ovl_node_metrics(const struct ovl_node *node, char **text)
{
	struct ovl_node_status status = OVL_NODE_STATUS_INIT;
	size_t size;
	FILE *out;
	int failed;

	ctx_clear_error(node ? node->ctx : NULL);
	if (!node || !text)
		return node ? ctx_fail(node->ctx, -EINVAL, "ovl_node_metrics: NULL text") : -EINVAL;
	*text = NULL;
	ovl_node_status(node, &status);
	out = open_memstream(text, &size);
	if (!out)
		return ctx_fail(node->ctx, -ENOMEM, "out of memory");
	write_info(out, node, &status);
	write_lease(out, node, &status);
	write_sync(out, node, &status);
	write_errors(out, node);
	write_link_stats(out, node);
	failed = ferror(out);
	if (fclose(out) != 0 || failed) {
		free(*text);
		*text = NULL;
		return ctx_fail(node->ctx, -ENOMEM, "out of memory");
	}
	return 0;
}
