#!/bin/bash
# test-ovlctl-cli.sh - ovlctl behaves as a user expects: global options
# before or after the command give the same result, COMMAND --help is
# `help COMMAND`, the bash completion (generated from the command table)
# completes commands, subcommands, options and files, and the README's
# commands run as root without sudo.  No namespace: it only runs ovlctl
# and bash on files of its own.
source "$(dirname "$0")/lib.sh"

store="file:$T_TMP/leases.json"
printf '{"Network":"10.244.0.0/16"}\n' > "$T_TMP/net-conf.json"
"$OVLCTL" --store "$store" --config "$T_TMP/net-conf.json" lease acquire --node a --public-ip 192.0.2.1 >/dev/null
same() { # DESCRIPTION-less: the two commands (split at ---) print the same
	local left=() right=() seen=0 arg
	for arg in "$@"; do
		if [ "$arg" = --- ]; then seen=1; elif [ $seen = 0 ]; then left+=("$arg"); else right+=("$arg"); fi
	done
	diff <("$OVLCTL" "${left[@]}" 2>&1; echo "exit $?") <("$OVLCTL" "${right[@]}" 2>&1; echo "exit $?")
}
check "lease list --json after the command = before it" \
	same --store "$store" --json lease list --- lease list --json --store "$store"
check "the JSON lists the lease" bash -c "'$OVLCTL' lease list --json --store '$store' | jq -e '.[0].node == \"a\"'"
check "config check FILE --json = --json config check FILE" \
	same --json config check "$T_TMP/net-conf.json" --- config check "$T_TMP/net-conf.json" --json
check "--config after the command" \
	same --config "$T_TMP/net-conf.json" config show --- config show --config "$T_TMP/net-conf.json"
check "--verbose after the command is taken" bash -c \
	"'$OVLCTL' lease list --store '$store' --verbose >/dev/null"
check "lease --help = help lease" same help lease --- lease --help
check "a global option without its value is a usage error (2)" bash -c \
	"'$OVLCTL' lease list --store 2>'$T_TMP/err'; [ \$? = 2 ] && grep -qx 'ovlctl: --store needs a value' '$T_TMP/err'"
check "an unknown option after the command is still refused (2)" bash -c \
	"'$OVLCTL' lease list --bogus 2>/dev/null; [ \$? = 2 ]"

# ---- bash completion ------------------------------------------------------------
completion=$OVL_BUILD/completion/ovlctl
check "the build made the completion file" test -s "$completion"
check "it is what ovlctl completion bash prints" diff "$completion" <("$OVLCTL" completion bash)
check "bash parses it" bash -n "$completion"
commands=$("$OVLCTL" --help | awk '/^commands:/{c=1; next} c && /^  [a-z]/{print $1}' | grep -vx help | sort | tr '\n' ' ')
completes() { # EXPECTED WORDS...: what bash completes after WORDS
	local want=$1 got; shift
	got=$(bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ovlctl; echo "${COMPREPLY[*]}"' _ "$completion" "$@")
	[ "$got" = "$want" ] || { echo "completing '$*': got '$got', want '$want'"; return 1; }
}
all_commands() { # every command of --help is offered first
	local offered command
	offered=" $(bash -c 'source "$1"; COMP_WORDS=(ovlctl ""); COMP_CWORD=1; _ovlctl; echo "${COMPREPLY[*]}"' _ "$completion") "
	for command in $commands help; do
		[[ $offered == *" $command "* ]] || { echo "$command not offered: $offered"; return 1; }
	done
}
check "it completes every command of ovlctl --help ($commands)" all_commands
check "  a command" completes "lease" ovlctl le
check "  a subcommand" completes "acquire renew release reserve list" ovlctl lease ""
check "  after a global option and its value" completes "run" ovlctl --store "$store" ru
check "  an option of the command" completes "--listen" ovlctl run --li
check "  a global option after the command" completes "--json" ovlctl lease list --js
check "  a file after --subnet-file" completes "$T_TMP/net-conf.json" ovlctl run --subnet-file "$T_TMP/net-c"
check "  help's command names" completes "subnet-env status" ovlctl help s

# ---- the README's commands as root, without sudo ---------------------------------
check "README's commands do not begin with sudo" bash -c \
	"! sed -n '/^\`\`\`sh/,/^\`\`\`/p' '$OVL_TOP/README.md' | head -4 | grep -q '^sudo'"
if ! command -v sudo >/dev/null && command -v setpriv >/dev/null; then
	check "demo.sh as another user without sudo says to run it as root" bash -c \
		"setpriv --reuid=65534 --regid=65534 --clear-groups bash '$OVL_TOP/examples/demo.sh' 2>&1 | grep -q 'run as root'"
fi
t_finish
