/*
 * test-errors.c - the error contract of ovl(3), call by call: each public
 * function that can fail is called with bad arguments after an unrelated
 * failure, and must return its documented -errno with a message about
 * itself (never the older one) in ovl_ctx_error; a NULL handle sets
 * nothing; every option struct follows the size and flags rule.  The
 * functions come from ovl.h, so a new one without an entry here fails.
 * Rootless: every case fails before the kernel is asked to change anything.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "core/internal.h"
#include "link/link.h"
#include "agent/node.h"
#include "agent/node-backend.h"

static struct {
	char dir[64];
	char path[128];		/* a scratch file in dir */
	struct ovl_ctx *ctx;
	struct ovl_config *config;
	struct ovl_store *store;
	struct ovl_link link;	/* a vxlan handle on no device */
	struct ovl_node *node;	/* an agent that never started */
	char stale[1024];	/* the message of the unrelated failure */
} f;

static const char NET_CONF[] =
	"{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}";

/* Leaves an unrelated message in the context. */
static void make_stale(void)
{
	struct ovl_config *config = NULL;

	ovl_config_parse(f.ctx, "{\"Network\": \"unrelated\"}", &config);
	snprintf(f.stale, sizeof(f.stale), "%s", ovl_ctx_error(f.ctx));
}

static void report(int line, const char *call, int ok, int got, int want, const char *text)
{
	if (!ok)
		printf("\n  line %d: %s returned %d (want %d), ovl_ctx_error '%s' (want it to "
		       "name '%s', not be '%s')\n", line, call, got, want, ovl_ctx_error(f.ctx),
		       text, f.stale);
	CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, call, __FILE__, "", CU_FALSE);
}

static void check_failure(int line, const char *call, int got, int want, const char *text)
{
	const char *message = ovl_ctx_error(f.ctx);

	report(line, call, got == want && strcmp(message, f.stale) && strstr(message, text),
	       got, want, text);
}

static void check_untouched(int line, const char *call, int got, int want)
{
	report(line, call, got == want && !strcmp(ovl_ctx_error(f.ctx), f.stale), got, want,
	       f.stale);
}

static void check_cleared(int line, const char *call, int got)
{
	report(line, call, got == 0 && !*ovl_ctx_error(f.ctx), got, 0, "");
}

