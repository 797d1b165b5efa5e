/*
 * test-lease.c - the pure half of leases: flannel's subnet key and
 * LeaseAttrs codecs (with the validation of foreign records) and the subnet
 * chooser (flannel's order, bounds, exhaustion, expiry, reservations, dual
 * stack, 65,000 leases).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "harness.h"
#include "lease/lease.h"

#define NOW ((int64_t)1700000000)

static struct ovl_ctx *ctx;

static struct ovl_config *config(const char *json)
{
	struct ovl_config *cfg = NULL;

	if (!ctx)
		ovl_ctx_new(&ctx);
	CU_ASSERT_EQUAL_FATAL(ovl_config_parse(ctx, json, &cfg), 0);
	return cfg;
}

/* A record as a store would hold it. */
static struct ovl_lease *record(const char *key, const char *node, const char *ip,
				int64_t expiration)
{
	char json[256];
	struct ovl_lease *lease = NULL;

	snprintf(json, sizeof(json), "{\"PublicIP\":\"%s\",\"PublicIPv6\":\"fd00::1\","
		 "\"BackendType\":\"vxlan\"%s%s%s}", ip, node ? ",\"NodeName\":\"" : "",
		 node ? node : "", node ? "\"" : "");
	CU_ASSERT_EQUAL_FATAL(lease_from_json(ctx, key, json, &lease), 0);
	lease->expiration = expiration;
	return lease;
}

/* A growing set of existing leases. */
struct set {
	struct ovl_lease **items;
	size_t count;
};

static void set_add(struct set *set, struct ovl_lease *lease)
{
	set->items = realloc(set->items, (set->count + 1) * sizeof(*set->items));
	set->items[set->count++] = lease;
}

static void set_free(struct set *set)
{
	ovl_leases_free(set->items, set->count);
	set->items = NULL;
	set->count = 0;
}

static int choose(const struct ovl_config *cfg, const struct set *set,
		  const struct ovl_lease_request *request, struct ovl_lease **chosen,
		  long *dropped)
{
	return lease_choose(ctx, cfg, set->items, set->count, request, NOW, chosen, dropped);
}

/* ---- key codec ------------------------------------------------------------ */

static void test_key_roundtrip(void)
{
	static const char *const keys[] = { "10.244.3.0-24", "10.12.13.0-24&fd00:12:13::-56",
					    "fd00:1:2::-64", "10.0.0.0-8" };
	struct ovl_lease lease;
	char buf[128];
	size_t i;

	if (!ctx)
		ovl_ctx_new(&ctx);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		memset(&lease, 0, sizeof(lease));
		CU_ASSERT_EQUAL(lease_key_parse(ctx, keys[i], &lease), 0);
		CU_ASSERT_STRING_EQUAL(lease.key, keys[i]);
		CU_ASSERT(lease_key_format(&lease, buf, sizeof(buf)) == (int)strlen(keys[i]));
		CU_ASSERT_STRING_EQUAL(buf, keys[i]);
	}
	memset(&lease, 0, sizeof(lease));
	lease_key_parse(ctx, "10.12.13.0-24&fd00:12:13::-56", &lease);
	CU_ASSERT_STRING_EQUAL(lease.subnet_text, "10.12.13.0/24");
	CU_ASSERT_STRING_EQUAL(lease.ipv6_subnet_text, "fd00:12:13::/56");
	CU_ASSERT(lease.has_ipv4 && lease.has_ipv6);
	CU_ASSERT_EQUAL(lease_key_format(&lease, buf, 10), -ENOSPC);
}

static void test_key_rejects(void)
{
	static const char *const bad[] = { "", "10.244.3.1-24", "10.244.3.0/24", "10.244.3.0-33",
					   "010.244.3.0-24", "10.244.3.0-024", "fd00::-64&10.0.0.0-8",
					   "10.244.3.0-24&10.244.4.0-24", "10.244.3.0-24&FD00::-64",
					   "hello", "10.244.3.0-", "-24" };
	struct ovl_lease lease;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&lease, 0, sizeof(lease));
		CU_ASSERT_EQUAL(lease_key_parse(ctx, bad[i], &lease), -EINVAL);
		if (*bad[i])
			CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), bad[i]));
	}
}

