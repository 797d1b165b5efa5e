#!/bin/sh
# check-header.sh - include/ovl.h compiles on its own, warning-free, as C89,
# C11 and C++, and names no libnl, jansson or curl type.
set -u
srcdir=${top_srcdir:-.}
cc=${CC:-cc}; cxx=${CXX:-c++}
passed=0 failed=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '#include "ovl.h"\nint main(void) { struct ovl_lease_request r = OVL_LEASE_REQUEST_INIT; struct ovl_vxlan_options v = OVL_VXLAN_OPTIONS_INIT; struct ovl_subnet_env e = OVL_SUBNET_ENV_INIT; (void)r; (void)v; (void)e; return OVL_CHECK_VERSION(0, 1, 0) ? 0 : 1; }\n' > "$tmp/use.c"
cp "$tmp/use.c" "$tmp/use.cc"
run() {
	name=$1; shift
	if out=$("$@" 2>&1); then passed=$((passed+1)); echo "PASS: $name"
	else failed=$((failed+1)); echo "FAIL: $name"; echo "$out"; fi
}
run "header as C89" $cc -std=c89 -Wall -Wextra -Werror -I"$srcdir/include" -c "$tmp/use.c" -o "$tmp/a.o"
run "header as C11" $cc -std=c11 -pedantic -Wall -Wextra -Werror -I"$srcdir/include" -c "$tmp/use.c" -o "$tmp/b.o"
run "header as C++" $cxx -std=c++11 -Wall -Wextra -Werror -Wno-missing-field-initializers -I"$srcdir/include" -c "$tmp/use.cc" -o "$tmp/c.o"
if grep -Eq 'nl_sock|rtnl_|json_t|CURL|#include <(netlink|jansson|curl)' "$srcdir/include/ovl.h"; then
	failed=$((failed+1)); echo "FAIL: header names a dependency's type"
else
	passed=$((passed+1)); echo "PASS: header names no dependency's type"
fi
echo "TESTS: $passed $failed"
[ "$failed" -eq 0 ]
