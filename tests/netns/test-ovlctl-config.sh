#!/bin/bash
# test-ovlctl-config.sh - ovlctl's door to net-conf.json: `config check` on
# good and bad files (exact error line, exit codes, --json through jq), and
# the tool's global surface (--version, --help, help COMMAND, unknown
# command).  Needs no namespace and no root: it only runs ovlctl.
source "$(dirname "$0")/lib.sh"

conf() { # NAME JSON: writes $T_TMP/NAME.json, prints its path
	printf '%s\n' "$2" > "$T_TMP/$1.json"
	echo "$T_TMP/$1.json"
}

# expect_line STATUS LINE ARGS...: ovlctl exits with STATUS, prints nothing
# on stdout and exactly LINE on stderr.
expect_line() {
	local want_status=$1 want=$2 out err status; shift 2
	out=$("$OVLCTL" "$@" 2>"$T_TMP/stderr"); status=$?
	err=$(cat "$T_TMP/stderr")
	[ "$status" -eq "$want_status" ] || { echo "exit $status, want $want_status; stderr: $err"; return 1; }
	[ -z "$out" ] || { echo "unexpected stdout: $out"; return 1; }
	[ "$err" = "$want" ] || { printf 'stderr: %s\nwant:   %s\n' "$err" "$want"; return 1; }
}

# json_is FILTER EXPECTED FILE: `config check --json FILE | jq -r FILTER`.
json_is() {
	local got
	got=$("$OVLCTL" --json config check "$3" | jq -r "$1") || return 1
	[ "$got" = "$2" ] || { echo "$1 = '$got', want '$2'"; return 1; }
}

# text_has LINE FILE: the text output has exactly this line.
text_has() { "$OVLCTL" config check "$2" | grep -qxF "$1"; }

manifest=$(conf manifest '{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}')
dual=$(conf dual '{"EnableIPv6": true, "Network": "10.42.0.0/16",
  "IPv6Network": "2001:cafe:42:0::/56", "Backend": {"Type": "vxlan"}}')
udp=$(conf udp '{"network": "10.0.0.0/8", "subnetlen": 20, "SubnetMin": "10.10.0.0",
  "SubnetMax": "10.99.0.0", "backend": {"type": "UDP", "port": 7890}}')

# ---- good files ------------------------------------------------------------
check "check: flannel manifest exits 0" "$OVLCTL" config check "$manifest"
check "check: text subnet_len" text_has "subnet_len: 24" "$manifest"
check "check: text subnet_min" text_has "subnet_min: 10.244.1.0" "$manifest"
check "check: text subnet_max" text_has "subnet_max: 10.244.255.0" "$manifest"
check "check: text backend.port" text_has "backend.port: 8472" "$manifest"
check "check: text backend.vni" text_has "backend.vni: 1" "$manifest"
check "check: --json is exactly the documented document" bash -c '
	got=$("$1" --json config check "$2")
	want="{\"enable_ipv4\": true, \"network\": \"10.244.0.0/16\", \"subnet_len\": 24, \"subnet_min\": \"10.244.1.0\", \"subnet_max\": \"10.244.255.0\", \"enable_ipv6\": false, \"backend\": {\"type\": \"vxlan\", \"vni\": 1, \"port\": 8472, \"mtu\": 0, \"gbp\": false, \"learning\": false, \"direct_routing\": false}, \"enable_nftables\": false}"
	[ "$got" = "$want" ] || { echo "got: $got"; exit 1; }' _ "$OVLCTL" "$manifest"
check "check: --json after the subcommand" bash -c '"$1" config check --json "$2" | jq -r .backend.type | grep -qx vxlan' _ "$OVLCTL" "$manifest"
check "check: json subnet_max" json_is .subnet_max 10.244.255.0 "$manifest"
check "check: json dual stack ipv6_network" json_is .ipv6_network 2001:cafe:42::/56 "$dual"
check "check: json dual stack ipv6_subnet_len" json_is .ipv6_subnet_len 64 "$dual"
check "check: json dual stack ipv6_subnet_max" json_is .ipv6_subnet_max 2001:cafe:42:ff:: "$dual"
check "check: json udp, keys in any case" json_is '.backend.type + " " + (.backend.port|tostring)' "udp 7890" "$udp"
check "check: json udp subnet range" json_is '.subnet_min + "-" + .subnet_max' "10.10.0.0-10.99.0.0" "$udp"
check "check: reads a pipe (/dev/stdin)" bash -c '"$1" config check /dev/stdin < "$2" | grep -qx "network: 10.244.0.0/16"' _ "$OVLCTL" "$manifest"

