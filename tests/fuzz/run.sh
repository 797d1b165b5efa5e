#!/bin/bash
# run.sh - builds the libFuzzer harnesses (clang, ASan+UBSan, out of tree in
# $FUZZ_BUILD with a configure of its own) and runs each for FUZZ_SECONDS
# (default 8) from its seed corpus in tests/fuzz/corpus/<name>/.  A harness
# passes when libFuzzer exits 0 (no crash, leak, timeout or failed check);
# a crash leaves its input in $FUZZ_BUILD/crashes/.  Prints each harness's
# executions, then `TESTS: P F` and the total.
#
#   tests/fuzz/run.sh                  every harness, 8 s each
#   FUZZ_SECONDS=600 tests/fuzz/run.sh longer
#   tests/fuzz/run.sh store lease      only those
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD:-$top/build-fuzz}
seconds=${FUZZ_SECONDS:-8}
harnesses=${*:-net-conf store lease subnet-env etcd cni peers kubeconfig}
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cflags="-g -O1 $sanitize"

fail() { echo "fuzz: $*"; echo "TESTS: 0 1"; exit 1; }
command -v clang > /dev/null || fail "clang is not installed (tests/install-deps.sh)"
[ -x "$top/configure" ] || fail "no configure: run autoreconf -fi in $top"
mkdir -p "$build" || fail "cannot create $build"
cd "$build" || exit 1

# The library, instrumented for coverage (libFuzzer links only into the harnesses).
if [ ! -f Makefile ]; then
	"$top/configure" CC=clang CFLAGS="$cflags -fsanitize=fuzzer-no-link" \
		--disable-shared > configure.log 2>&1 || { tail -20 configure.log; fail "configure failed"; }
fi
make -j2 libovl-core.la > make.log 2>&1 || { tail -30 make.log; fail "building the library failed"; }

libs="$build/.libs/libovl-core.a $(pkg-config --libs libnl-route-3.0 jansson libcurl libnftables libcrypto yaml-0.1 libmicrohttpd)"
includes="-include $build/config.h -I$top/include -I$top/libovl -I$top/tests/fuzz $(pkg-config --cflags libnl-route-3.0 jansson libcurl)"
extra_cni="-I$top/examples/cni $top/examples/cni/error.c $top/examples/cni/netconf.c
	$top/examples/cni/version.c $top/examples/cni/subnet-env.c $top/examples/cni/render.c
	$top/examples/cni/result.c $top/examples/cni/state.c $top/examples/cni/protocol.c"
# ovlctl's main() would clash with libFuzzer's
extra_peers="-I$top/examples/ovlctl -Dmain=ovlctl_main $(ls "$top"/examples/ovlctl/*.c)"

passed=0
failed=0
total=0
mkdir -p crashes
FUZZ_TMPDIR=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d) || fail "mktemp"
export FUZZ_TMPDIR
trap 'rm -rf "$FUZZ_TMPDIR"' EXIT
for name in $harnesses; do
	src=$top/tests/fuzz/fuzz-$name.c
	[ -f "$src" ] || fail "no harness $src"
	extra=""
	[ "$name" = cni ] && extra=$extra_cni
	[ "$name" = peers ] && extra=$extra_peers
	# shellcheck disable=SC2086
	if ! clang $cflags -fsanitize=fuzzer -std=gnu11 $includes -o "fuzz-$name" "$src" \
		"$top/tests/fuzz/fuzz.c" $extra $libs > "build-$name.log" 2>&1; then
		cat "build-$name.log"
		echo "fuzz $name: build FAILED"
		failed=$((failed + 1))
		continue
	fi
	rm -rf "corpus-$name" && mkdir "corpus-$name"
	# new inputs go to the first (scratch) directory, the seeds stay as they are
	"./fuzz-$name" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="crashes/$name-" "corpus-$name" "$top/tests/fuzz/corpus/$name" \
		> "run-$name.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "run-$name.log")
	runs=${runs:-0}
	total=$((total + runs))
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "fuzz $name: $runs executions in ${seconds}s, passed"
	else
		failed=$((failed + 1))
		grep -E "ERROR|SUMMARY|Test unit written|#[0-9]+ *in |: .*\.c:[0-9]+" "run-$name.log" | head -30
		echo "fuzz $name: $runs executions, FAILED (exit $rc, log $build/run-$name.log)"
	fi
done
echo "fuzz: $total executions in total"
echo "TESTS: $passed $failed"
[ $failed -eq 0 ]
