#!/bin/bash
# test-install.sh - `make install DESTDIR=...` from the build directory lays
# out the headers, the library, its pkg-config file, the man pages, ovlctl,
# ovl-cni, the Python module, ovl-node.service and its options file, and
# ovlctl's bash completion where they belong (systemd-analyze verify accepts the unit); the example program of
# ovl(3) builds against that tree with `pkg-config --cflags --libs libovl`
# and runs; the installed ovlctl and Python module work.  No namespace: it
# only writes under its own temporary directory.
source "$(dirname "$0")/lib.sh"

dest=$T_TMP/root
# A directory variable of the build's Makefile (prefix and the like).
make_var() {
	printf 'print-%%:\n\t@echo $($*)\n' |
		make -s --no-print-directory -C "$OVL_BUILD" -f Makefile -f /dev/stdin "print-$1"
}

check "make install DESTDIR" make -C "$OVL_BUILD" install DESTDIR="$dest"
includedir=$(make_var includedir)
libdir=$(make_var libdir)
bindir=$(make_var bindir)
libexecdir=$(make_var libexecdir)
mandir=$(make_var mandir)
datadir=$(make_var datadir)

check "ovl.h in $includedir" test -f "$dest$includedir/ovl.h"
check "libovl.so, .so.0 and the versioned file in $libdir" \
	bash -c "test -L '$dest$libdir/libovl.so' && test -L '$dest$libdir/libovl.so.0' &&
		 ls '$dest$libdir'/libovl.so.0.*.* > /dev/null"
check "libovl.pc in $libdir/pkgconfig" test -f "$dest$libdir/pkgconfig/libovl.pc"
check "ovlctl in $bindir" test -x "$dest$bindir/ovlctl"
check "ovl-cni in $libexecdir/cni" test -x "$dest$libexecdir/cni/ovl-cni"
check "ovl.py in $datadir/libovl/python" test -f "$dest$datadir/libovl/python/ovl.py"
missing=""
for page in "$OVL_TOP"/man/*.[38]; do
	section=${page##*.}
	[ -f "$dest$mandir/man$section/$(basename "$page")" ] || missing="$missing $(basename "$page")"
done
check "every man page of man/ installed in $mandir/man3 and man8 (missing:${missing:- none})" \
	test -z "$missing"
check "ovl(3) installed" test -f "$dest$mandir/man3/ovl.3"
check "ovlctl(8) installed" test -f "$dest$mandir/man8/ovlctl.8"

man_example "$OVL_TOP/man/ovl.3" "$T_TMP/example.c"
check "ovl(3) has an example program" grep -q 'int main' "$T_TMP/example.c"
export PKG_CONFIG_PATH="$dest$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs libovl 2>&1)
check "pkg-config --cflags --libs libovl: $flags" \
	bash -c "pkg-config --cflags libovl | grep -q -- '-I$dest$includedir' &&
		 pkg-config --libs libovl | grep -q -- '-L$dest$libdir -lovl'"
# shellcheck disable=SC2086
check "the example compiles against the installed tree" \
	cc -std=gnu11 -Wall -Wextra -Werror -o "$T_TMP/example" "$T_TMP/example.c" $flags
# the installed library, not the build's (lib.sh points LD_LIBRARY_PATH there)
run_installed() { LD_LIBRARY_PATH="$dest$libdir" "$@"; }
check "the example links the installed libovl.so.0" \
	bash -c "LD_LIBRARY_PATH='$dest$libdir' ldd '$T_TMP/example' | grep -q '$dest$libdir/libovl.so.0'"
check "the example runs: subnets of /24" \
	bash -c "LD_LIBRARY_PATH='$dest$libdir' '$T_TMP/example' | grep -qx 'subnets of /24'"

# systemd: the unit names the installed ovlctl and its options file
unitdir=$(make_var systemdsystemunitdir)
sysconfdir=$(make_var sysconfdir)
unit=$dest$unitdir/ovl-node.service
check "ovl-node.service in $unitdir" test -f "$unit"
check "ovl-node.env in $sysconfdir/ovl" test -f "$dest$sysconfdir/ovl/ovl-node.env"
check "the unit runs the installed ovlctl, reads the installed options" \
	bash -c "grep -qx 'ExecStart=$bindir/ovlctl run --listen \${OVL_LISTEN} \$OVL_RUN_OPTIONS' '$unit' &&
		 grep -qx 'EnvironmentFile=-$sysconfdir/ovl/ovl-node.env' '$unit'"
check "the unit is Type=notify with a watchdog, restarts on failure" \
	bash -c "grep -qx Type=notify '$unit' && grep -q '^WatchdogSec=' '$unit' && grep -qx Restart=on-failure '$unit'"
if command -v systemd-analyze >/dev/null; then
	sed "s|^ExecStart=$bindir/|ExecStart=$dest$bindir/|" "$unit" > "$T_TMP/ovl-node.service"
	check "systemd-analyze verify accepts the unit" \
		systemd-analyze verify --man=no "$T_TMP/ovl-node.service"
fi
completiondir=$(make_var bashcompletiondir)
check "ovlctl's bash completion in $completiondir" grep -q '^complete -F _ovlctl ovlctl$' "$dest$completiondir/ovlctl"
echo "OVL_RUN_OPTIONS=--node edited" >> "$dest$sysconfdir/ovl/ovl-node.env"
check "make install again keeps an edited ovl-node.env" bash -c \
	"make -C '$OVL_BUILD' install DESTDIR='$dest' >/dev/null && grep -qx 'OVL_RUN_OPTIONS=--node edited' '$dest$sysconfdir/ovl/ovl-node.env'"

printf '{"Network":"10.244.0.0/16"}' > "$T_TMP/net-conf.json"
check "the installed ovlctl runs" run_installed "$dest$bindir/ovlctl" config check "$T_TMP/net-conf.json"
check "the installed ovl-cni answers VERSION" \
	bash -c "echo '{}' | CNI_COMMAND=VERSION LD_LIBRARY_PATH='$dest$libdir' '$dest$libexecdir/cni/ovl-cni' | grep -q supportedVersions"
check "the installed Python module imports and parses a config" \
	env PYTHONPATH="$dest$datadir/libovl/python" OVL_LIBRARY="$dest$libdir/libovl.so.0" \
	python3 -c 'import ovl; assert ovl.Context().config_parse(open("'"$T_TMP"'/net-conf.json").read()).subnet_len(ovl.AF_INET) == 24'

t_finish