/* ---- LeaseAttrs codec ------------------------------------------------------- */

static void test_attrs_roundtrip(void)
{
	const char *json = "{\"PublicIP\":\"192.168.64.3\",\"PublicIPv6\":null,"
			   "\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,"
			   "\"VtepMAC\":\"c6:d2:32:6f:8f:44\"}}";
	struct ovl_lease *lease = NULL, *again = NULL;
	char *text;

	/* flannel's own example value (Documentation/reservations.md) */
	CU_ASSERT_EQUAL_FATAL(lease_from_json(ctx, "10.5.52.0-24", json, &lease), 0);
	CU_ASSERT_STRING_EQUAL(ovl_lease_public_ip(lease, AF_INET), "192.168.64.3");
	CU_ASSERT_PTR_NULL(ovl_lease_public_ip(lease, AF_INET6));
	CU_ASSERT_STRING_EQUAL(ovl_lease_backend_type(lease), "vxlan");
	CU_ASSERT_STRING_EQUAL(ovl_lease_backend_data(lease, AF_INET),
			       "{\"VNI\":1,\"VtepMAC\":\"c6:d2:32:6f:8f:44\"}");
	CU_ASSERT_PTR_NULL(ovl_lease_node_name(lease));
	CU_ASSERT_STRING_EQUAL(ovl_lease_subnet(lease, AF_INET), "10.5.52.0/24");
	CU_ASSERT_PTR_NULL(ovl_lease_subnet(lease, AF_INET6));
	CU_ASSERT(ovl_lease_is_reservation(lease));

	lease->node_name = strdup("node-a");
	text = lease_attrs_to_json(lease);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NULL(strstr(text, "Expiration"));
	CU_ASSERT_PTR_NULL(strstr(text, "PublicIPv6"));
	CU_ASSERT_EQUAL(lease_from_json(ctx, "10.5.52.0-24", text, &again), 0);
	CU_ASSERT_STRING_EQUAL(again->node_name, "node-a");
	CU_ASSERT_STRING_EQUAL(again->backend_data, lease->backend_data);
	CU_ASSERT_STRING_EQUAL(again->public_ip, "192.168.64.3");
	free(text);
	ovl_lease_free(again);
	ovl_lease_free(lease);

	/* the file store's Expiration */
	CU_ASSERT_EQUAL(lease_from_json(ctx, "10.5.52.0-24",
					"{\"PublicIP\":\"10.0.0.1\",\"Expiration\":1700000123}",
					&lease), 0);
	CU_ASSERT_EQUAL(ovl_lease_expiration(lease), 1700000123);
	CU_ASSERT_FALSE(ovl_lease_is_reservation(lease));
	ovl_lease_free(lease);
}

