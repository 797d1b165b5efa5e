/*
 * masq.c - flannel's --ip-masq and forward rules (--iptables-forward-rules)
 * as nftables tables libovl owns (ip ovl-ipv4, ip6 ovl-ipv6), with either
 * set or both.  The wanted table is one list of nft
 * JSON objects: apply sends it as a single transaction (add + delete + add
 * the table, then its chains and rules), check compares the kernel's
 * listing with it, remove deletes the table.
 *
 * libnftables opens its netlink socket in the calling thread's network
 * namespace, so every nft context lives and dies inside
 * netlink_in_netns(), which enters ctx->netns_fd and always returns.
 * libnftables (1.0.x) also keeps process-wide state (its interface name
 * cache is a global list it rebuilds unlocked), calls exit() when it cannot
 * open its socket and prints to stderr on EPERM: one process-wide lock
 * serializes its use across threads (ovl(3), THREAD SAFETY), and the socket
 * and the capability are probed first so that neither happens.  It words
 * failures with strerror() in the thread's locale, and reading an errno
 * back from them needs English: nft runs under the C locale.
 */
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <jansson.h>
#include <nftables/libnftables.h>

#include "core/internal.h"
#include "netlink/nl.h"

/* kube-proxy marks the packets it wants masqueraded itself. */
#define KUBE_PROXY_MARK 0x4000
#define KNOWN_FLAGS (OVL_MASQ_NO_FULLY_RANDOM | OVL_MASQ_NO_FORWARD | OVL_MASQ_NO_MASQUERADE)

struct family_names {
	int family;
	const char *nft;	/* nft family and payload protocol */
	const char *table;
	const char *multicast;	/* never masqueraded */
	unsigned int multicast_len;
};

static const struct family_names families[] = {
	{ AF_INET, "ip", "ovl-ipv4", "224.0.0.0", 4 },
	{ AF_INET6, "ip6", "ovl-ipv6", "ff00::", 8 },
};

static const struct family_names *names_of(int family)
{
	return family == AF_INET ? &families[0] : &families[1];
}

/* ---- running nft -------------------------------------------------------- */

struct nft_job {
	struct ovl_ctx *ctx;
	const char *what;	/* "table ip ovl-ipv4", for the error */
	char *commands;		/* {"nftables":[...]} */
	char *output;		/* the JSON nft printed, when listing */
};

/* libnftables reports failures only as text; these are the errnos a caller
 * can act on.  The text is English: see run_in_c_locale. */
static int errno_of(const char *text)
{
	static const int known[] = { EPERM, ENOENT, EOPNOTSUPP, ENOMEM };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (strstr(text, ovl_strerror(known[i])))
			return -known[i];
	return -EIO;
}

static int fail_with_nft_text(struct nft_job *job, const char *text)
{
	char flat[512];
	size_t i, n = 0;
	int err = errno_of(text);

	/* One line: nft's message spans several, each ending in a newline. */
	for (i = 0; text[i] && n + 3 < sizeof(flat); i++) {
		if (text[i] != '\n')
			flat[n++] = text[i];
		else if (text[i + 1])
			n += (size_t)snprintf(flat + n, sizeof(flat) - n, "; ");
	}
	flat[n] = '\0';
	return ctx_fail(job->ctx, err, "%s: nft: %s%s", job->what,
			n ? flat : ovl_strerror(err),
			err == -EPERM ? " (CAP_NET_ADMIN is required)" : "");
}

static int has_net_admin(void)
{
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &header, data) < 0)
		return 1;	/* unknown: let the kernel decide */
	return !!(data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32)));
}

/* What libnftables would otherwise answer with exit() or a line on stderr. */
static int probe(struct nft_job *job)
{
	int fd, err;

	if (!has_net_admin())
		return ctx_fail(job->ctx, -EPERM, "%s: nftables needs CAP_NET_ADMIN", job->what);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0) {
		err = -errno;
		return ctx_fail(job->ctx, err, "%s: cannot open a netfilter netlink socket: %s",
				job->what, ovl_strerror(err));
	}
	close(fd);
	return 0;
}

