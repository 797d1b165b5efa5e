/*
 * cmd-masq.c - `ovlctl masq`: install, check and remove flannel's
 * masquerade and forward rules (libovl's nftables tables).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ovlctl.h"

static int masq_rules(struct ovlctl *tool, const char *verb, int argc, char **argv)
{
	const char *network = NULL, *subnet = NULL;
	int no_fully_random = 0, no_forward = 0, no_masquerade = 0, err;
	const struct ovlctl_option options[] = {
		{ "network", &network, NULL },
		{ "subnet", &subnet, NULL },
		{ "no-fully-random", NULL, &no_fully_random },
		{ "no-forward", NULL, &no_forward },
		{ "no-masquerade", NULL, &no_masquerade },
		{ NULL, NULL, NULL },
	};
	unsigned int flags;
	char *args[1];

	if (ovlctl_parse_options("masq", argc, argv, options, args, 0) < 0)
		return 2;
	if (!network || (!subnet && !no_masquerade))
		return ovlctl_usage_error("masq %s: needs --network CIDR and --subnet CIDR", verb);
	flags = (no_fully_random ? OVL_MASQ_NO_FULLY_RANDOM : 0) |
		(no_forward ? OVL_MASQ_NO_FORWARD : 0) |
		(no_masquerade ? OVL_MASQ_NO_MASQUERADE : 0);
	if (!strcmp(verb, "apply"))
		err = ovl_masq_apply(tool->ctx, network, subnet, flags);
	else
		err = ovl_masq_check(tool->ctx, network, subnet, flags);
	if (err < 0)
		return ovlctl_fail(tool, err, "masq %s", verb);
	/* The exit status is the answer; the text is for people. */
	if (!strcmp(verb, "check"))
		printf("ok\n");
	return 0;
}

static int masq_remove(struct ovlctl *tool, int argc, char **argv)
{
	const char *family_text = NULL;
	const struct ovlctl_option options[] = {
		{ "family", &family_text, NULL },
		{ NULL, NULL, NULL },
	};
	char *args[1];
	int family = 0, err;

	if (ovlctl_parse_options("masq", argc, argv, options, args, 0) < 0)
		return 2;
	if (family_text && !strcmp(family_text, "4"))
		family = AF_INET;
	else if (family_text && !strcmp(family_text, "6"))
		family = AF_INET6;
	else if (family_text)
		return ovlctl_usage_error("masq remove: --family must be 4 or 6, not '%s'",
					  family_text);
	err = ovl_masq_remove(tool->ctx, family);
	if (err < 0)
		return ovlctl_fail(tool, err, "masq remove");
	return 0;
}

int cmd_masq(struct ovlctl *tool, int argc, char **argv)
{
	if (argc < 1)
		return ovlctl_usage_error("masq: missing subcommand (see ovlctl help masq)");
	if (!strcmp(argv[0], "apply") || !strcmp(argv[0], "check"))
		return masq_rules(tool, argv[0], argc - 1, argv + 1);
	if (!strcmp(argv[0], "remove"))
		return masq_remove(tool, argc - 1, argv + 1);
	return ovlctl_usage_error("masq: unknown subcommand '%s' (see ovlctl help masq)",
				  argv[0]);
}