static void test_attrs_rejects(void)
{
	static const struct {
		const char *key, *json, *why;
	} bad[] = {
		{ "10.5.52.0-24", "[1]", "expected an object" },
		{ "10.5.52.0-24", "{\"PublicIP\":5}", "PublicIP: expected a string" },
		{ "10.5.52.0-24", "{\"PublicIP\":\"10.0.0\"}", "PublicIP: '10.0.0' is not an IPv4" },
		{ "10.5.52.0-24", "{\"PublicIP\":\"fd00::1\"}", "not an IPv4" },
		{ "10.5.52.0-24&fd00::-64", "{\"PublicIP\":\"10.0.0.1\",\"PublicIPv6\":\"10.0.0.2\"}",
		  "PublicIPv6: '10.0.0.2' is not an IPv6" },
		{ "10.5.52.0-24", "{\"PublicIP\":\"10.0.0.1\",\"BackendType\":[]}", "BackendType" },
		{ "10.5.52.0-24", "{\"PublicIP\":\"10.0.0.1\",\"BackendData\":\"x\"}",
		  "BackendData: expected an object" },
		{ "10.5.52.0-24", "{\"PublicIP\":\"10.0.0.1\",\"NodeName\":7}", "NodeName" },
		{ "10.5.52.0-24", "{\"PublicIP\":\"10.0.0.1\",\"Expiration\":-1}", "Expiration" },
		{ "10.5.52.0-24", "{\"PublicIP\":\"10.0.0.1\",\"Expiration\":\"soon\"}", "Expiration" },
		{ "10.5.52.0-24", "{}", "needs a PublicIP" },
		{ "10.5.52.0-24&fd00::-64", "{\"PublicIP\":\"10.0.0.1\"}", "needs a PublicIPv6" },
		{ "10.5.52.7-24", "{\"PublicIP\":\"10.0.0.1\"}", "not a subnet key" },
		{ "10.5.52.0-24", "{\"PublicIP\":", "not JSON" },
	};
	struct ovl_lease *lease = (struct ovl_lease *)1;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		CU_ASSERT_EQUAL(lease_from_json(ctx, bad[i].key, bad[i].json, &lease), -EINVAL);
		CU_ASSERT_PTR_NULL(lease);
		CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), bad[i].why));
		CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), bad[i].key));
		if (!strstr(ovl_ctx_error(ctx), bad[i].why))
			printf("\n  %s -> %s\n", bad[i].json, ovl_ctx_error(ctx));
	}
}

/* ---- the chooser ------------------------------------------------------------ */

static void test_choose_basic(void)
{
	struct ovl_config *cfg = config("{\"Network\":\"10.244.0.0/16\"}");
	struct ovl_lease_request req = OVL_LEASE_REQUEST_INIT;
	struct ovl_lease *chosen = NULL;
	struct set set = { 0 };
	long dropped = 5;

	req.node_name = "node-a";
	req.public_ip = "192.168.1.10";
	req.backend_data = "{ \"VNI\": 1, \"VtepMAC\": \"0e:00:00:00:00:01\" }";
	CU_ASSERT_EQUAL_FATAL(choose(cfg, &set, &req, &chosen, &dropped), 0);
	CU_ASSERT_EQUAL(dropped, -1);
	CU_ASSERT(chosen->has_ipv4 && !chosen->has_ipv6);
	CU_ASSERT_EQUAL(chosen->subnet.len, 24);
	/* the first subnet (10.244.0.0/24) is never handed out */
	CU_ASSERT(chosen->subnet.addr[0] == 10 && chosen->subnet.addr[1] == 244 &&
		  chosen->subnet.addr[2] >= 1 && chosen->subnet.addr[3] == 0);
	CU_ASSERT_STRING_EQUAL(chosen->node_name, "node-a");
	CU_ASSERT_STRING_EQUAL(chosen->backend_type, "vxlan");
	CU_ASSERT_STRING_EQUAL(chosen->backend_data, "{\"VNI\":1,\"VtepMAC\":\"0e:00:00:00:00:01\"}");
	CU_ASSERT_EQUAL(chosen->expiration, NOW + 1 + 24 * 3600);
	ovl_lease_free(chosen);

	req.ttl_seconds = 30;
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT_EQUAL(chosen->expiration, NOW + 31);
	ovl_lease_free(chosen);

	/* a request without identity or with a bad address is refused */
	req.public_ip = NULL;
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), -EINVAL);
	CU_ASSERT_PTR_NULL(chosen);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "public IP"));
	req.public_ip = "192.168.1.300";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), -EINVAL);
	req.public_ip = "192.168.1.10";
	req.backend_data = "[1,2]";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "backend data"));
	ovl_config_free(cfg);
}