static int run_locked(struct nft_job *job)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	int err = 0;

	if (!nft)
		return ctx_fail(job->ctx, -ENOMEM, "%s: cannot create an nft context",
				job->what);
	/* With JSON output set, libnftables also parses its input as JSON. */
	nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
	if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft)) {
		err = ctx_fail(job->ctx, -ENOMEM, "%s: cannot buffer nft's output", job->what);
	} else if (nft_run_cmd_from_buffer(nft, job->commands)) {
		err = fail_with_nft_text(job, nft_ctx_get_error_buffer(nft));
	} else {
		job->output = strdup(nft_ctx_get_output_buffer(nft));
		if (!job->output)
			err = ctx_fail(job->ctx, -ENOMEM, "%s: out of memory", job->what);
	}
	nft_ctx_free(nft);
	return err;
}

/* The errno in libnftables' message comes from strerror(), which speaks
 * the thread's locale; errno_of understands English only.  uselocale()
 * changes this thread alone, and only until nft is done. */
static int run_in_c_locale(struct nft_job *job)
{
	locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0), caller;
	int err;

	if (!c_locale)
		return ctx_fail(job->ctx, -ENOMEM, "%s: cannot create the C locale", job->what);
	caller = uselocale(c_locale);
	err = run_locked(job);
	uselocale(caller);
	freelocale(c_locale);
	return err;
}

static int run_in_netns(void *arg)
{
	/* libnftables' global state is not thread-safe (see the top) */
	static pthread_mutex_t nft_lock = PTHREAD_MUTEX_INITIALIZER;
	struct nft_job *job = arg;
	int err = probe(job);

	if (err)
		return err;
	pthread_mutex_lock(&nft_lock);
	err = run_in_c_locale(job);
	pthread_mutex_unlock(&nft_lock);
	return err;
}

/* Runs the commands (reference taken) as one nft transaction in the ctx's
 * namespace; *output (when not NULL) receives what nft printed. */
static int nft_run(struct ovl_ctx *ctx, const char *what, json_t *commands,
		   char **output)
{
	struct nft_job job = { ctx, what, NULL, NULL };
	json_t *root = json_pack("{s:o}", "nftables", commands);
	int err;

	if (root)
		job.commands = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!job.commands)
		return ctx_fail(ctx, -ENOMEM, "%s: out of memory", what);
	err = netlink_in_netns(ctx, run_in_netns, &job);
	free(job.commands);
	if (err >= 0 && output)
		*output = job.output;
	else
		free(job.output);
	return err;
}

/* ---- the wanted table ------------------------------------------------- */

struct wanted {
	const struct family_names *names;
	struct ovl_prefix network, subnet;
	unsigned int flags;
	char what[32];		/* "table ip ovl-ipv4" */
};

static int parse_prefix(struct ovl_ctx *ctx, const char *field, const char *text,
			struct ovl_prefix *prefix)
{
	if (!text || ovl_prefix_parse(text, prefix) < 0)
		return ctx_fail(ctx, -EINVAL, "%s: '%s' is not a prefix", field,
				text ? text : "(null)");
	if (prefix->len == 0)
		return ctx_fail(ctx, -EINVAL, "%s: %s covers every address", field, text);
	/* FLANNEL_SUBNET holds the first host address: the rules want the
	 * prefix itself. */
	ovl_prefix_mask(prefix);
	return 0;
}

static int wanted_init(struct ovl_ctx *ctx, const char *network, const char *subnet,
		       unsigned int flags, struct wanted *want)
{
	char text[OVL_PREFIX_STRLEN];
	int err;

	if (flags & ~KNOWN_FLAGS)
		return ctx_fail(ctx, -EINVAL, "flags: unknown bits 0x%x", flags & ~KNOWN_FLAGS);
	if ((flags & OVL_MASQ_NO_FORWARD) && (flags & OVL_MASQ_NO_MASQUERADE))
		return ctx_fail(ctx, -EINVAL, "flags: neither masquerade nor forward rules "
				"(ovl_masq_remove removes the table)");
	err = parse_prefix(ctx, "network", network, &want->network);
	/* forward rules need the network alone */
	if (!err && (subnet || !(flags & OVL_MASQ_NO_MASQUERADE)))
		err = parse_prefix(ctx, "subnet", subnet, &want->subnet);
	else if (!err)
		want->subnet = want->network;
	if (err)
		return err;
	if (want->network.family != want->subnet.family)
		return ctx_fail(ctx, -EINVAL, "subnet: %s is not of the network %s's family",
				subnet, network);
	if (!ovl_prefix_contains(&want->network, &want->subnet)) {
		ovl_prefix_format(&want->network, text, sizeof(text));
		return ctx_fail(ctx, -EINVAL, "subnet: %s is not inside the network %s",
				subnet, text);
	}
	want->names = names_of(want->network.family);
	want->flags = flags;
	snprintf(want->what, sizeof(want->what), "table %s %s", want->names->nft,
		 want->names->table);
	return 0;
}

