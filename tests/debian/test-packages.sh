#!/bin/bash
# test-packages.sh - the Debian packages: builds them with
# `dpkg-buildpackage -us -uc -b` from the release tarball (`make dist` of
# the build directory) plus debian/, checks them with lintian (no error),
# checks debian/libovl0.symbols against libovl.sym, installs them, runs the
# installed ovlctl, ovl-cni and Python module, builds ovl(3)'s example and
# the Go binding against the installed libovl-dev with pkg-config, and
# purges them again, also on failure or interruption.  As root; it refuses
# to touch a machine that already has any of the packages installed.
source "$(dirname "$0")/../netns/lib.sh"
PACKAGES="libovl0 libovl-dev ovlctl python3-ovl"
W=$T_TMP

installed() { # PACKAGE: true when dpkg has it installed (or half so)
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -qv 'not-installed'
}
purge() {
	local p present=
	for p in $PACKAGES; do installed "$p" && present="$present $p"; done
	# shellcheck disable=SC2086
	[ -z "$present" ] || dpkg --purge $present > "$W/purge.log" 2>&1
}
OURS=0 # set once we installed: only then does cleanup purge
trap '[ $OURS = 1 ] && purge; t_cleanup' EXIT
trap '[ $OURS = 1 ] && purge; t_cleanup; trap - EXIT; exit 143' INT TERM

for p in $PACKAGES; do
	if installed "$p"; then
		echo "FAIL: $p is installed on this machine already: not touching it"
		T_FAILED=1; t_finish; exit
	fi
done
for tool in dpkg-buildpackage dh dh_autoreconf dh_python3 lintian; do
	command -v $tool >/dev/null || { echo "FAIL: $tool is missing (tests/install-deps.sh)"; T_FAILED=1; t_finish; exit; }
done

check "debian/libovl0.symbols lists libovl.sym's symbols (tests/tools/debian-symbols.sh)" \
	bash -c "diff -u '$OVL_TOP/debian/libovl0.symbols' <('$OVL_TOP/tests/tools/debian-symbols.sh')"

# ---- build -------------------------------------------------------------------
version=$(dpkg-parsechangelog -l "$OVL_TOP/debian/changelog" -S Version)
upstream=${version%-*}
check "make dist" make -s -C "$OVL_BUILD" dist-gzip
tarball=$OVL_BUILD/libovl-$upstream.tar.gz
cp "$tarball" "$W/libovl_$upstream.orig.tar.gz"
tar -xzf "$tarball" -C "$W"
src=$W/libovl-$upstream
cp -r "$OVL_TOP/debian" "$src/"
# The tests ran already (make check): the package build skips them.
started=$SECONDS
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) > "$W/build.log" 2>&1
rc=$?
check "dpkg-buildpackage -us -uc -b ($((SECONDS - started)) s)" test "$rc" = 0
[ "$rc" = 0 ] || { tail -40 "$W/build.log"; t_finish; exit; }
check "dpkg-gensymbols found the library's symbols exactly as listed (-c4)" \
	bash -c "! grep -q 'dpkg-gensymbols: warning' '$W/build.log'"
debs=()
for p in $PACKAGES; do
	deb=$(ls "$W/${p}_$version"_*.deb 2>/dev/null | head -1)
	check "$p built" test -n "$deb"
	debs+=("$deb")
done
changes=$(ls "$W"/libovl_"$version"_*.changes)
lintian --fail-on error --suppress-tags-from-file /dev/null "$changes" > "$W/lintian.log" 2>&1
rc=$?
grep -E '^[EW]: ' "$W/lintian.log" | sort | uniq -c | sort -rn | head -20
check "lintian: no errors ($(grep -c '^W: ' "$W/lintian.log") warnings)" test "$rc" = 0
check "libovl-dev holds the header, .so link, .pc and man3" bash -c "
	dpkg -c '${debs[1]}' | grep -q './usr/include/ovl.h' &&
	dpkg -c '${debs[1]}' | grep -qE '/usr/lib/[^/]+/libovl.so -> libovl.so.0' &&
	dpkg -c '${debs[1]}' | grep -qE '/usr/lib/[^/]+/pkgconfig/libovl.pc' &&
	dpkg -c '${debs[1]}' | grep -q './usr/share/man/man3/ovl.3.gz'"
check "ovlctl holds ovlctl, ovl-cni in /usr/lib/cni and man8" bash -c "
	dpkg -c '${debs[2]}' | grep -q './usr/bin/ovlctl' &&
	dpkg -c '${debs[2]}' | grep -q './usr/lib/cni/ovl-cni' &&
	dpkg -c '${debs[2]}' | grep -q './usr/share/man/man8/ovlctl.8.gz' &&
	dpkg -c '${debs[2]}' | grep -q './usr/share/man/man8/ovl-cni.8.gz'"

# ---- install, use, purge -------------------------------------------------------
OURS=1
check "dpkg -i the four packages" dpkg -i "${debs[@]}"
# Only the installed files from here on: no build tree on the library path.
unset LD_LIBRARY_PATH
check "ovlctl --version: $(ovlctl --version 2>&1)" bash -c "ovlctl --version | grep -qx 'ovlctl $upstream (libovl $upstream)'"
check "ovl-cni answers VERSION" bash -c "CNI_COMMAND=VERSION /usr/lib/cni/ovl-cni < /dev/null | jq -e '.supportedVersions | index(\"1.0.0\")'"
check "ovlctl(8) and ovl(3) installed" test -f /usr/share/man/man8/ovlctl.8.gz -a -f /usr/share/man/man3/ovl.3.gz
check "python3 -c 'import ovl' uses the installed library" \
	bash -c "cd / && /usr/bin/python3 -c 'import ovl; assert ovl.version() == \"$upstream\"; print(ovl.__file__)' | grep -q '^/usr/lib/python3/dist-packages/ovl.py'"
zcat /usr/share/man/man3/ovl.3.gz > "$W/ovl.3"
man_example "$W/ovl.3" "$W/example.c"
flags=$(pkg-config --cflags --libs libovl 2>&1)
check "pkg-config --cflags --libs libovl: $flags" bash -c "pkg-config --libs libovl | grep -q -- '-lovl'"
# shellcheck disable=SC2086
check "ovl(3)'s example builds against libovl-dev" cc -std=gnu11 -Wall -Wextra -Werror -o "$W/example" "$W/example.c" $flags
check "the example links the installed libovl.so.0" bash -c "ldd '$W/example' | grep -qE '=> (/usr)?/lib/[^/]+/libovl.so.0 '"
check "the example runs: subnets of /24" bash -c "'$W/example' | grep -qx 'subnets of /24'"
if command -v go >/dev/null; then
	mkdir -p "$W/gocache"
	check "the Go binding builds and vets against libovl-dev" bash -c "
		cd '$OVL_TOP/bindings/go' && GOFLAGS=-mod=mod GOPROXY=off GOCACHE='$W/gocache' go vet ./..."
fi

OURS=0
purge
check "dpkg --purge removes them all" bash -c "
	for p in $PACKAGES; do ! dpkg-query -W -f='\${Status}' \$p 2>/dev/null | grep -qv not-installed || exit 1; done
	[ ! -e /usr/include/ovl.h ] && [ ! -e /usr/bin/ovlctl ] && [ ! -e /usr/lib/cni/ovl-cni ] &&
	! ls /usr/lib/*/libovl.so* 2>/dev/null | grep -q ."
t_finish