static void test_choose_reuse(void)
{
	struct ovl_config *cfg = config("{\"Network\":\"10.244.0.0/16\"}");
	struct ovl_lease_request req = OVL_LEASE_REQUEST_INIT;
	struct ovl_lease *chosen = NULL;
	struct set set = { 0 };
	long dropped;

	set_add(&set, record("10.244.5.0-24", "node-b", "192.168.1.11", NOW + 100));
	set_add(&set, record("10.244.9.0-24", "node-a", "192.168.1.99", NOW + 100));
	set_add(&set, record("10.244.7.0-24", NULL, "192.168.1.12", NOW + 100));
	/* by node name, even with another public IP now */
	req.node_name = "node-a";
	req.public_ip = "192.168.1.10";
	req.preferred_subnet = "10.244.44.1/24";
	CU_ASSERT_EQUAL_FATAL(choose(cfg, &set, &req, &chosen, &dropped), 0);
	CU_ASSERT_STRING_EQUAL(chosen->key, "10.244.9.0-24");
	CU_ASSERT_STRING_EQUAL(chosen->public_ip, "192.168.1.10");
	CU_ASSERT_EQUAL(dropped, -1);
	CU_ASSERT_EQUAL(chosen->expiration, NOW + 1 + 24 * 3600);
	ovl_lease_free(chosen);
	/* without a name: by public IP, like flannel (a flanneld lease) */
	req.node_name = NULL;
	req.public_ip = "192.168.1.12";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, &dropped), 0);
	CU_ASSERT_STRING_EQUAL(chosen->key, "10.244.7.0-24");
	ovl_lease_free(chosen);
	/* a named node also owns a nameless record of its public IP */
	req.node_name = "node-c";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, &dropped), 0);
	CU_ASSERT_STRING_EQUAL(chosen->key, "10.244.7.0-24");
	CU_ASSERT_STRING_EQUAL(chosen->node_name, "node-c");
	ovl_lease_free(chosen);
	/* but never a record named for another node, whatever its IP */
	req.node_name = "node-d";
	req.public_ip = "192.168.1.11";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, &dropped), 0);
	CU_ASSERT_STRING_EQUAL(chosen->key, "10.244.44.0-24");
	ovl_lease_free(chosen);
	set_free(&set);
	ovl_config_free(cfg);
}

static void test_choose_preferred(void)
{
	struct ovl_config *cfg = config("{\"Network\":\"10.244.0.0/16\"}");
	struct ovl_lease_request req = OVL_LEASE_REQUEST_INIT;
	struct ovl_lease *chosen = NULL;
	struct set set = { 0 };

	set_add(&set, record("10.244.77.0-24", "node-b", "192.168.1.11", NOW + 100));
	req.node_name = "node-a";
	req.public_ip = "192.168.1.10";
	/* FLANNEL_SUBNET's form, base + 1 */
	req.preferred_subnet = "10.244.66.1/24";
	CU_ASSERT_EQUAL_FATAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT_STRING_EQUAL(chosen->subnet_text, "10.244.66.0/24");
	ovl_lease_free(chosen);
	/* taken, of another length, or outside: not used */
	req.preferred_subnet = "10.244.77.1/24";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT_STRING_NOT_EQUAL(chosen->subnet_text, "10.244.77.0/24");
	ovl_lease_free(chosen);
	req.preferred_subnet = "10.244.66.0/25";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT_EQUAL(chosen->subnet.len, 24);
	ovl_lease_free(chosen);
	req.preferred_subnet = "10.245.66.0/24";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT_EQUAL(chosen->subnet.addr[1], 244);
	ovl_lease_free(chosen);
	req.preferred_subnet = "10.244.0.0/24";	/* below SubnetMin */
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT_STRING_NOT_EQUAL(chosen->subnet_text, "10.244.0.0/24");
	ovl_lease_free(chosen);
	set_free(&set);
	ovl_config_free(cfg);
}