/* The call returns err and ovl_ctx_error names text. */
#define FAILS(call, err, text) \
	(make_stale(), check_failure(__LINE__, #call, (call), err, text))
/* A NULL handle: the call returns err and sets nothing. */
#define FAILS_UNTOUCHED(call, err) \
	(make_stale(), check_untouched(__LINE__, #call, (call), err))
/* Success clears the older message. */
#define SUCCEEDS(call) (make_stale(), check_cleared(__LINE__, #call, (call)))

/* ---- the option-struct rule, one struct at a time ------------------------- */

struct options_case {
	const char *call;		/* names the call in its messages */
	size_t first_size, known_size;	/* 0.1's size, this header's */
	size_t flags_offset;		/* 0: no flags field */
	int output;			/* filled by the call, not read */
	const void *template;		/* a struct of known_size */
	/* Runs the call on options; the result at the template's size is the
	 * answer for every acceptable size. */
	int (*run)(void *options);
};

static int run_with_size(const struct options_case *c, size_t size, unsigned char tail,
			 unsigned int flags, void **out)
{
	size_t room = c->known_size + 64;
	unsigned char *options = calloc(1, room);
	int err;

	CU_ASSERT_PTR_NOT_NULL_FATAL(options);
	memcpy(options, c->template, c->known_size);
	memcpy(options, &size, sizeof(size));
	if (size > c->known_size)
		memset(options + c->known_size, tail, size - c->known_size);
	if (c->flags_offset)
		memcpy(options + c->flags_offset, &flags, sizeof(flags));
	make_stale();
	err = c->run(options);
	if (out)
		*out = options;
	else
		free(options);
	return err;
}

static void check_options(const struct options_case *c)
{
	char what[128], base[1024];
	unsigned char *output;
	size_t size, i;
	int want, got;

	snprintf(what, sizeof(what), "%s: size 0", c->call);
	check_failure(__LINE__, what, run_with_size(c, 0, 0, 0, NULL), -EINVAL, c->call);
	snprintf(what, sizeof(what), "%s: size %zu", c->call, c->first_size - 1);
	check_failure(__LINE__, what, run_with_size(c, c->first_size - 1, 0, 0, NULL), -EINVAL,
		      c->call);
	want = run_with_size(c, c->known_size, 0, 0, NULL);
	snprintf(base, sizeof(base), "%s", ovl_ctx_error(f.ctx));
	CU_ASSERT_NOT_EQUAL(want, -E2BIG);

	/* A newer caller's larger struct: accepted when its tail is zero. */
	size = c->known_size + 16;
	snprintf(what, sizeof(what), "%s: size %zu, zero tail", c->call, size);
	got = run_with_size(c, size, c->output ? 0xa5 : 0, 0, (void **)&output);
	report(__LINE__, what, got == want && !strcmp(ovl_ctx_error(f.ctx), base), got, want,
	       base);
	for (i = c->known_size; c->output && i < size; i++)
		if (output[i])
			break;
	report(__LINE__, "an output struct's unknown tail is zeroed", i >= size || !c->output,
	       (int)i, (int)size, "");
	free(output);
	if (!c->output) {
		snprintf(what, sizeof(what), "%s: size %zu, non-zero tail", c->call, size);
		check_failure(__LINE__, what, run_with_size(c, size, 1, 0, NULL), -E2BIG, c->call);
	}
	if (c->flags_offset) {
		snprintf(what, sizeof(what), "%s: unknown flags", c->call);
		check_failure(__LINE__, what, run_with_size(c, c->known_size, 0, 0x80000000u, NULL),
			      -EINVAL, "flags");
	}
}

static int run_lease(void *options)
{
	struct ovl_lease *lease = NULL;
	int err = ovl_lease(f.store, f.config, options, &lease);

	ovl_lease_free(lease);
	return err;
}

static int run_subnet_env_write(void *options)
{
	return ovl_subnet_env_write(f.ctx, f.path, options);
}

static int run_subnet_env_read(void *options)
{
	return ovl_subnet_env_read(f.ctx, f.path, options);
}

static int run_vxlan_up(void *options)
{
	struct ovl_link *link = NULL;
	int err = ovl_vxlan_up(f.ctx, options, &link);

	ovl_link_free(link);
	return err;
}

static int run_hostgw_up(void *options)
{
	struct ovl_link *link = NULL;
	int err = ovl_hostgw_up(f.ctx, options, &link);

	ovl_link_free(link);
	return err;
}

static int run_wireguard_up(void *options)
{
	struct ovl_link *link = NULL;
	int err = ovl_wireguard_up(f.ctx, options, &link);

	ovl_link_free(link);
	return err;
}

static int run_udp_up(void *options)
{
	struct ovl_link *link = NULL;
	int err = ovl_udp_up(f.ctx, options, &link);

	ovl_link_free(link);
	return err;
}

static int run_link_stats(void *options)
{
	return ovl_link_stats(&f.link, options);
}

static int run_node_start(void *options)
{
	struct ovl_node *node = NULL;
	int err = ovl_node_start(f.ctx, f.store, f.config, options, &node);

	ovl_node_stop(node, 0);
	return err;
}

static int run_node_status(void *options)
{
	return ovl_node_status(f.node, options);
}

static void test_option_structs(void)
{
	/* Each template fails (or succeeds) past the option checks without
	 * changing the kernel: an address that is none, a file in dir. */
	struct ovl_lease_request request = OVL_LEASE_REQUEST_INIT;
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;
	struct ovl_vxlan_options vxlan = OVL_VXLAN_OPTIONS_INIT;
	struct ovl_hostgw_options hostgw = OVL_HOSTGW_OPTIONS_INIT;
	struct ovl_udp_options udp = OVL_UDP_OPTIONS_INIT;
	struct ovl_wireguard_options wireguard = OVL_WIREGUARD_OPTIONS_INIT;
	struct ovl_link_stats stats = OVL_LINK_STATS_INIT;
	struct ovl_node_options node = OVL_NODE_OPTIONS_INIT;
	struct ovl_node_status status = OVL_NODE_STATUS_INIT;
	const struct options_case cases[] = {
		{ "ovl_lease", LEASE_REQUEST_SIZE_0_1, sizeof(request),
		  offsetof(struct ovl_lease_request, flags), 0, &request, run_lease },
		{ "ovl_subnet_env_write", SUBNET_ENV_SIZE_0_1, sizeof(env), 0, 0, &env,
		  run_subnet_env_write },
		{ "ovl_subnet_env_read", SUBNET_ENV_SIZE_0_1, sizeof(env), 0, 1, &env,
		  run_subnet_env_read },
		{ "ovl_vxlan_up", VXLAN_OPTIONS_SIZE_0_1, sizeof(vxlan),
		  offsetof(struct ovl_vxlan_options, flags), 0, &vxlan, run_vxlan_up },
		{ "ovl_hostgw_up", HOSTGW_OPTIONS_SIZE_0_1, sizeof(hostgw),
		  offsetof(struct ovl_hostgw_options, flags), 0, &hostgw, run_hostgw_up },
		{ "ovl_udp_up", UDP_OPTIONS_SIZE_0_1, sizeof(udp),
		  offsetof(struct ovl_udp_options, flags), 0, &udp, run_udp_up },
		{ "ovl_wireguard_up", WIREGUARD_OPTIONS_SIZE_0_2, sizeof(wireguard),
		  offsetof(struct ovl_wireguard_options, flags), 0, &wireguard,
		  run_wireguard_up },
		{ "ovl_link_stats", LINK_STATS_SIZE_0_1, sizeof(stats), 0, 1, &stats,
		  run_link_stats },
		{ "ovl_node_start", NODE_OPTIONS_SIZE_0_1, sizeof(node),
		  offsetof(struct ovl_node_options, flags), 0, &node, run_node_start },
		{ "ovl_node_status", NODE_STATUS_SIZE_0_1, sizeof(status), 0, 1, &status,
		  run_node_status },
	};
	size_t i;

	request.public_ip = "192.0.2.1";
	snprintf(env.network, sizeof(env.network), "10.244.0.0/16");
	snprintf(env.subnet, sizeof(env.subnet), "10.244.3.1/24");
	vxlan.local = hostgw.local = udp.local = wireguard.local = "banana";
	vxlan.subnet = hostgw.subnet = udp.subnet = "10.244.3.0/24";
	node.public_ip = "banana";
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		check_options(&cases[i]);
}

/* ---- one case per public function ------------------------------------------ */

static const struct ovl_peer BAD_PEER = { "10.244.0.0/33", "192.0.2.7", NULL };

static void case_ctx_new(void)
{
	FAILS_UNTOUCHED(ovl_ctx_new(NULL), -EINVAL);
}

static void case_ctx_set_netns(void)
{
	FAILS(ovl_ctx_set_netns(f.ctx, 9999), -EBADF, "9999");
	SUCCEEDS(ovl_ctx_set_netns(f.ctx, -1));
	FAILS_UNTOUCHED(ovl_ctx_set_netns(NULL, -1), -EINVAL);
}

static void case_ctx_set_netns_name(void)
{
	FAILS(ovl_ctx_set_netns_name(f.ctx, "a/b"), -EINVAL, "a/b");
	FAILS(ovl_ctx_set_netns_name(f.ctx, NULL), -EINVAL, "(null)");
	FAILS(ovl_ctx_set_netns_name(f.ctx, "ovl-test-errors-none"), -ENOENT,
	      "ovl-test-errors-none");
}

static void case_prefix_parse(void)
{
	struct ovl_prefix prefix;

	CU_ASSERT_EQUAL(ovl_prefix_parse("10.244.0.0/33", &prefix), -EINVAL);
	CU_ASSERT_EQUAL(ovl_prefix_parse(NULL, &prefix), -EINVAL);
}

static void case_addr_parse(void)
{
	struct ovl_prefix addr;

	CU_ASSERT_EQUAL(ovl_addr_parse("10.244.0.0/24", &addr), -EINVAL);
}

static void case_prefix_format(void)
{
	struct ovl_prefix prefix;
	char small[4];

	CU_ASSERT_EQUAL_FATAL(ovl_prefix_parse("10.244.0.0/16", &prefix), 0);
	CU_ASSERT_EQUAL(ovl_prefix_format(&prefix, small, sizeof(small)), -ENOSPC);
	CU_ASSERT_EQUAL(ovl_addr_format(&prefix, small, sizeof(small)), -ENOSPC);
}

static void case_prefix_next(void)
{
	struct ovl_prefix prefix, next;

	CU_ASSERT_EQUAL_FATAL(ovl_prefix_parse("255.255.255.0/24", &prefix), 0);
	CU_ASSERT_EQUAL(ovl_prefix_next(&prefix, &next), -ERANGE);
}

static void case_prefix_nth_subnet(void)
{
	struct ovl_prefix network, subnet;
	uint64_t index;

	CU_ASSERT_EQUAL_FATAL(ovl_prefix_parse("10.244.0.0/16", &network), 0);
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&network, 8, 0, &subnet), -EINVAL);
	CU_ASSERT_EQUAL(ovl_prefix_nth_subnet(&network, 24, 256, &subnet), -ERANGE);
	CU_ASSERT_EQUAL_FATAL(ovl_prefix_parse("10.245.0.0/24", &subnet), 0);
	CU_ASSERT_EQUAL(ovl_prefix_subnet_index(&network, &subnet, &index), -EINVAL);
}

static void case_config_parse(void)
{
	struct ovl_config *config = NULL;

	FAILS(ovl_config_parse(f.ctx, NULL, &config), -EINVAL, "ovl_config_parse");
	FAILS(ovl_config_parse(f.ctx, "{\"Network\": \"10.244.0.0/33\"}", &config), -EINVAL,
	      "10.244.0.0/33");
	SUCCEEDS(ovl_config_parse(f.ctx, NET_CONF, &config));
	ovl_config_free(config);
}

static void case_config_load(void)
{
	struct ovl_config *config = NULL;

	FAILS(ovl_config_load(f.ctx, NULL, &config), -EINVAL, "ovl_config_load");
	FAILS(ovl_config_load(f.ctx, "/nonexistent/net-conf.json", &config), -ENOENT,
	      "/nonexistent/net-conf.json");
}

static void case_store_open(void)
{
	struct ovl_store *store = NULL;

	FAILS(ovl_store_open(f.ctx, "file:x", NULL), -EINVAL, "ovl_store_open");
	FAILS(ovl_store_open(f.ctx, "nonsense", &store), -EINVAL, "nonsense");
	FAILS(ovl_store_open(f.ctx, "gopher://host/", &store), -EINVAL, "gopher");
	FAILS_UNTOUCHED(ovl_store_open(NULL, "file:x", &store), -EINVAL);
}

static void case_store_config_get(void)
{
	struct ovl_config *config = NULL;

	FAILS(ovl_store_config_get(f.store, NULL), -EINVAL, "ovl_store_config_get");
	FAILS(ovl_store_config_get(f.store, &config), -ENOENT, "config");
	FAILS_UNTOUCHED(ovl_store_config_get(NULL, &config), -EINVAL);
}

static void case_store_config_put(void)
{
	FAILS(ovl_store_config_put(f.store, NULL), -EINVAL, "ovl_store_config_put");
	FAILS(ovl_store_config_put(f.store, "{\"Network\": \"10.244.0.0/33\"}"), -EINVAL,
	      "10.244.0.0/33");
	FAILS_UNTOUCHED(ovl_store_config_put(NULL, NET_CONF), -EINVAL);
}

static void case_lease(void)
{
	struct ovl_lease_request request = OVL_LEASE_REQUEST_INIT;
	struct ovl_lease *lease = NULL;

	FAILS(ovl_lease(f.store, f.config, NULL, &lease), -EINVAL, "ovl_lease");
	request.public_ip = "10.244.0.0/33";
	FAILS(ovl_lease(f.store, f.config, &request, &lease), -EINVAL, "10.244.0.0/33");
	FAILS_UNTOUCHED(ovl_lease(NULL, f.config, &request, &lease), -EINVAL);
}

static void case_lease_renew(void)
{
	FAILS(ovl_lease_renew(f.store, NULL, 0), -EINVAL, "ovl_lease_renew");
}

static void case_lease_release(void)
{
	FAILS(ovl_lease_release(f.store, NULL), -EINVAL, "ovl_lease_release");
}

static void case_leases(void)
{
	struct ovl_lease **leases = NULL;
	size_t count = 0;

	FAILS(ovl_leases(f.store, &leases, NULL), -EINVAL, "ovl_leases");
	SUCCEEDS(ovl_leases(f.store, &leases, &count));
	ovl_leases_free(leases, count);
}

static void case_watch_open(void)
{
	FAILS(ovl_watch_open(f.store, NULL), -EINVAL, "ovl_watch_open");
}

static void case_watch_next(void)
{
	struct ovl_watch *watch = NULL;
	struct ovl_lease *lease = NULL;
	int event;

	SUCCEEDS(ovl_watch_open(f.store, &watch));
	FAILS(ovl_watch_next(watch, NULL, &lease), -EINVAL, "ovl_watch_next");
	while (ovl_watch_next(watch, &event, &lease) == 0)
		ovl_lease_free(lease);
	FAILS(ovl_watch_next(watch, &event, &lease), -EAGAIN, "ovl_watch_next");
	ovl_watch_close(watch);
}

static void case_subnet_env_write(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;

	FAILS(ovl_subnet_env_write(f.ctx, f.path, NULL), -EINVAL, "ovl_subnet_env_write");
	snprintf(env.subnet, sizeof(env.subnet), "10.244.0.0/33");
	FAILS(ovl_subnet_env_write(f.ctx, f.path, &env), -EINVAL, "10.244.0.0/33");
}

static void case_subnet_env_read(void)
{
	struct ovl_subnet_env env = OVL_SUBNET_ENV_INIT;

	FAILS(ovl_subnet_env_read(f.ctx, f.path, NULL), -EINVAL, "ovl_subnet_env_read");
	FAILS(ovl_subnet_env_read(f.ctx, "/nonexistent/subnet.env", &env), -ENOENT,
	      "/nonexistent/subnet.env");
}

static void case_vxlan_up(void)
{
	struct ovl_vxlan_options options = OVL_VXLAN_OPTIONS_INIT;

	options.local = "192.0.2.1", options.subnet = "10.244.0.0/33";
	FAILS(run_vxlan_up(NULL), -EINVAL, "ovl_vxlan_up");
	FAILS(run_vxlan_up(&options), -EINVAL, "10.244.0.0/33");
}

static void case_hostgw_up(void)
{
	struct ovl_hostgw_options options = OVL_HOSTGW_OPTIONS_INIT;

	options.local = "192.0.2.1", options.subnet = "10.244.0.0/33";
	FAILS(run_hostgw_up(NULL), -EINVAL, "ovl_hostgw_up");
	FAILS(run_hostgw_up(&options), -EINVAL, "10.244.0.0/33");
}

static void case_udp_up(void)
{
	struct ovl_udp_options options = OVL_UDP_OPTIONS_INIT;

	options.local = "192.0.2.1", options.subnet = "10.244.0.0/33";
	options.network = "10.244.0.0/16";
	FAILS(run_udp_up(NULL), -EINVAL, "ovl_udp_up");
	FAILS(run_udp_up(&options), -EINVAL, "10.244.0.0/33");
}

static void case_link_open(void)
{
	struct ovl_link *link = NULL;

	FAILS(ovl_link_open(f.ctx, NULL, &link), -EINVAL, "ovl_link_open");
	FAILS(ovl_link_open(f.ctx, "host-gw:", &link), -EINVAL, "host-gw:");
}

static void case_link_down(void)
{
	FAILS_UNTOUCHED(ovl_link_down(NULL), -EINVAL);
}

static void case_peer_add(void)
{
	FAILS(ovl_peer_add(&f.link, NULL), -EINVAL, "ovl_peer_add");
	FAILS(ovl_peer_add(&f.link, &BAD_PEER), -EINVAL, "10.244.0.0/33");
	FAILS_UNTOUCHED(ovl_peer_add(NULL, &BAD_PEER), -EINVAL);
}

static void case_peer_del(void)
{
	FAILS(ovl_peer_del(&f.link, NULL), -EINVAL, "ovl_peer_del");
	FAILS_UNTOUCHED(ovl_peer_del(NULL, &BAD_PEER), -EINVAL);
}

static void case_peer_sync(void)
{
	FAILS(ovl_peer_sync(&f.link, NULL, 2), -EINVAL, "ovl_peer_sync");
	FAILS_UNTOUCHED(ovl_peer_sync(NULL, NULL, 0), -EINVAL);
}

static void case_peer_list(void)
{
	struct ovl_peer *peers = NULL;

	FAILS(ovl_peer_list(&f.link, &peers, NULL), -EINVAL, "ovl_peer_list");
}

static void case_link_fd(void)
{
	FAILS(ovl_link_fd(&f.link), -EOPNOTSUPP, "ovl_link_fd");
	FAILS_UNTOUCHED(ovl_link_fd(NULL), -EINVAL);
}

static void case_link_dispatch(void)
{
	FAILS(ovl_link_dispatch(&f.link), -EOPNOTSUPP, "ovl_link_dispatch");
	FAILS_UNTOUCHED(ovl_link_dispatch(NULL), -EINVAL);
}

/* The loop may run on a thread of its own beside peer calls on the link
 * (ovl_udp_up(3)): it returns its errors and logs them, never touching the
 * context's message. */
static void case_udp_run(void)
{
	FAILS_UNTOUCHED(ovl_udp_run(&f.link, -1), -EOPNOTSUPP);
	FAILS_UNTOUCHED(ovl_udp_run(NULL, -1), -EINVAL);
}

static void case_wireguard_up(void)
{
	struct ovl_link *link = NULL;

	FAILS(ovl_wireguard_up(f.ctx, NULL, &link), -EINVAL, "ovl_wireguard_up");
}

static void case_wireguard_set_key(void)
{
	FAILS(ovl_wireguard_set_key(&f.link, NULL), -EINVAL, "ovl_wireguard_set_key");
	/* f.link is a vxlan link. */
	FAILS(ovl_wireguard_set_key(&f.link, "MId7H+EaWuL0D+bVyjk255/Af1kI4TAZHpjD50r0lU8="),
	      -EOPNOTSUPP, "not a WireGuard one");
	FAILS_UNTOUCHED(ovl_wireguard_set_key(NULL, "x"), -EINVAL);
}

static void case_wireguard_genkey(void)
{
	FAILS(ovl_wireguard_genkey(f.ctx, NULL), -EINVAL, "ovl_wireguard_genkey");
}

static void case_wireguard_pubkey(void)
{
	char key[OVL_WIREGUARD_KEY_STRLEN];

	FAILS(ovl_wireguard_pubkey(f.ctx, "not base64", key), -EINVAL, "private key");
}

static void case_wireguard_key_load(void)
{
	FAILS(ovl_wireguard_key_load(f.ctx, f.path, NULL), -EINVAL, "ovl_wireguard_key_load");
}

static const struct ovl_peer_v2 BAD_PEER_V2 = { sizeof(struct ovl_peer_v2), "10.244.0.0/33",
						"192.0.2.7", NULL, NULL, 0, 0, 0, 0, 0 };

static void case_peer_v2_add(void)
{
	FAILS(ovl_peer_v2_add(&f.link, NULL), -EINVAL, "ovl_peer_v2_add");
	FAILS(ovl_peer_v2_add(&f.link, &BAD_PEER_V2), -EINVAL, "10.244.0.0/33");
	FAILS_UNTOUCHED(ovl_peer_v2_add(NULL, &BAD_PEER_V2), -EINVAL);
}

static void case_peer_v2_del(void)
{
	FAILS(ovl_peer_v2_del(&f.link, NULL), -EINVAL, "ovl_peer_v2_del");
	FAILS_UNTOUCHED(ovl_peer_v2_del(NULL, &BAD_PEER_V2), -EINVAL);
}

static void case_peer_v2_sync(void)
{
	FAILS(ovl_peer_v2_sync(&f.link, NULL, 3), -EINVAL, "ovl_peer_v2_sync");
	FAILS_UNTOUCHED(ovl_peer_v2_sync(NULL, NULL, 0), -EINVAL);
}

static void case_peer_v2_list(void)
{
	struct ovl_peer_v2 *peers = NULL;

	FAILS(ovl_peer_v2_list(&f.link, sizeof(*peers), &peers, NULL), -EINVAL,
	      "ovl_peer_v2_list");
}

static void case_link_stats(void)
{
	struct ovl_link_stats stats = OVL_LINK_STATS_INIT;

	FAILS(ovl_link_stats(&f.link, NULL), -EINVAL, "ovl_link_stats");
	FAILS(ovl_link_stats(&f.link, &stats), -EOPNOTSUPP, "ovl_link_stats");
}

static void case_masq_apply(void)
{
	FAILS(ovl_masq_apply(f.ctx, "10.244.0.0/33", "10.244.3.0/24", 0), -EINVAL,
	      "10.244.0.0/33");
	FAILS(ovl_masq_apply(f.ctx, "10.244.0.0/16", "10.244.3.0/24", 0x80), -EINVAL, "flags");
}

static void case_masq_check(void)
{
	FAILS(ovl_masq_check(f.ctx, "10.244.0.0/16", NULL, 0), -EINVAL, "subnet");
	FAILS(ovl_masq_check(f.ctx, "10.244.0.0/16", "10.244.3.0/24", 0x80), -EINVAL, "flags");
}

static void case_masq_remove(void)
{
	FAILS(ovl_masq_remove(f.ctx, 99), -EINVAL, "99");
}

static void case_node_start(void)
{
	struct ovl_node *node = NULL;

	FAILS(ovl_node_start(f.ctx, NULL, f.config, NULL, &node), -EINVAL, "ovl_node_start");
}

static void case_node_dispatch(void)
{
	FAILS_UNTOUCHED(ovl_node_dispatch(NULL), -EINVAL);
}

static void case_node_status(void)
{
	FAILS(ovl_node_status(f.node, NULL), -EINVAL, "ovl_node_status");
}

static void case_node_peers(void)
{
	struct ovl_peer_v2 *peers = NULL;
	size_t count;

	FAILS(ovl_node_peers(f.node, sizeof(*peers), &peers, NULL), -EINVAL, "ovl_node_peers");
	FAILS(ovl_node_peers(f.node, 4, &peers, &count), -EINVAL, "size 4");
	FAILS_UNTOUCHED(ovl_node_peers(NULL, sizeof(*peers), &peers, &count), -EINVAL);
}

static void case_node_rotate_key(void)
{
	/* f.node runs vxlan, which has no key. */
	FAILS(ovl_node_rotate_key(f.node), -EOPNOTSUPP, "backend vxlan has no key");
	FAILS_UNTOUCHED(ovl_node_rotate_key(NULL), -EINVAL);
}

static void case_node_metrics(void)
{
	char *text = NULL;

	FAILS(ovl_node_metrics(f.node, NULL), -EINVAL, "ovl_node_metrics");
	FAILS_UNTOUCHED(ovl_node_metrics(NULL, &text), -EINVAL);
}

static void case_node_stop(void)
{
	/* Refused: nothing is done and the node stays. */
	FAILS(ovl_node_stop(f.node, 0x80), -EINVAL, "ovl_node_stop");
	FAILS_UNTOUCHED(ovl_node_stop(NULL, 0), 0);
}

/* ---- every function of ovl.h has an entry ----------------------------------- */

/* How a function relates to the context's message (ovl(3), ERRORS). */
enum kind {
	SETS,		/* clears it on entry and sets it on every failure */
	PURE,		/* takes no context: the return value says it all */
	NULL_ONLY,	/* fails only for a NULL handle: nothing to set */
	ACCESSOR,	/* accessors, _free, _close: never touch it */
};

static const struct entry {
	const char *name;
	enum kind kind;
	void (*check)(void);	/* NULL for an accessor */
} functions[] = {
	{ "ovl_version", ACCESSOR, NULL },
	{ "ovl_ctx_new", NULL_ONLY, case_ctx_new },
	{ "ovl_ctx_free", ACCESSOR, NULL }, { "ovl_ctx_set_log", ACCESSOR, NULL },
	{ "ovl_ctx_error", ACCESSOR, NULL }, { "ovl_strerror", ACCESSOR, NULL },
	{ "ovl_free", ACCESSOR, NULL },
	{ "ovl_ctx_set_netns", SETS, case_ctx_set_netns },
	{ "ovl_ctx_set_netns_name", SETS, case_ctx_set_netns_name },
	{ "ovl_prefix_parse", PURE, case_prefix_parse },
	{ "ovl_addr_parse", PURE, case_addr_parse },
	{ "ovl_prefix_format", PURE, case_prefix_format },
	{ "ovl_addr_format", PURE, case_prefix_format },
	{ "ovl_prefix_equal", ACCESSOR, NULL }, { "ovl_prefix_contains", ACCESSOR, NULL },
	{ "ovl_prefix_overlaps", ACCESSOR, NULL }, { "ovl_prefix_is_aligned", ACCESSOR, NULL },
	{ "ovl_prefix_mask", ACCESSOR, NULL },
	{ "ovl_prefix_next", PURE, case_prefix_next },
	{ "ovl_prefix_subnet_count", ACCESSOR, NULL },
	{ "ovl_prefix_nth_subnet", PURE, case_prefix_nth_subnet },
	{ "ovl_prefix_subnet_index", PURE, case_prefix_nth_subnet },
	{ "ovl_config_parse", SETS, case_config_parse },
	{ "ovl_config_load", SETS, case_config_load },
	{ "ovl_config_free", ACCESSOR, NULL }, { "ovl_config_to_json", ACCESSOR, NULL },
	{ "ovl_config_family_enabled", ACCESSOR, NULL },
	{ "ovl_config_network", ACCESSOR, NULL }, { "ovl_config_subnet_len", ACCESSOR, NULL },
	{ "ovl_config_subnet_min", ACCESSOR, NULL },
	{ "ovl_config_subnet_max", ACCESSOR, NULL },
	{ "ovl_config_backend_type", ACCESSOR, NULL }, { "ovl_config_vni", ACCESSOR, NULL },
	{ "ovl_config_port", ACCESSOR, NULL }, { "ovl_config_mtu", ACCESSOR, NULL },
	{ "ovl_config_gbp", ACCESSOR, NULL }, { "ovl_config_learning", ACCESSOR, NULL },
	{ "ovl_config_direct_routing", ACCESSOR, NULL },
	{ "ovl_config_enable_nftables", ACCESSOR, NULL },
	{ "ovl_store_open", SETS, case_store_open },
	{ "ovl_store_close", ACCESSOR, NULL },
	{ "ovl_store_config_get", SETS, case_store_config_get },
	{ "ovl_store_config_put", SETS, case_store_config_put },
	{ "ovl_lease", SETS, case_lease },
	{ "ovl_lease_renew", SETS, case_lease_renew },
	{ "ovl_lease_release", SETS, case_lease_release },
	{ "ovl_leases", SETS, case_leases },
	{ "ovl_leases_free", ACCESSOR, NULL }, { "ovl_lease_free", ACCESSOR, NULL },
	{ "ovl_lease_key", ACCESSOR, NULL }, { "ovl_lease_subnet", ACCESSOR, NULL },
	{ "ovl_lease_public_ip", ACCESSOR, NULL }, { "ovl_lease_node_name", ACCESSOR, NULL },
	{ "ovl_lease_backend_type", ACCESSOR, NULL },
	{ "ovl_lease_backend_data", ACCESSOR, NULL },
	{ "ovl_lease_expiration", ACCESSOR, NULL },
	{ "ovl_lease_is_reservation", ACCESSOR, NULL },
	{ "ovl_lease_is_lost", ACCESSOR, NULL },
	{ "ovl_watch_open", SETS, case_watch_open },
	{ "ovl_watch_fd", ACCESSOR, NULL },
	{ "ovl_watch_next", SETS, case_watch_next },
	{ "ovl_watch_close", ACCESSOR, NULL },
	{ "ovl_subnet_env_write", SETS, case_subnet_env_write },
	{ "ovl_subnet_env_read", SETS, case_subnet_env_read },
	{ "ovl_vxlan_up", SETS, case_vxlan_up },
	{ "ovl_link_open", SETS, case_link_open },
	{ "ovl_link_down", NULL_ONLY, case_link_down },
	{ "ovl_link_free", ACCESSOR, NULL }, { "ovl_link_name", ACCESSOR, NULL },
	{ "ovl_link_mac", ACCESSOR, NULL }, { "ovl_link_mtu", ACCESSOR, NULL },
	{ "ovl_link_ifindex", ACCESSOR, NULL }, { "ovl_link_to_json", ACCESSOR, NULL },
	{ "ovl_peer_add", SETS, case_peer_add },
	{ "ovl_peer_del", SETS, case_peer_del },
	{ "ovl_peer_sync", SETS, case_peer_sync },
	{ "ovl_peer_list", SETS, case_peer_list },
	{ "ovl_peers_free", ACCESSOR, NULL },
	{ "ovl_hostgw_up", SETS, case_hostgw_up },
	{ "ovl_udp_up", SETS, case_udp_up },
	{ "ovl_link_fd", SETS, case_link_fd },
	{ "ovl_link_dispatch", SETS, case_link_dispatch },
	{ "ovl_udp_run", PURE, case_udp_run },
	{ "ovl_wireguard_up", SETS, case_wireguard_up },
	{ "ovl_wireguard_genkey", SETS, case_wireguard_genkey },
	{ "ovl_wireguard_set_key", SETS, case_wireguard_set_key },
	{ "ovl_wireguard_pubkey", SETS, case_wireguard_pubkey },
	{ "ovl_wireguard_key_load", SETS, case_wireguard_key_load },
	{ "ovl_config_wireguard_psk", ACCESSOR, NULL },
	{ "ovl_config_wireguard_listen_port", ACCESSOR, NULL },
	{ "ovl_config_wireguard_keepalive", ACCESSOR, NULL },
	{ "ovl_config_wireguard_mode", ACCESSOR, NULL },
	{ "ovl_peer_v2_add", SETS, case_peer_v2_add },
	{ "ovl_peer_v2_del", SETS, case_peer_v2_del },
	{ "ovl_peer_v2_sync", SETS, case_peer_v2_sync },
	{ "ovl_peer_v2_list", SETS, case_peer_v2_list },
	{ "ovl_peers_v2_free", ACCESSOR, NULL },
	{ "ovl_link_stats", SETS, case_link_stats },
	{ "ovl_masq_apply", SETS, case_masq_apply },
	{ "ovl_masq_check", SETS, case_masq_check },
	{ "ovl_masq_remove", SETS, case_masq_remove },
	{ "ovl_node_start", SETS, case_node_start },
	{ "ovl_node_fd", ACCESSOR, NULL },
	{ "ovl_node_dispatch", NULL_ONLY, case_node_dispatch },
	{ "ovl_node_next_timeout_ms", ACCESSOR, NULL },
	{ "ovl_node_status", SETS, case_node_status },
	{ "ovl_node_stop", SETS, case_node_stop },
	{ "ovl_node_metrics", SETS, case_node_metrics },
	{ "ovl_node_peers", SETS, case_node_peers },
	{ "ovl_node_rotate_key", SETS, case_node_rotate_key },
};

static const struct entry *entry_of(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(functions); i++)
		if (!strcmp(functions[i].name, name))
			return &functions[i];
	return NULL;
}

/* The name before the first '(' after each OVL_EXPORT of ovl.h. */
static void test_every_function_has_an_entry(void)
{
	char *text = NULL, *at, *paren, *name;
	size_t size = 0, declared = 0;
	FILE *header = fopen(OVL_HEADER, "r");
	const struct entry *e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(header);
	CU_ASSERT_TRUE_FATAL(getdelim(&text, &size, '\0', header) > 0);
	fclose(header);
	for (at = strstr(text, "\nOVL_EXPORT "); at; at = strstr(at + 1, "\nOVL_EXPORT ")) {
		paren = strchr(at, '(');
		for (name = paren; name > at && (name[-1] == '_' || isalnum((unsigned char)name[-1]));)
			name--;
		*paren = '\0';
		declared++;
		e = entry_of(name);
		if (!e || (e->kind != ACCESSOR && !e->check))
			printf("\n  %s: declared in ovl.h without a case in test-errors.c\n", name);
		CU_ASSERT(e && (e->kind == ACCESSOR || e->check));
		*paren = '(';
	}
	free(text);
	CU_ASSERT_EQUAL(declared, ARRAY_SIZE(functions));
}

static void test_functions(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(functions); i++)
		if (functions[i].check)
			functions[i].check();
}

