/*
 * test-node-peer.c - unit tests of node-peer.c: which lease records the
 * agent installs as peers, and the reason it gives for each one it skips.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"
#include "lease/lease.h"
#include "agent/node.h"

static struct ovl_prefix network, own;

/* A lease record as a store would hand it over. */
static struct ovl_lease *record(const char *subnet, const char *public_ip,
				const char *type, const char *data)
{
	struct ovl_lease *lease = lease_new();

	CU_ASSERT_PTR_NOT_NULL_FATAL(lease);
	CU_ASSERT_EQUAL_FATAL(ovl_prefix_parse(subnet, &lease->subnet), 0);
	lease->has_ipv4 = 1;
	strcpy(lease->subnet_text, subnet);
	lease_key_format(lease, lease->key, sizeof(lease->key));
	lease->public_ip = public_ip ? strdup(public_ip) : NULL;
	lease->backend_type = type ? strdup(type) : NULL;
	lease->backend_data = data ? strdup(data) : NULL;
	return lease;
}

/* Runs the check; returns its result and leaves the reason in why. */
static int check(const char *subnet, const char *ip, const char *type,
		 const char *data, struct peer_text *peer, char *why, size_t size)
{
	struct peer_rules rules = { AF_INET, &network, &own, "vxlan", 1, NULL, 0, 0 };
	struct ovl_ctx *ctx;
	struct ovl_lease *lease = record(subnet, ip, type, data);
	int err;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	err = peer_from_lease(ctx, &rules, lease, peer);
	strncpy(why, ovl_ctx_error(ctx), size - 1);
	why[size - 1] = '\0';
	ovl_ctx_free(ctx);
	ovl_lease_free(lease);
	return err;
}

static void setup(void)
{
	CU_ASSERT_EQUAL_FATAL(ovl_prefix_parse("10.244.0.0/16", &network), 0);
	CU_ASSERT_EQUAL_FATAL(ovl_prefix_parse("10.244.3.0/24", &own), 0);
}