static void test_choose_incompatible(void)
{
	struct ovl_config *cfg = config("{\"Network\":\"10.244.0.0/16\"}");
	struct ovl_lease_request req = OVL_LEASE_REQUEST_INIT;
	struct ovl_lease *chosen = NULL;
	struct set set = { 0 };
	long dropped;

	set_add(&set, record("10.244.3.0-24", "node-b", "192.168.1.11", NOW + 100));
	/* ours, from when SubnetLen was 25 */
	set_add(&set, record("10.244.8.128-25", "node-a", "192.168.1.10", NOW + 100));
	/* ours in another network entirely */
	req.node_name = "node-a";
	req.public_ip = "192.168.1.10";
	req.preferred_subnet = "10.244.8.1/24";
	CU_ASSERT_EQUAL_FATAL(choose(cfg, &set, &req, &chosen, &dropped), 0);
	CU_ASSERT_EQUAL(dropped, 1);
	/* the dropped lease no longer blocks the /24 that holds it */
	CU_ASSERT_STRING_EQUAL(chosen->key, "10.244.8.0-24");
	ovl_lease_free(chosen);
	set_free(&set);

	set_add(&set, record("10.99.3.0-24", "node-a", "192.168.1.10", NOW + 100));
	req.preferred_subnet = NULL;
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, &dropped), 0);
	CU_ASSERT_EQUAL(dropped, 0);
	CU_ASSERT_EQUAL(chosen->subnet.addr[1], 244);
	ovl_lease_free(chosen);
	set_free(&set);

	/* a v4-only lease no longer fits a dual-stack config */
	ovl_config_free(cfg);
	cfg = config("{\"Network\":\"10.244.0.0/16\",\"EnableIPv6\":true,"
		     "\"IPv6Network\":\"fd00:1::/48\"}");
	set_add(&set, record("10.244.3.0-24", "node-a", "192.168.1.10", NOW + 100));
	req.public_ipv6 = "fd00::10";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, &dropped), 0);
	CU_ASSERT_EQUAL(dropped, 0);
	CU_ASSERT(chosen->has_ipv4 && chosen->has_ipv6);
	ovl_lease_free(chosen);
	set_free(&set);
	ovl_config_free(cfg);
}

static void test_choose_bounds_and_exhaustion(void)
{
	struct ovl_config *cfg = config("{\"Network\":\"10.244.0.0/16\",\"SubnetMin\":"
					"\"10.244.10.0\",\"SubnetMax\":\"10.244.12.0\"}");
	struct ovl_lease_request req = OVL_LEASE_REQUEST_INIT;
	struct ovl_lease *chosen = NULL;
	struct set set = { 0 };
	char name[32];
	int i, seen = 0;

	req.public_ip = "192.168.1.10";
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "node-%d", i);
		req.node_name = name;
		CU_ASSERT_EQUAL_FATAL(choose(cfg, &set, &req, &chosen, NULL), 0);
		CU_ASSERT(chosen->subnet.addr[2] >= 10 && chosen->subnet.addr[2] <= 12);
		seen |= 1 << (chosen->subnet.addr[2] - 10);
		set_add(&set, chosen);
	}
	CU_ASSERT_EQUAL(seen, 7);
	req.node_name = "node-late";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), -ENOSPC);
	CU_ASSERT_PTR_NULL(chosen);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), "out of subnets in 10.244.0.0/16 (3 leased)");
	set_free(&set);
	ovl_config_free(cfg);

	/* a whole /16: 255 subnets from 10.244.1.0 to 10.244.255.0 */
	cfg = config("{\"Network\":\"10.244.0.0/16\"}");
	for (i = 1; i <= 255; i++) {
		snprintf(name, sizeof(name), "10.244.%d.0-24", i);
		set_add(&set, record(name, NULL, "192.168.1.1", NOW + 100));
	}
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), -ENOSPC);
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(ctx), "out of subnets in 10.244.0.0/16 (255 leased)");
	/* one expiring frees exactly that one */
	set.items[99]->expiration = NOW;
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT_STRING_EQUAL(chosen->key, "10.244.100.0-24");
	ovl_lease_free(chosen);
	set_free(&set);
	ovl_config_free(cfg);
}