/* Accessors leave the message as it is. */
static void test_accessors_untouched(void)
{
	make_stale();
	ovl_lease_key(NULL);
	ovl_link_name(&f.link);
	ovl_config_vni(f.config);
	ovl_link_ifindex(&f.link);
	free(ovl_link_to_json(&f.link));
	CU_ASSERT_STRING_EQUAL(ovl_ctx_error(f.ctx), f.stale);
}

static void cleanup(void)
{
	unlink(f.path);
	snprintf(f.path, sizeof(f.path), "%s/leases.json", f.dir);
	unlink(f.path);
	rmdir(f.dir);
	free(f.node);
	ovl_store_close(f.store);
	ovl_config_free(f.config);
	ovl_ctx_free(f.ctx);
}

void register_tests(void)
{
	static const CU_TestInfo tests[] = {
		{ "every function of ovl.h has an entry", test_every_function_has_an_entry },
		{ "bad arguments: the documented errno and a message about the call",
		  test_functions },
		{ "option structs: size and flags rule", test_option_structs },
		{ "accessors do not touch the message", test_accessors_untouched },
		CU_TEST_INFO_NULL,
	};
	char uri[160];

	snprintf(f.dir, sizeof(f.dir), "/tmp/ovl-test-errors.XXXXXX");
	if (!mkdtemp(f.dir) || ovl_ctx_new(&f.ctx) < 0 ||
	    ovl_config_parse(f.ctx, NET_CONF, &f.config) < 0) {
		fprintf(stderr, "test-errors: cannot set up: %s\n", ovl_ctx_error(f.ctx));
		exit(2);
	}
	snprintf(uri, sizeof(uri), "file:%s/leases.json", f.dir);
	snprintf(f.path, sizeof(f.path), "%s/subnet.env", f.dir);
	if (ovl_store_open(f.ctx, uri, &f.store) < 0) {
		fprintf(stderr, "test-errors: %s\n", ovl_ctx_error(f.ctx));
		exit(2);
	}
	f.link.ctx = f.ctx;
	f.link.ops = &vxlan_link_ops;
	f.link.family = AF_INET;
	snprintf(f.link.name, sizeof(f.link.name), "ovl-none0");
	ovl_prefix_parse("10.244.3.0/24", &f.link.subnet);
	f.node = calloc(1, sizeof(*f.node));
	if (!f.node)
		exit(2);
	f.node->ctx = f.ctx;
	f.node->config = f.config;
	f.node->backend = node_backend_find("vxlan");
	f.node->epoll_fd = f.node->timer_fd = -1;
	atexit(cleanup);
	harness_add_suite("errors", tests);
}
