#!/bin/bash
# run-all.sh - the README's test command: installs what a fresh Debian 12
# machine lacks, builds with --enable-werror, runs the unit and contract tests
# (make check), the same unit tests under ASan+UBSan, make distcheck, the
# kernel/etcd/CNI/Go tests in network namespaces and the Debian packages (as
# root; three namespace tests again on the ASan build, the threaded UDP test
# on a ThreadSanitizer build), then prints one line `N passed, N failed`
# that counts every test it ran.
#
#   tests/run-all.sh            everything, as root (another user: through sudo
#                               when installed, else without the netns tests)
#   OVL_SKIP_DISTCHECK=1 ...    skip distcheck (for quick local runs)
#   OVL_NETNS_ONLY=test-x.sh    run only that netns test (after a build;
#                               test-udp-threads.sh: also its TSan run)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
	exec sudo -E "$0" "$@"
fi
passed=0
failed=0
report=$(mktemp)
trap 'rm -f "$report"' EXIT

note() { printf '\n=== %s\n' "$*"; }
count() { # name rc output-file: adds the file's TESTS: lines, or 1 for rc
	local name=$1 rc=$2 file=$3 p=0 f=0 line
	while read -r _ a b; do p=$((p + a)); f=$((f + b)); done < <(grep -E '^TESTS: [0-9]+ [0-9]+$' "$file" 2>/dev/null)
	if [ $((p + f)) -eq 0 ]; then
		if [ "$rc" -eq 0 ]; then p=1; else f=1; fi
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # it counted only passes but still failed: count the failure
	fi
	passed=$((passed + p)); failed=$((failed + f))
	printf '%-40s %4d passed %4d failed %s\n' "$name" "$p" "$f" "${4:-}" >> "$report"
}
step() { # name command...: runs a build step; a failure counts as one
	local name=$1 out rc; shift
	out=$(mktemp)
	started=$SECONDS
	"$@" > "$out" 2>&1; rc=$?
	if [ $rc -ne 0 ]; then tail -50 "$out"; fi
	count "$name" $rc "$out" "($((SECONDS - started)) s)"
	rm -f "$out"
	return $rc
}
run_script() { # name timeout script: a test script on build/, counted by its TESTS: lines
	local name=$1 limit=$2 script=$3 out rc started=$SECONDS
	out=$(mktemp)
	OVL_TOP="$top" OVL_BUILD="$top/build" timeout "$limit" bash "$script" > "$out" 2>&1; rc=$?
	cat "$out"
	count "$name" $rc "$out" "($((SECONDS - started)) s)"
	rm -f "$out"
}
collect_make_check() { # dir label: counts each test of make check from its .log/.trs
	local dir=$1 label=$2 trs log rc
	for trs in $(find "$dir/tests" -name '*.trs' | sort); do
		log=${trs%.trs}.log
		if grep -q '^:test-result: PASS' "$trs"; then rc=0; else rc=1; cat "$log"; fi
		count "$label ${log#$dir/}" $rc "$log"
	done
}

if [ "${OVL_NO_INSTALL:-}" != 1 ]; then
	note "installing dependencies"
	"$top/tests/install-deps.sh" || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }
fi

if [ -z "${OVL_NETNS_ONLY:-}" ]; then
	note "autoreconf"
	step "autoreconf" autoreconf -fi || { cat "$report"; echo "$passed passed, $failed failed"; exit 1; }

	note "build (--enable-werror) and make check"
	rm -rf build && mkdir build
	if step "configure + make (werror)" sh -c 'cd build && ../configure --enable-werror && make -j2'; then
		(cd build && make -j2 check > /dev/null 2>&1)
		collect_make_check build "check:"
	fi

	note "unit tests under ASan+UBSan"
	rm -rf build-asan && mkdir build-asan
	if step "configure + make (sanitizers)" sh -c 'cd build-asan && ../configure --enable-werror --enable-sanitizers && make -j2'; then
		(cd build-asan && ASAN_OPTIONS=detect_leaks=1 make -j2 check TESTS='$(check_PROGRAMS)' > /dev/null 2>&1)
		collect_make_check build-asan "asan:"
	fi

	if [ "${OVL_SKIP_DISTCHECK:-}" != 1 ]; then
		note "make distcheck"
		step "make distcheck" sh -c 'cd build && make -j2 distcheck'
	fi