static void test_choose_expired_free(void)
{
	struct ovl_config *cfg = config("{\"Network\":\"10.244.0.0/16\",\"SubnetMin\":"
					"\"10.244.10.0\",\"SubnetMax\":\"10.244.11.0\"}");
	struct ovl_lease_request req = OVL_LEASE_REQUEST_INIT;
	struct ovl_lease *chosen = NULL;
	struct set set = { 0 };

	set_add(&set, record("10.244.10.0-24", "node-b", "192.168.1.11", NOW - 5));
	set_add(&set, record("10.244.11.0-24", "node-c", "192.168.1.12", NOW));
	req.node_name = "node-a";
	req.public_ip = "192.168.1.10";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	ovl_lease_free(chosen);
	/* one second earlier node-c's is still valid */
	CU_ASSERT_EQUAL(lease_choose(ctx, cfg, set.items, set.count, &req, NOW - 1, &chosen,
				     NULL), 0);
	CU_ASSERT_STRING_EQUAL(chosen->key, "10.244.10.0-24");
	ovl_lease_free(chosen);
	/* our own expired lease is preferred when still free */
	req.node_name = "node-c";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT_STRING_EQUAL(chosen->key, "10.244.11.0-24");
	ovl_lease_free(chosen);
	set_free(&set);
	ovl_config_free(cfg);
}

static void test_choose_reservations(void)
{
	struct ovl_config *cfg = config("{\"Network\":\"10.244.0.0/16\",\"SubnetMin\":"
					"\"10.244.10.0\",\"SubnetMax\":\"10.244.11.0\"}");
	struct ovl_lease_request req = OVL_LEASE_REQUEST_INIT;
	struct ovl_lease *chosen = NULL;
	struct set set = { 0 };

	/* flannel's reservation: no TTL, no node name, pinned to a public IP */
	set_add(&set, record("10.244.10.0-24", NULL, "192.168.1.50", 0));
	set_add(&set, record("10.244.11.0-24", "node-b", "192.168.1.11", NOW + 100));
	req.node_name = "node-a";
	req.public_ip = "192.168.1.10";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), -ENOSPC);
	/* even long after: reservations never expire */
	CU_ASSERT_EQUAL(lease_choose(ctx, cfg, set.items, set.count, &req, NOW + 10000000,
				     &chosen, NULL), 0);
	CU_ASSERT_STRING_EQUAL(chosen->key, "10.244.11.0-24");
	ovl_lease_free(chosen);
	/* the reserved node gets it, and it stays a reservation */
	req.public_ip = "192.168.1.50";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT_STRING_EQUAL(chosen->key, "10.244.10.0-24");
	CU_ASSERT_EQUAL(chosen->expiration, 0);
	ovl_lease_free(chosen);
	set_free(&set);

	/* making one: the named subnet exactly, or an error */
	req.flags = OVL_LEASE_RESERVE;
	req.node_name = "node-r";
	req.public_ip = "192.168.1.60";
	req.preferred_subnet = "10.244.11.0/24";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT_STRING_EQUAL(chosen->key, "10.244.11.0-24");
	CU_ASSERT_EQUAL(chosen->expiration, 0);
	set_add(&set, chosen);
	req.node_name = "node-s";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), -EEXIST);
	req.preferred_subnet = "10.244.12.0/24";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), -EINVAL);
	req.preferred_subnet = NULL;
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), -EINVAL);
	set_free(&set);
	ovl_config_free(cfg);
}