static void test_valid_peer(void)
{
	struct peer_text peer;
	char why[256];

	setup();
	CU_ASSERT_EQUAL(check("10.244.7.0/24", "192.168.77.12", "vxlan",
			      "{\"VNI\":1,\"VtepMAC\":\"0e:2a:33:44:55:66\"}",
			      &peer, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(peer.subnet, "10.244.7.0/24");
	CU_ASSERT_STRING_EQUAL(peer.public_ip, "192.168.77.12");
	CU_ASSERT_STRING_EQUAL(peer.mac, "0e:2a:33:44:55:66");
}

/* host-gw and udp records carry no BackendData; flanneld's udp backend
 * writes an empty BackendType, which a udp node takes as udp. */
static int check_backend(const char *ours, const char *type, struct peer_text *peer)
{
	struct peer_rules rules = { AF_INET, &network, &own, ours, 1, NULL, 0, 0 };
	struct ovl_lease *lease = record("10.244.7.0/24", "192.168.77.12", type, NULL);
	struct ovl_ctx *ctx;
	int err;

	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	err = peer_from_lease(ctx, &rules, lease, peer);
	ovl_ctx_free(ctx);
	ovl_lease_free(lease);
	return err;
}

static void test_other_backends(void)
{
	struct peer_text peer;

	setup();
	CU_ASSERT_EQUAL(check_backend("host-gw", "host-gw", &peer), 0);
	CU_ASSERT_STRING_EQUAL(peer.public_ip, "192.168.77.12");
	CU_ASSERT_STRING_EQUAL(peer.mac, "");
	CU_ASSERT_EQUAL(check_backend("udp", "udp", &peer), 0);
	CU_ASSERT_STRING_EQUAL(peer.subnet, "10.244.7.0/24");
	CU_ASSERT_EQUAL(check_backend("udp", "", &peer), 0);
	CU_ASSERT_EQUAL(check_backend("udp", NULL, &peer), 0);
	CU_ASSERT_EQUAL(check_backend("host-gw", "", &peer), -EINVAL);
	CU_ASSERT_EQUAL(check_backend("vxlan", "", &peer), -EINVAL);
	CU_ASSERT_EQUAL(check_backend("udp", "host-gw", &peer), -EINVAL);
	CU_ASSERT_EQUAL(check_backend("host-gw", "vxlan", &peer), -EINVAL);
}

/* Each invalid record is refused with a reason naming what is wrong. */
static void test_skipped_records(void)
{
	static const struct {
		const char *subnet, *ip, *type, *data, *reason;
	} cases[] = {
		{ "10.245.7.0/24", "192.168.77.12", "vxlan", "{\"VNI\":1,\"VtepMAC\":\"0e:2a:33:44:55:66\"}", "outside the network" },
		{ "10.244.3.0/24", "192.168.77.12", "vxlan", "{\"VNI\":1,\"VtepMAC\":\"0e:2a:33:44:55:66\"}", "overlaps ours" },
		{ "10.244.3.128/25", "192.168.77.12", "vxlan", "{\"VNI\":1,\"VtepMAC\":\"0e:2a:33:44:55:66\"}", "overlaps ours" },
		{ "10.244.7.0/24", "192.168.77.12", "host-gw", NULL, "backend type 'host-gw'" },
		{ "10.244.7.0/24", NULL, "vxlan", "{\"VNI\":1,\"VtepMAC\":\"0e:2a:33:44:55:66\"}", "no PublicIP" },
		{ "10.244.7.0/24", "127.0.0.1", "vxlan", "{\"VNI\":1,\"VtepMAC\":\"0e:2a:33:44:55:66\"}", "loopback" },
		{ "10.244.7.0/24", "0.0.0.0", "vxlan", "{\"VNI\":1,\"VtepMAC\":\"0e:2a:33:44:55:66\"}", "unspecified" },
		{ "10.244.7.0/24", "239.1.1.1", "vxlan", "{\"VNI\":1,\"VtepMAC\":\"0e:2a:33:44:55:66\"}", "multicast" },
		{ "10.244.7.0/24", "fd00::1", "vxlan", "{\"VNI\":1,\"VtepMAC\":\"0e:2a:33:44:55:66\"}", "not an IPv4 address" },
		{ "10.244.7.0/24", "192.168.77.12", "vxlan", "{\"VNI\":2,\"VtepMAC\":\"0e:2a:33:44:55:66\"}", "VNI 2, want 1" },
		/* Go's zero value: an absent VNI is 0 */
		{ "10.244.7.0/24", "192.168.77.12", "vxlan", "{\"VtepMAC\":\"0e:2a:33:44:55:66\"}", "VNI 0, want 1" },
		{ "10.244.7.0/24", "192.168.77.12", "vxlan", "{\"VNI\":\"1\",\"VtepMAC\":\"0e:2a:33:44:55:66\"}", "VNI is a string" },
		{ "10.244.7.0/24", "192.168.77.12", "vxlan", "{\"VNI\":1,\"VtepMAC\":\"01:00:5e:00:00:01\"}", "not a unicast MAC" },
		{ "10.244.7.0/24", "192.168.77.12", "vxlan", "{\"VNI\":1,\"VtepMAC\":\"00:00:00:00:00:00\"}", "not a unicast MAC" },
		{ "10.244.7.0/24", "192.168.77.12", "vxlan", "{\"VNI\":1,\"VtepMAC\":\"0e:2a:33:44:55\"}", "not a unicast MAC" },
		{ "10.244.7.0/24", "192.168.77.12", "vxlan", "{\"VNI\":1}", "not a unicast MAC" },
		{ "10.244.7.0/24", "192.168.77.12", "vxlan", "[1]", "no BackendData object" },
		{ "10.244.7.0/24", "192.168.77.12", "vxlan", NULL, "no BackendData object" },
	};
	struct peer_text peer;
	char why[256];
	size_t i;

	setup();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = check(cases[i].subnet, cases[i].ip, cases[i].type, cases[i].data,
				&peer, why, sizeof(why));

		CU_ASSERT_EQUAL(err, -EINVAL);
		if (!strstr(why, cases[i].reason))
			CU_FAIL("reason does not name the problem");
		CU_ASSERT_STRING_EQUAL(peer.mac, "");
	}
}

/* Megabyte strings: skipped with a reason of bounded length; a name of a
 * host name's length is fine. */
static void test_huge_strings(void)
{
	struct peer_rules rules = { AF_INET, &network, &own, "vxlan", 1, NULL, 0, 0 };
	const char *data = "{\"VNI\":1,\"VtepMAC\":\"0e:2a:33:44:55:66\"}";
	size_t huge = 1 << 20;
	struct ovl_lease *lease;
	struct peer_text peer;
	struct ovl_ctx *ctx;
	char *text = malloc(huge + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	memset(text, 'x', huge);
	text[huge] = '\0';
	setup();
	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	lease = record("10.244.7.0/24", "192.168.77.12", "vxlan", data);
	lease->node_name = strdup(text);
	CU_ASSERT_EQUAL(peer_from_lease(ctx, &rules, lease, &peer), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "NodeName of 1048576 bytes"));
	text[253] = '\0';
	free(lease->node_name);
	lease->node_name = strdup(text);
	CU_ASSERT_EQUAL(peer_from_lease(ctx, &rules, lease, &peer), 0);
	ovl_lease_free(lease);
	text[253] = 'x';
	lease = record("10.244.7.0/24", "192.168.77.12", text, data);
	CU_ASSERT_EQUAL(peer_from_lease(ctx, &rules, lease, &peer), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(ovl_ctx_error(ctx), "backend type 'xxx"));
	CU_ASSERT(strlen(ovl_ctx_error(ctx)) < 1024);
	ovl_lease_free(lease);
	ovl_ctx_free(ctx);
	free(text);
}

static void test_other_family_absent(void)
{
	struct peer_rules rules = { AF_INET6, &network, NULL, "vxlan", 1, NULL, 0, 0 };
	struct ovl_lease *lease;
	struct peer_text peer;

	setup();
	lease = record("10.244.7.0/24", "192.168.77.12", "vxlan", "{}");
	CU_ASSERT_EQUAL(peer_from_lease(NULL, &rules, lease, &peer), -ENOENT);
	ovl_lease_free(lease);
}

/* flannel's selectMode for one WireGuard device: IPv4 unless only IPv6
 * is public on both sides or the lease has no IPv4 address; Mode ipv4 and
 * ipv6 fixed; a peer of the IPv6 plane takes the IPv4 BackendData's
 * Port (its one device listens there). */
static void test_endpoint_mode(void)
{
	static const char key[] = "\"PublicKey\":\"MId7H+EaWuL0D+bVyjk255/Af1kI4TAZHpjD50r0lU8=\"";
	struct ovl_prefix network6;
	struct peer_rules rules = { AF_INET6, &network6, NULL, "wireguard", 0, "auto", 1, 1 };
	struct ovl_lease *lease;
	struct peer_text peer;
	struct ovl_ctx *ctx;
	char data[128], data6[128];

	setup();
	CU_ASSERT_EQUAL_FATAL(ovl_ctx_new(&ctx), 0);
	ovl_prefix_parse("fd44::/48", &network6);
	lease = record("10.244.7.0/24", "192.168.77.12", "wireguard", NULL);
	ovl_prefix_parse("fd44:0:0:7::/64", &lease->ipv6_subnet);
	lease->has_ipv6 = 1;
	strcpy(lease->ipv6_subnet_text, "fd44:0:0:7::/64");
	lease->public_ipv6 = strdup("2001:db8::12");
	snprintf(data, sizeof(data), "{%s,\"Port\":51820}", key);
	snprintf(data6, sizeof(data6), "{%s,\"Port\":51821}", key);
	lease->backend_data = strdup(data);
	lease->backend_v6_data = strdup(data6);
	/* Private IPv4, public IPv6 on both sides: IPv6. */
	CU_ASSERT_EQUAL(peer_endpoint_family(&rules, lease), AF_INET6);
	CU_ASSERT_EQUAL(peer_from_lease(ctx, &rules, lease, &peer), 0);
	CU_ASSERT_STRING_EQUAL(peer.public_ip, "2001:db8::12");
	CU_ASSERT_EQUAL(peer.port, 51820);
	/* We have no public IPv6: IPv4. */
	rules.have_public_ipv6 = 0;
	CU_ASSERT_EQUAL(peer_endpoint_family(&rules, lease), AF_INET);
	CU_ASSERT_EQUAL(peer_from_lease(ctx, &rules, lease, &peer), 0);
	CU_ASSERT_STRING_EQUAL(peer.subnet, "fd44:0:0:7::/64");
	CU_ASSERT_STRING_EQUAL(peer.public_ip, "192.168.77.12");
	rules.endpoint_mode = "ipv6";
	CU_ASSERT_EQUAL(peer_endpoint_family(&rules, lease), AF_INET6);
	rules.endpoint_mode = "ipv4";
	CU_ASSERT_EQUAL(peer_endpoint_family(&rules, lease), AF_INET);
	/* No PublicIP: IPv6 in auto, whatever else. */
	rules.endpoint_mode = "auto";
	free(lease->public_ip);
	lease->public_ip = NULL;
	CU_ASSERT_EQUAL(peer_endpoint_family(&rules, lease), AF_INET6);
	ovl_lease_free(lease);
	ovl_ctx_free(ctx);
	CU_ASSERT_TRUE(peer_address_is_private("172.31.0.1"));
	CU_ASSERT_FALSE(peer_address_is_private("172.32.0.1"));
	CU_ASSERT_TRUE(peer_address_is_private("fd77::1"));
	CU_ASSERT_FALSE(peer_address_is_private("2001:db8::1"));
}

static void test_mac_parse(void)
{
	unsigned char mac[6];

	CU_ASSERT_EQUAL(mac_parse_unicast("0e:2a:33:44:55:66", mac), 0);
	CU_ASSERT_EQUAL(mac[0], 0x0e);
	CU_ASSERT_EQUAL(mac[5], 0x66);
	CU_ASSERT_EQUAL(mac_parse_unicast("0E:2A:33:44:55:FF", mac), 0);
	CU_ASSERT_EQUAL(mac_parse_unicast("ff:ff:ff:ff:ff:ff", mac), -EINVAL);
	CU_ASSERT_EQUAL(mac_parse_unicast("0e-2a-33-44-55-66", mac), -EINVAL);
	CU_ASSERT_EQUAL(mac_parse_unicast("0e:2a:33:44:55:66:77", mac), -EINVAL);
	CU_ASSERT_EQUAL(mac_parse_unicast("0e:2a:33:44:55:6", mac), -EINVAL);
	CU_ASSERT_EQUAL(mac_parse_unicast(NULL, mac), -EINVAL);
}

void register_tests(void)
{
	static const CU_TestInfo tests[] = {
		{ "a valid record becomes a peer", test_valid_peer },
		{ "invalid records are skipped with a reason", test_skipped_records },
		{ "a record without our family is absent, not invalid", test_other_family_absent },
		{ "VTEP MAC parsing", test_mac_parse },
		{ "one WireGuard device: the endpoint's family and port", test_endpoint_mode },
		{ "huge NodeName and BackendType are skipped", test_huge_strings },
		{ "host-gw and udp records, flanneld's empty udp type", test_other_backends },
		CU_TEST_INFO_NULL,
	};

	harness_add_suite("node-peer", tests);
}
