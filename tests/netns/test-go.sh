#!/bin/bash
# test-go.sh - the Go binding (bindings/go): gofmt and go vet clean, then its
# go test (race detector on) against this build: the unit tests, and the
# namespace tests on two hosts with a pod each made here.  Every test and
# subtest go test reports counts as one.
source "$(dirname "$0")/lib.sh"

if ! command -v go >/dev/null; then
	echo "FAIL: go is missing (tests/install-deps.sh installs golang-go)"
	T_FAILED=$((T_FAILED + 1)); t_finish; exit
fi
# cgo finds this build's header and library through a libovl.pc of its own.
mkdir -p "$T_TMP/pkgconfig"
cat > "$T_TMP/pkgconfig/libovl.pc" <<EOF
Name: libovl
Description: libovl from the build tree
Version: $(sed -n 's/^#define OVL_VERSION_STRING "\(.*\)"/\1/p' "$OVL_TOP/include/ovl.h")
Cflags: -I$OVL_TOP/include
Libs: -L$OVL_BUILD/.libs -lovl
EOF
# Offline: the binding needs nothing but the standard library.  Go's build
# cache lives outside the checkout.
export PKG_CONFIG_PATH="$T_TMP/pkgconfig" GOFLAGS=-mod=mod GOPROXY=off GO111MODULE=on
export GOCACHE=${GOCACHE:-/var/cache/ovl-tests/go-build}
mkdir -p "$GOCACHE"
cd "$OVL_TOP/bindings/go" || exit 1

check "gofmt: nothing to reformat" bash -c '[ -z "$(gofmt -l .)" ] || { gofmt -l .; false; }'
check "go vet" go vet ./...

sw=$(underlay_add)
H1=$(host_add "$sw" h1 192.168.77.11/24)
H2=$(host_add "$sw" h2 192.168.77.12/24)
S1=10.244.31.0/24
S2=10.244.32.0/24
P1=$(pod_add "$H1" p1 10.244.31.2/24 10.244.31.1)
P2=$(pod_add "$H2" p2 10.244.32.2/24 10.244.32.1)
export H1 H2 P1 P2 S1 S2 T_TMP OVL_GO_NETNS=1

go test -race -count=1 -v ./... > "$T_TMP/go-test.log" 2>&1; rc=$?
cat "$T_TMP/go-test.log"
p=$(grep -cE '^ *--- PASS: ' "$T_TMP/go-test.log")
f=$(grep -cE '^ *--- FAIL: ' "$T_TMP/go-test.log")
T_PASSED=$((T_PASSED + p)); T_FAILED=$((T_FAILED + f))
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
	echo "FAIL: go test failed (rc $rc) without a failing test: a build error or a panic"
	T_FAILED=$((T_FAILED + 1))
fi
skipped=$(grep -cE '^ *--- SKIP: ' "$T_TMP/go-test.log")
if [ "$skipped" -ne 0 ]; then
	echo "FAIL: $skipped Go tests skipped here, where they all should run"
	T_FAILED=$((T_FAILED + 1))
fi
t_finish