static void test_choose_dual_stack(void)
{
	struct ovl_config *cfg = config("{\"Network\":\"10.244.0.0/16\",\"EnableIPv6\":true,"
					"\"IPv6Network\":\"fd00:1::/48\"}");
	struct ovl_lease_request req = OVL_LEASE_REQUEST_INIT;
	struct ovl_lease *chosen = NULL, *again = NULL;
	struct set set = { 0 };
	char key[128];

	req.node_name = "node-a";
	req.public_ip = "192.168.1.10";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "IPv6"));
	req.public_ipv6 = "fd00:0::10";
	req.preferred_ipv6_subnet = "fd00:1:0:7::1/64";
	CU_ASSERT_EQUAL_FATAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT(chosen->has_ipv4 && chosen->has_ipv6);
	CU_ASSERT_STRING_EQUAL(chosen->ipv6_subnet_text, "fd00:1:0:7::/64");
	CU_ASSERT_STRING_EQUAL(chosen->public_ipv6, "fd00::10");
	snprintf(key, sizeof(key), "%s&fd00:1:0:7::-64", chosen->subnet_text);
	*strchr(key, '/') = '-';
	CU_ASSERT_STRING_EQUAL(chosen->key, key);
	set_add(&set, chosen);
	/* again: the same lease */
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &again, NULL), 0);
	CU_ASSERT_STRING_EQUAL(again->key, chosen->key);
	ovl_lease_free(again);
	/* another node: neither family collides */
	req.node_name = "node-b";
	req.public_ip = "192.168.1.11";
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &again, NULL), 0);
	CU_ASSERT_FALSE(ovl_prefix_equal(&again->subnet, &chosen->subnet));
	CU_ASSERT_FALSE(ovl_prefix_equal(&again->ipv6_subnet, &chosen->ipv6_subnet));
	ovl_lease_free(again);
	set_free(&set);
	ovl_config_free(cfg);
}

/* A window of 2^32 IPv6 subnets: past the bitmap, the leases themselves
 * are asked whether a subnet is free. */
static void test_choose_wide_ipv6(void)
{
	struct ovl_config *cfg = config("{\"EnableIPv4\":false,\"EnableIPv6\":true,"
					"\"IPv6Network\":\"fd00:1::/32\",\"IPv6SubnetLen\":64}");
	struct ovl_lease_request req = OVL_LEASE_REQUEST_INIT;
	struct ovl_lease *chosen = NULL, *other;
	struct set set = { 0 };

	other = lease_new();
	CU_ASSERT_EQUAL_FATAL(lease_key_parse(ctx, "fd00:1:ff00::-40", other), 0);
	other->public_ipv6 = strdup("fd00::2");
	other->expiration = NOW + 100;
	set_add(&set, other);
	req.node_name = "node-a";
	req.public_ipv6 = "fd00::1";
	req.preferred_ipv6_subnet = "fd00:1:ff00:1::/64";	/* inside the /40 */
	CU_ASSERT_EQUAL_FATAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT(!chosen->has_ipv4 && chosen->has_ipv6);
	CU_ASSERT_STRING_NOT_EQUAL(chosen->ipv6_subnet_text, "fd00:1:ff00:1::/64");
	CU_ASSERT_PTR_NULL(strchr(chosen->key, '&'));
	ovl_lease_free(chosen);
	req.preferred_ipv6_subnet = "fd00:1:fe00:1::/64";	/* free, far out */
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT_STRING_EQUAL(chosen->ipv6_subnet_text, "fd00:1:fe00:1::/64");
	CU_ASSERT_STRING_EQUAL(chosen->key, "fd00:1:fe00:1::-64");
	ovl_lease_free(chosen);
	set_free(&set);
	ovl_config_free(cfg);
}

static void test_choose_first_hundred(void)
{
	struct ovl_config *cfg = config("{\"Network\":\"10.244.0.0/16\"}");
	struct ovl_lease_request req = OVL_LEASE_REQUEST_INIT;
	struct ovl_lease *chosen = NULL;
	struct set set = { 0 };
	int i, distinct = 0, hit[256] = { 0 };
	char key[32];

	for (i = 1; i <= 50; i++) {
		snprintf(key, sizeof(key), "10.244.%d.0-24", i);
		set_add(&set, record(key, NULL, "192.168.1.1", NOW + 100));
	}
	req.node_name = "node-a";
	req.public_ip = "192.168.1.10";
	for (i = 0; i < 200; i++) {
		CU_ASSERT_EQUAL_FATAL(choose(cfg, &set, &req, &chosen, NULL), 0);
		/* the free ones start at 51: candidates are 51..150 */
		CU_ASSERT(chosen->subnet.addr[2] >= 51 && chosen->subnet.addr[2] <= 150);
		distinct += !hit[chosen->subnet.addr[2]]++;
		ovl_lease_free(chosen);
	}
	/* spread, so that racing writers rarely collide */
	CU_ASSERT(distinct > 50);
	set_free(&set);
	ovl_config_free(cfg);
}