/* nft lists a full-length prefix as a bare address. */
static json_t *address(const struct ovl_prefix *prefix)
{
	char text[OVL_PREFIX_STRLEN];

	ovl_addr_format(prefix, text, sizeof(text));
	if (prefix->len == prefix_family_bits(prefix->family))
		return json_string(text);
	return json_pack("{s:{s:s,s:I}}", "prefix", "addr", text, "len",
			 (json_int_t)prefix->len);
}

/* `<proto> <field> <op> <prefix>` */
static json_t *match(const struct wanted *want, const char *field, const char *op,
		     const struct ovl_prefix *prefix)
{
	return json_pack("{s:{s:s,s:{s:{s:s,s:s}},s:o}}", "match", "op", op,
			 "left", "payload", "protocol", want->names->nft, "field", field,
			 "right", address(prefix));
}

static json_t *masquerade(const struct wanted *want)
{
	if (want->flags & OVL_MASQ_NO_FULLY_RANDOM)
		return json_pack("{s:n}", "masquerade");
	return json_pack("{s:{s:s}}", "masquerade", "flags", "fully-random");
}

static json_t *chain(const struct wanted *want, const char *name, const char *type,
		     const char *hook, int priority)
{
	return json_pack("{s:{s:s,s:s,s:s,s:s,s:s,s:i,s:s}}", "chain",
			 "family", want->names->nft, "table", want->names->table,
			 "name", name, "type", type, "hook", hook, "prio", priority,
			 "policy", "accept");
}

/* Appends a rule of the statements in expr (reference taken) to objects;
 * a NULL anywhere (out of memory) makes the packs, and so the build, fail. */
static int add_rule(json_t *objects, const struct wanted *want, const char *chain_name,
		    json_t *expr)
{
	json_t *rule = json_pack("{s:{s:s,s:s,s:s,s:o}}", "rule",
				 "family", want->names->nft, "table", want->names->table,
				 "chain", chain_name, "expr", expr);

	return json_array_append_new(objects, rule) ? -ENOMEM : 0;
}

/* The postrtg chain's rules, as flannel's (iptables.go masqRules). */
static int masquerade_rules(json_t *objects, const struct wanted *want)
{
	struct ovl_prefix multicast;
	const struct ovl_prefix *net = &want->network, *pod = &want->subnet;
	int err;

	ovl_addr_parse(want->names->multicast, &multicast);
	multicast.len = want->names->multicast_len;
	/* kube-proxy's marked packets are its business. */
	err = add_rule(objects, want, "postrtg",
			json_pack("[{s:{s:s,s:{s:[{s:{s:s}},i]},s:i}},{s:n}]", "match",
				  "op", "==", "left", "&", "meta", "key", "mark",
				  KUBE_PROXY_MARK, "right", KUBE_PROXY_MARK, "return"));
	/* Pod <-> cluster network: no NAT. */
	err |= add_rule(objects, want, "postrtg",
			json_pack("[oo{s:n}]", match(want, "saddr", "==", pod),
				  match(want, "daddr", "==", net), "return"));
	err |= add_rule(objects, want, "postrtg",
			json_pack("[oo{s:n}]", match(want, "saddr", "==", net),
				  match(want, "daddr", "==", pod), "return"));
	/* Outside -> a local pod: keep the client's address. */
	err |= add_rule(objects, want, "postrtg",
			json_pack("[oo{s:n}]", match(want, "saddr", "!=", net),
				  match(want, "daddr", "==", pod), "return"));
	/* Pods -> outside, except multicast. */
	err |= add_rule(objects, want, "postrtg",
			json_pack("[ooo]", match(want, "saddr", "==", net),
				  match(want, "daddr", "!=", &multicast), masquerade(want)));
	/* The host -> remote pods (the rule above keeps our own subnet out). */
	err |= add_rule(objects, want, "postrtg",
			json_pack("[ooo]", match(want, "saddr", "!=", net),
				  match(want, "daddr", "==", net), masquerade(want)));
	return err;
}

/* The table as nft lists it (less the handles), in listing order: table,
 * chains, then each chain's rules.  flannel's rules (iptables.go); the
 * forward ones are on by default there, without --ip-masq too. */
