#!/bin/sh
# check-exports.sh - the library exports exactly the symbols libovl.sym lists,
# and every function the header declares is among them.
set -u
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
lib=$(ls "$builddir"/.libs/libovl.so.* 2>/dev/null | head -1)
passed=0 failed=0
check() { if [ "$2" = ok ]; then passed=$((passed+1)); echo "PASS: $1"; else failed=$((failed+1)); echo "FAIL: $1"; printf '%s\n' "$3"; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

grep -Eo '^[[:space:]]+ovl_[a-z0-9_]+;' "$srcdir/libovl/libovl.sym" | tr -d ' \t;' | sort -u > "$tmp/listed"
if [ -z "$lib" ]; then
	check "library built" fail "no libovl.so under $builddir/.libs"
else
	nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | grep -v '^LIBOVL_' | sort -u > "$tmp/exported"
	d=$(diff "$tmp/listed" "$tmp/exported")
	[ -z "$d" ] && check "exports equal libovl.sym" ok || check "exports equal libovl.sym" fail "< only listed, > only exported:
$d"
fi
grep -A4 '^OVL_EXPORT' "$srcdir/include/ovl.h" | grep -Eo 'ovl_[a-z0-9_]+\(' | tr -d '(' | sort -u > "$tmp/declared"
d=$(diff "$tmp/listed" "$tmp/declared")
[ -z "$d" ] && check "header declarations equal libovl.sym" ok || check "header declarations equal libovl.sym" fail "< only in libovl.sym, > only in ovl.h:
$d"
echo "TESTS: $passed $failed"
[ "$failed" -eq 0 ]