/* 65,000 leases: a /8 of /24s nearly full; the chooser must stay fast. */
static void test_choose_scale(void)
{
	struct ovl_config *cfg = config("{\"Network\":\"10.0.0.0/8\"}");
	struct ovl_lease_request req = OVL_LEASE_REQUEST_INIT;
	struct ovl_lease *chosen = NULL;
	struct set set = { 0 };
	struct timespec t0, t1;
	char key[32];
	int i, n = 0;
	double ms;

	set.items = calloc(65535, sizeof(*set.items));
	/* every /24 from 10.0.1.0 up except eleven spread out */
	for (i = 1; i < 65536; i++) {
		if (i % 6500 == 3)
			continue;
		snprintf(key, sizeof(key), "10.%d.%d.0-24", i >> 8, i & 255);
		set.items[n] = lease_new();
		CU_ASSERT_EQUAL_FATAL(lease_key_parse(ctx, key, set.items[n]), 0);
		set.items[n]->public_ip = strdup("192.168.1.1");
		set.items[n]->expiration = NOW + 100;
		n++;
	}
	set.count = (size_t)n;
	CU_ASSERT_EQUAL(n, 65535 - 11);
	req.node_name = "node-a";
	req.public_ip = "192.168.2.1";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL_FATAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	i = (chosen->subnet.addr[1] << 8) | chosen->subnet.addr[2];
	CU_ASSERT_EQUAL(i % 6500, 3);
	ovl_lease_free(chosen);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf(" (%.1f ms) ", ms);
	CU_ASSERT(ms < 200);
	/* our own lease found among all of them */
	set.items[40000]->node_name = strdup("node-a");
	CU_ASSERT_EQUAL(choose(cfg, &set, &req, &chosen, NULL), 0);
	CU_ASSERT_STRING_EQUAL(chosen->key, set.items[40000]->key);
	ovl_lease_free(chosen);
	set_free(&set);
	ovl_config_free(cfg);
}

static void test_same_owner(void)
{
	struct ovl_lease *a = record("10.244.1.0-24", "n1", "192.168.1.1", NOW);
	struct ovl_lease *b = record("10.244.1.0-24", "n1", "192.168.1.2", NOW);
	struct ovl_lease *c = record("10.244.1.0-24", NULL, "192.168.1.1", NOW);
	struct ovl_lease *d = record("10.244.1.0-24", NULL, "192.168.1.1", NOW);

	CU_ASSERT(lease_same_owner(a, b));
	CU_ASSERT_FALSE(lease_same_owner(a, c));
	CU_ASSERT(lease_same_owner(c, d));
	ovl_lease_free(a);
	ovl_lease_free(b);
	ovl_lease_free(c);
	ovl_lease_free(d);
	ovl_ctx_free(ctx);
	ctx = NULL;
}

void register_tests(void)
{
	static CU_TestInfo codec[] = {
		{ "key round trip", test_key_roundtrip },
		{ "key rejects", test_key_rejects },
		{ "attrs round trip", test_attrs_roundtrip },
		{ "attrs rejects", test_attrs_rejects },
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo chooser[] = {
		{ "basic", test_choose_basic },
		{ "reuse own lease", test_choose_reuse },
		{ "preferred subnet", test_choose_preferred },
		{ "incompatible old lease", test_choose_incompatible },
		{ "bounds and exhaustion", test_choose_bounds_and_exhaustion },
		{ "expired leases are free", test_choose_expired_free },
		{ "reservations", test_choose_reservations },
		{ "dual stack", test_choose_dual_stack },
		{ "wide IPv6 range", test_choose_wide_ipv6 },
		{ "first hundred free", test_choose_first_hundred },
		{ "65000 leases", test_choose_scale },
		{ "same owner", test_same_owner },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("lease codec", codec);
	harness_add_suite("lease chooser", chooser);
}
