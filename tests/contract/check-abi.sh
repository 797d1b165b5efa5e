#!/bin/sh
# check-abi.sh - the ABI gate: the built libovl.so.0 must have exactly the
# ABI recorded in abi/libovl.abi (abidw XML, Debian's abigail-tools), and a
# change of that baseline must come with a new version node in libovl.sym,
# a NEWS entry naming it and the libtool version that counts it.
#
#   check-abi.sh            the gate (make check runs it; skips without
#                           abigail-tools or a library built without -g)
#   check-abi.sh --update   rewrites abi/libovl.abi from the built library,
#                           then runs the gate (README: "Releasing")
#
# Checks:
#  1. abidiff baseline library: any change (exit bit 4) or incompatible
#     change (bit 8) fails;
#  2. the public structs' sizes and members (abi-layout.py) are the same:
#     abidiff deems a member appended to a struct harmless;
#  3. the baseline's version nodes are exactly libovl.sym's; NEWS names
#     each; configure.ac's -version-info has current = age = nodes - 1;
#  4. in a git checkout, against the baseline's previous version: nothing
#     it had went or changed incompatibly (abidiff --no-added-syms, bits 1,
#     2, 8), its structs changed only by members appended to option structs
#     (abi-layout.py --appended), it gained a node or symbols, and every
#     symbol added is in a new node or in one whose NEWS entry says
#     "unreleased" (released nodes never grow).
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
baseline=$top_srcdir/abi/libovl.abi
library=$top_builddir/.libs/libovl.so.0
symbols=$top_srcdir/libovl/libovl.sym
news=$top_srcdir/NEWS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }
procedure="the release procedure (README, \"Releasing\"): add a node to libovl/libovl.sym,
a NEWS entry naming it, bump current and age in configure.ac's LIBOVL_VERSION_INFO,
rebuild, run tests/contract/check-abi.sh --update and commit all of it together"

for tool in abidw abidiff; do
	command -v $tool >/dev/null || { echo "SKIP: $tool missing (apt-get install abigail-tools)"; exit 77; }
done
[ -e "$library" ] || { echo "FAIL: $library is not built"; exit 1; }
if ! readelf -S "$library" 2>/dev/null | grep -q '\.debug_info'; then
	echo "SKIP: $library has no debug information (built without -g)"; exit 77
fi
# Only the public types: the handles' structs are internal (opaque).
abi_of() { # LIBRARY OUT
	abidw --headers-dir "$top_srcdir/include" --drop-private-types --no-show-locs \
		--no-corpus-path --no-comp-dir-path --out-file "$2" "$1"
}
nodes_of_symbols() { sed -n 's/^\(LIBOVL_[0-9.]*\) *{.*/\1/p' "$symbols" | sort -u; }
symbols_of_abi() { grep -o "<elf-symbol name='[^']*' version='[^']*'" "$1" | sed "s/.*name='\([^']*\)' version='\([^']*\)'/\1 \2/" | sort -u; }
nodes_of_abi() { symbols_of_abi "$1" | cut -d' ' -f2 | sort -u; }

if [ "${1:-}" = --update ]; then
	abi_of "$library" "$baseline" || exit 1
	echo "wrote $baseline"
fi
[ -e "$baseline" ] || { echo "FAIL: no baseline $baseline (check-abi.sh --update makes it)"; exit 1; }

# 1. abidiff
abidiff "$baseline" "$library" > "$tmp/diff"; rc=$?
if [ $((rc & 3)) -ne 0 ]; then
	cat "$tmp/diff"; fail "abidiff could not compare (exit $rc)"
elif [ $((rc & 12)) -ne 0 ]; then
	cat "$tmp/diff"
	[ $((rc & 8)) -ne 0 ] && what="an incompatible ABI change" || what="an ABI change"
	fail "$what against abi/libovl.abi (abidiff exit $rc); if it is meant, follow $procedure"
else
	echo "PASS: abidiff: the library's ABI is the baseline's"
fi

# 2. the public structs' layouts
abi_of "$library" "$tmp/built.abi" || exit 1
python3 "$top_srcdir/tests/contract/abi-layout.py" "$baseline" > "$tmp/baseline.layout" &&
	python3 "$top_srcdir/tests/contract/abi-layout.py" "$tmp/built.abi" > "$tmp/built.layout" || exit 1
if diff -u "$tmp/baseline.layout" "$tmp/built.layout"; then
	echo "PASS: the public structs have the baseline's sizes and members"
else
	fail "a public struct changed (above: - baseline, + built); if it is meant, follow $procedure"