static json_t *wanted_objects(const struct wanted *want)
{
	json_t *objects = json_array();
	int err;

	if (!objects)
		return NULL;
	err = json_array_append_new(objects, json_pack("{s:{s:s,s:s}}", "table", "family",
						       want->names->nft, "name",
						       want->names->table));
	if (!(want->flags & OVL_MASQ_NO_MASQUERADE))
		err |= json_array_append_new(objects, chain(want, "postrtg", "nat", "postrouting", 100));
	if (!(want->flags & OVL_MASQ_NO_FORWARD))
		err |= json_array_append_new(objects, chain(want, "forward", "filter", "forward", 0));
	if (!(want->flags & OVL_MASQ_NO_MASQUERADE))
		err |= masquerade_rules(objects, want);
	/* Docker >= 1.13 sets the FORWARD policy to DROP (flannel #872). */
	if (!(want->flags & OVL_MASQ_NO_FORWARD)) {
		err |= add_rule(objects, want, "forward",
				json_pack("[o{s:n}]", match(want, "saddr", "==", &want->network),
					  "accept"));
		err |= add_rule(objects, want, "forward",
				json_pack("[o{s:n}]", match(want, "daddr", "==", &want->network),
					  "accept"));
	}
	if (err) {
		json_decref(objects);
		return NULL;
	}
	return objects;
}

/* ---- comparing with the kernel ---------------------------------------- */

/* "chain postrtg" or "rule 3 of chain postrtg" for objects[index]. */
static void describe(json_t *objects, size_t index, char *buf, size_t size)
{
	json_t *object = json_array_get(objects, index), *body;
	const char *chain_name;
	size_t i, number = 0;

	if ((body = json_object_get(object, "chain"))) {
		snprintf(buf, size, "chain %s", json_string_value(json_object_get(body, "name")));
		return;
	}
	if (!(body = json_object_get(object, "rule"))) {
		snprintf(buf, size, "the table itself");
		return;
	}
	chain_name = json_string_value(json_object_get(body, "chain"));
	if (!chain_name) {
		snprintf(buf, size, "an unknown object");
		return;
	}
	for (i = 0; i <= index; i++) {
		body = json_object_get(json_array_get(objects, i), "rule");
		if (body && json_equal(json_object_get(body, "chain"),
				       json_object_get(json_object_get(object, "rule"), "chain")))
			number++;
	}
	snprintf(buf, size, "rule %zu of chain %s", number, chain_name);
}

/* The listing's objects less metainfo and handles (the kernel's numbers). */
static json_t *listed_objects(const char *output)
{
	json_t *root = json_loads(output, 0, NULL);
	json_t *list = json_array(), *item, *body;
	const char *kind;
	size_t i;

	if (!root || !list) {
		json_decref(root);
		json_decref(list);
		return NULL;
	}
	json_array_foreach(json_object_get(root, "nftables"), i, item) {
		json_object_foreach(item, kind, body) {
			if (strcmp(kind, "metainfo"))
				json_object_del(body, "handle");
		}
		if (!json_object_get(item, "metainfo"))
			json_array_append(list, item);
	}
	json_decref(root);
	return list;
}

static int compare(struct ovl_ctx *ctx, const struct wanted *want, json_t *wanted,
		   json_t *listed)
{
	size_t i, count = json_array_size(wanted);
	json_t *object;
	char want_text[80], found_text[80];

	json_array_foreach(wanted, i, object) {
		if (json_equal(object, json_array_get(listed, i)))
			continue;
		describe(wanted, i, want_text, sizeof(want_text));
		if (i >= json_array_size(listed))
			return ctx_fail(ctx, -ENOENT, "%s: %s is missing", want->what, want_text);
		describe(listed, i, found_text, sizeof(found_text));
		if (!strcmp(want_text, found_text))
			return ctx_fail(ctx, -ENOENT, "%s: %s differs", want->what, want_text);
		return ctx_fail(ctx, -ENOENT, "%s: %s where %s belongs", want->what,
				found_text, want_text);
	}
	if (json_array_size(listed) > count) {
		describe(listed, count, found_text, sizeof(found_text));
		return ctx_fail(ctx, -ENOENT, "%s: unexpected %s", want->what, found_text);
	}
	return 0;
}