# ---- bad files: `ovlctl: FILE: <field>: <why>`, exit 1 ----------------------------
# bad NAME JSON WHY: config check of JSON fails with `ovlctl: FILE: WHY`.
bad() {
	local f
	f=$(conf "$1" "$2")
	check "bad: $1" expect_line 1 "ovlctl: $f: $3" config check "$f"
}
bad len31 '{"Network": "10.244.0.0/16", "SubnetLen": 31}' "SubnetLen: must be less than /31"
bad small '{"Network": "10.0.0.0/29"}' \
	"Network: 10.0.0.0/29 is too small, the minimum useful prefix is /28"
bad backend '{"Network": "10.244.0.0/16", "Backend": {"Type": "ipip"}}' \
	"Backend.Type: unknown backend type 'ipip' (known: vxlan, host-gw, udp, wireguard)"
bad vni '{"Network": "10.244.0.0/16", "Backend": {"VNI": 16777216}}' \
	"Backend.VNI: 16777216 is out of range 0..16777215"
bad nonet '{"Backend": {"Type": "vxlan"}}' "Network: missing (required when IPv4 is enabled)"
bad minmax '{"Network": "10.244.0.0/16", "SubnetMin": "10.244.9.0", "SubnetMax": "10.244.3.0"}' \
	"SubnetMin: 10.244.9.0 is above SubnetMax 10.244.3.0"
bad nofamily '{"EnableIPv4": false}' "EnableIPv4/EnableIPv6: both false, enable at least one"
bad type '{"Network": "10.244.0.0/16", "EnableIPv6": "yes"}' \
	"EnableIPv6: must be true or false, not a string"
f=$(conf syntax '{"Network": "10.244.0.0/16",')
check "bad: invalid JSON names line and column" bash -c '
	"$1" config check "$2" 2>&1 >/dev/null; status=$?
	[ $status -eq 1 ] || exit 1
	"$1" config check "$2" 2>&1 | grep -q "^ovlctl: $2: invalid JSON at line 2, column [0-9]*: "' _ "$OVLCTL" "$f"
check "bad: --json does not change the error" expect_line 1 \
	"ovlctl: $T_TMP/len31.json: SubnetLen: must be less than /31" --json config check "$T_TMP/len31.json"
check "bad: missing file" expect_line 1 \
	"ovlctl: $T_TMP/none.json: cannot open: No such file or directory" config check "$T_TMP/none.json"
head -c 1048577 /dev/zero | tr '\0' ' ' > "$T_TMP/big.json"
check "bad: file above 1 MiB" expect_line 1 \
	"ovlctl: $T_TMP/big.json: larger than 1048576 bytes, not a net-conf.json" config check "$T_TMP/big.json"

# ---- usage ---------------------------------------------------------------------
check "usage: config check without FILE exits 2" expect_line 2 \
	"ovlctl: config check: needs exactly one FILE" config check
check "usage: unknown config subcommand exits 2" expect_line 2 \
	"ovlctl: config: unknown subcommand 'frob' (see ovlctl help config)" config frob
check "usage: unknown command exits 2" expect_line 2 \
	"ovlctl: unknown command 'frobnicate' (see ovlctl --help)" frobnicate
check "usage: help for an unknown command exits 2" expect_line 2 \
	"ovlctl: unknown command 'frobnicate' (see ovlctl --help)" help frobnicate
check "--version" bash -c '"$1" --version | grep -qx "ovlctl [0-9.]* (libovl [0-9.]*)"' _ "$OVLCTL"
check "--help lists config" bash -c '"$1" --help | grep -q "^  config "' _ "$OVLCTL"
check "help config shows the usage" bash -c '"$1" help config | grep -q "^ovlctl config check FILE"' _ "$OVLCTL"

t_finish