fi

note "network namespace tests (real kernel, etcd, CNI plugins)"
if [ "$(id -u)" -ne 0 ]; then
	echo "not root: the namespace tests need root"; count "netns tests (need root)" 1 /dev/null
else
	for t in "$top"/tests/netns/test-*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t")
		[ -n "${OVL_NETNS_ONLY:-}" ] && [ "$OVL_NETNS_ONLY" != "$name" ] && continue
		run_script "netns: $name" 600 "$t"
	done
	# The Debian packages: built from `make dist`, installed, used, purged.
	if [ -z "${OVL_NETNS_ONLY:-}" ]; then
		note "Debian packages (tests/debian/test-packages.sh)"
		run_script "debian: test-packages.sh" 900 "$top/tests/debian/test-packages.sh"
	fi
	# Some kernel tests again on the ASan+UBSan build: any report fails,
	# LeakSanitizer's at exit too (ovlctl leaves by main on SIGTERM).
	if [ -z "${OVL_NETNS_ONLY:-}" ] && [ -x "$top/build-asan/ovlctl" ]; then
		note "network namespace tests on the sanitized build (build-asan)"
		san=$(mktemp -d)
		for name in test-vxlan.sh test-node.sh test-node-malicious.sh; do
			out=$(mktemp)
			started=$SECONDS
			ASAN_OPTIONS="log_path=$san/$name:detect_leaks=1" UBSAN_OPTIONS=print_stacktrace=1 \
				OVL_TOP="$top" OVL_BUILD="$top/build-asan" timeout 300 \
				bash "$top/tests/netns/$name" > "$out" 2>&1; rc=$?
			cat "$out"
			count "asan netns: $name" $rc "$out" "($((SECONDS - started)) s)"
			# UBSan (built not to recover) reports on stderr whatever
			# log_path says; its victim's failure is in the output.
			reports=$(find "$san" -name "$name.*")
			if [ -n "$reports" ] || grep -qE 'runtime error:|ERROR: [A-Za-z]+Sanitizer' "$out"; then
				[ -n "$reports" ] && cat $reports
				rc=1
			else
				rc=0
			fi
			count "asan netns: $name: no sanitizer reports" $rc /dev/null
			rm -f "$out"
		done
		rm -rf "$san"
	fi
	# The threaded UDP test again with libovl and the program built with
	# ThreadSanitizer: a report fails it.
	if [ -z "${OVL_NETNS_ONLY:-}" ] || [ "$OVL_NETNS_ONLY" = test-udp-threads.sh ]; then
		note "threads under ThreadSanitizer (build-tsan)"
		rm -rf build-tsan && mkdir build-tsan
		if step "configure + make (tsan)" sh -c 'cd build-tsan && ../configure --enable-werror --enable-tsan && make -j2 tests/tools/udp-threads'; then
			out=$(mktemp)
			started=$SECONDS
			OVL_TOP="$top" OVL_BUILD="$top/build-tsan" timeout 300 \
				bash "$top/tests/netns/test-udp-threads.sh" > "$out" 2>&1; rc=$?
			cat "$out"
			count "tsan netns: test-udp-threads.sh" $rc "$out" "($((SECONDS - started)) s)"
			rm -f "$out"
		fi
	fi
fi

if [ -z "${OVL_NETNS_ONLY:-}" ]; then
	note "libFuzzer harnesses (tests/fuzz/run.sh, a short fixed budget each)"
	step "fuzz" "$top/tests/fuzz/run.sh"
fi

note "summary"
cat "$report"
echo "total time: $SECONDS s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