fi

# 3. nodes, NEWS, libtool version
nodes_of_symbols > "$tmp/sym.nodes"
nodes_of_abi "$baseline" > "$tmp/abi.nodes"
if cmp -s "$tmp/sym.nodes" "$tmp/abi.nodes"; then
	echo "PASS: the baseline has libovl.sym's nodes: $(tr '\n' ' ' < "$tmp/sym.nodes")"
else
	fail "libovl.sym's nodes ($(tr '\n' ' ' < "$tmp/sym.nodes")) are not the baseline's ($(tr '\n' ' ' < "$tmp/abi.nodes")): follow $procedure"
fi
for node in $(cat "$tmp/sym.nodes"); do
	grep -qw "$node" "$news" 2>/dev/null || fail "NEWS does not name $node"
done
info=$(sed -n 's/^AC_SUBST(\[LIBOVL_VERSION_INFO\], \[\([0-9:]*\)\]).*/\1/p' "$top_srcdir/configure.ac")
count=$(($(wc -l < "$tmp/sym.nodes") - 1))
current=${info%%:*}
age=${info##*:}
if [ "$current" = "$count" ] && [ "$age" = "$count" ]; then
	echo "PASS: NEWS names every node; LIBOVL_VERSION_INFO $info counts $count node(s) after LIBOVL_0.1"
else
	fail "configure.ac's LIBOVL_VERSION_INFO is $info: with $count node(s) after LIBOVL_0.1 current and age must be $count"
fi

# 4. the baseline's previous version (git checkouts only)
if git -C "$top_srcdir" ls-files --error-unmatch abi/libovl.abi >/dev/null 2>&1; then
	previous=
	for commit in $(git -C "$top_srcdir" log --format=%H -- abi/libovl.abi); do
		git -C "$top_srcdir" show "$commit:abi/libovl.abi" > "$tmp/previous.abi" 2>/dev/null || continue
		cmp -s "$tmp/previous.abi" "$baseline" || { previous=$commit; break; }
	done
	if [ -z "$previous" ]; then
		echo "PASS: the baseline is the first one (no previous version)"
	else
		short=${previous%${previous#???????}}
		# What the previous baseline had may only grow the way ovl.h
		# allows: members appended to option structs.
		abidiff --no-added-syms "$tmp/previous.abi" "$baseline" > "$tmp/released"; rc=$?
		if [ $((rc & 11)) -ne 0 ]; then
			cat "$tmp/released"
			fail "the baseline changed incompatibly or removed what its version of $short had (abidiff exit $rc)"
		elif ! python3 "$top_srcdir/tests/contract/abi-layout.py" --appended "$tmp/previous.abi" "$baseline"; then
			fail "since $short a public struct changed other than by appending to an option struct"
		fi
		nodes_of_abi "$tmp/previous.abi" > "$tmp/previous.nodes"
		symbols_of_abi "$tmp/previous.abi" > "$tmp/previous.symbols"
		symbols_of_abi "$baseline" > "$tmp/baseline.symbols"
		# A node whose NEWS entry says "unreleased" may still grow.
		grep -w unreleased "$news" | grep -o 'LIBOVL_[0-9.]*' > "$tmp/unreleased.nodes"
		grep -vxF -f "$tmp/unreleased.nodes" "$tmp/previous.nodes" > "$tmp/released.nodes"
		comm -13 "$tmp/previous.symbols" "$tmp/baseline.symbols" > "$tmp/added"
		while read -r name node; do
			if grep -qx "$node" "$tmp/released.nodes"; then
				echo "$name was added to $node, released in $short's baseline"
			fi
		done < "$tmp/added" > "$tmp/grown"
		if [ -s "$tmp/grown" ]; then
			cat "$tmp/grown"; fail "a released node grew: new symbols go into a new node"
		fi
		new_nodes=$(comm -23 "$tmp/abi.nodes" "$tmp/previous.nodes" | tr '\n' ' ')
		if [ -n "$(comm -13 "$tmp/abi.nodes" "$tmp/previous.nodes")" ] ||
			{ [ -z "$new_nodes" ] && [ ! -s "$tmp/added" ]; }; then
			fail "the baseline changed since $short without a new version node: follow $procedure"
		fi
		[ "$failed" = 0 ] && echo "PASS: since $short the baseline only added: node(s) $new_nodes$(wc -l < "$tmp/added") symbol(s)"
	fi
fi
echo "TESTS: $([ $failed = 0 ] && echo '1 0' || echo '0 1')"
exit $failed