static int check_wanted(struct ovl_ctx *ctx, const struct wanted *want, json_t *wanted)
{
	char *output = NULL;
	json_t *listed, *command;
	int err;

	command = json_pack("[{s:{s:{s:s,s:s}}}]", "list", "table", "family",
			    want->names->nft, "name", want->names->table);
	if (!command)
		return ctx_fail(ctx, -ENOMEM, "%s: out of memory", want->what);
	err = nft_run(ctx, want->what, command, &output);
	if (err == -ENOENT)
		return ctx_fail(ctx, -ENOENT, "%s is missing", want->what);
	if (err < 0)
		return err;
	listed = listed_objects(output);
	free(output);
	if (!listed)
		return ctx_fail(ctx, -EIO, "%s: cannot read nft's listing", want->what);
	err = compare(ctx, want, wanted, listed);
	json_decref(listed);
	return err;
}

/* ---- the API -------------------------------------------------------------- */

/* add + delete: removes the table whether or not it exists. */
static int append_table_removal(json_t *commands, const struct family_names *names)
{
	json_t *table = json_pack("{s:{s:s,s:s}}", "table", "family", names->nft,
				  "name", names->table);
	int err;

	if (!table)
		return -ENOMEM;
	err = json_array_append_new(commands, json_pack("{s:O}", "add", table));
	err |= json_array_append_new(commands, json_pack("{s:O}", "delete", table));
	json_decref(table);
	return err ? -ENOMEM : 0;
}

static int replace(struct ovl_ctx *ctx, const struct wanted *want, json_t *wanted)
{
	json_t *commands = json_array(), *object;
	size_t i;
	int err = commands ? append_table_removal(commands, want->names) : -ENOMEM;

	json_array_foreach(wanted, i, object)
		err |= json_array_append_new(commands, json_pack("{s:O}", "add", object));
	if (err) {
		json_decref(commands);
		return ctx_fail(ctx, -ENOMEM, "%s: out of memory", want->what);
	}
	return nft_run(ctx, want->what, commands, NULL);
}

/* Compares the table with the wanted one; with install, replaces it when
 * it differs. */
static int check_or_apply(struct ovl_ctx *ctx, const char *network, const char *subnet,
			  unsigned int flags, int install)
{
	struct wanted want;
	json_t *wanted;
	int err;

	if (!ctx)
		return -EINVAL;
	err = wanted_init(ctx, network, subnet, flags, &want);
	if (err)
		return err;
	wanted = wanted_objects(&want);
	if (!wanted)
		return ctx_fail(ctx, -ENOMEM, "%s: out of memory", want.what);
	err = check_wanted(ctx, &want, wanted);
	/* An exact table stays untouched: no churn in the kernel's handles. */
	if (install && err == -ENOENT) {
		ctx_log(ctx, OVL_LOG_INFO, "%s", ovl_ctx_error(ctx));
		err = replace(ctx, &want, wanted);
		if (!err)
			ctx_log(ctx, OVL_LOG_INFO, "%s: %s rules for %s installed", want.what,
				flags & OVL_MASQ_NO_MASQUERADE ? "forward" :
				flags & OVL_MASQ_NO_FORWARD ? "masquerade" : "masquerade and forward",
				network);
	}
	json_decref(wanted);
	if (!err)
		ctx_clear_error(ctx);
	return err;
}

OVL_EXPORT int ovl_masq_apply(struct ovl_ctx *ctx, const char *network,
			      const char *subnet, unsigned int flags)
{
	ctx_clear_error(ctx);
	return check_or_apply(ctx, network, subnet, flags, 1);
}

OVL_EXPORT int ovl_masq_check(struct ovl_ctx *ctx, const char *network,
			      const char *subnet, unsigned int flags)
{
	ctx_clear_error(ctx);
	return check_or_apply(ctx, network, subnet, flags, 0);
}

OVL_EXPORT int ovl_masq_remove(struct ovl_ctx *ctx, int family)
{
	json_t *commands;
	size_t i;
	int err = 0;

	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	if (family != 0 && family != AF_INET && family != AF_INET6)
		return ctx_fail(ctx, -EINVAL, "family: %d is neither AF_INET, AF_INET6 nor 0",
				family);
	commands = json_array();
	if (!commands)
		return ctx_fail(ctx, -ENOMEM, "masquerade tables: out of memory");
	for (i = 0; i < ARRAY_SIZE(families); i++)
		if (!family || family == families[i].family)
			err |= append_table_removal(commands, &families[i]);
	if (err) {
		json_decref(commands);
		return ctx_fail(ctx, -ENOMEM, "masquerade tables: out of memory");
	}
	err = nft_run(ctx, family == AF_INET ? "table ip ovl-ipv4" :
		      family == AF_INET6 ? "table ip6 ovl-ipv6" : "masquerade tables",
		      commands, NULL);
	if (!err)
		ctx_clear_error(ctx);
	return err;
}
