#!/bin/sh
# check-man.sh - every exported function is documented: its name stands in
# the NAME section of a page under man/, and every page names only real
# functions (so the manual and libovl.sym agree both ways).
set -u
srcdir=${top_srcdir:-.}
passed=0 failed=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
grep -Eo '^[[:space:]]+ovl_[a-z0-9_]+;' "$srcdir/libovl/libovl.sym" | tr -d ' \t;' | sort -u > "$tmp/listed"
for page in "$srcdir"/man/*.3; do
	# the NAME section: from ".SH NAME" to the next ".SH"
	awk '/^\.SH /{n = ($2 == "NAME")} n' "$page" | grep -Eo 'ovl_[a-z0-9_]+' 
done | sort -u > "$tmp/documented"
missing=$(comm -23 "$tmp/listed" "$tmp/documented")
extra=$(comm -13 "$tmp/listed" "$tmp/documented")
if [ -z "$missing" ]; then passed=$((passed+1)); echo "PASS: every exported function has a man page"
else failed=$((failed+1)); echo "FAIL: functions without a man page:"; echo "$missing"; fi
if [ -z "$extra" ]; then passed=$((passed+1)); echo "PASS: man pages name only exported functions"
else failed=$((failed+1)); echo "FAIL: man pages name functions that are not exported:"; echo "$extra"; fi
echo "TESTS: $passed $failed"
[ "$failed" -eq 0 ]
