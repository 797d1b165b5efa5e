#!/bin/sh
# check-man.sh - every exported function is documented: its name stands in
# the NAME section of a page under man/, every page names only real
# functions (so the manual and libovl.sym agree both ways), and in the tree
# `make install-man` lays out, `man ovl_X` finds a page for every exported
# function: its own, or a .so link to the page that names it.
set -u
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
passed=0 failed=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass() { passed=$((passed+1)); echo "PASS: $1"; }
fail() { failed=$((failed+1)); echo "FAIL: $1"; [ -z "${2:-}" ] || echo "$2"; }
# names in a page's NAME section: from ".SH NAME" to the next ".SH"
named_in() { awk '/^\.SH /{n = ($2 == "NAME")} n' "$1" | grep -Eo 'ovl_[a-z0-9_]+'; }

grep -Eo '^[[:space:]]+ovl_[a-z0-9_]+;' "$srcdir/libovl/libovl.sym" | tr -d ' \t;' | sort -u > "$tmp/listed"
for page in "$srcdir"/man/*.3; do
	named_in "$page"
done | sort -u > "$tmp/documented"
missing=$(comm -23 "$tmp/listed" "$tmp/documented")
extra=$(comm -13 "$tmp/listed" "$tmp/documented")
if [ -z "$missing" ]; then pass "every exported function has a man page"
else fail "functions without a man page:" "$missing"; fi
if [ -z "$extra" ]; then pass "man pages name only exported functions"
else fail "man pages name functions that are not exported:" "$extra"; fi

# The installed tree (DESTDIR under $tmp): a page or link per function.
# A make of its own, not the one running make check (its flags print
# directories and share a job server).
sub_make() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s --no-print-directory -C "$builddir" "$@"; }
mandir=$(printf 'print-mandir:\n\t@echo $(mandir)\n' | sub_make -f Makefile -f /dev/stdin print-mandir)
root=$tmp/root
if ! sub_make install-man DESTDIR="$root" > "$tmp/install.log" 2>&1; then
	fail "make install-man" "$(tail -5 "$tmp/install.log")"
	echo "TESTS: $passed $failed"
	exit 1
fi
man3=$root$mandir/man3
bad=""
while read -r function; do
	page=$man3/$function.3
	if [ ! -f "$page" ]; then
		bad="$bad
$function: no $mandir/man3/$function.3 (add man/$function.3 holding '.so man3/PAGE.3' to dist_man_MANS)"
		continue
	fi
	target=$(sed -n '1s/^\.so man3\///p' "$page")
	[ -n "$target" ] && page=$man3/$target
	if [ ! -f "$page" ] || ! named_in "$page" | grep -qx "$function"; then
		bad="$bad
$function: $mandir/man3/$function.3 leads to ${target:-itself}, whose NAME does not name it"
	fi
done < "$tmp/listed"
if [ -z "$bad" ]; then pass "installed: man3/ovl_X.3 for each of the $(wc -l < "$tmp/listed") exported functions, links to the page that names it"
else fail "installed pages missing or wrong:" "$bad"; fi

# man(1) itself resolves a link page (where man-db is installed).
if command -v man >/dev/null 2>&1; then
	if MANPATH=$root$mandir MANWIDTH=80 man -P cat ovl_ctx_new 2>/dev/null | grep -q '^OVL(3)'; then
		pass "installed: man ovl_ctx_new shows ovl(3)"
	else
		fail "installed: man ovl_ctx_new" "$(MANPATH=$root$mandir man -P cat ovl_ctx_new 2>&1 | head -5)"
	fi
fi
echo "TESTS: $passed $failed"
[ "$failed" -eq 0 ]
