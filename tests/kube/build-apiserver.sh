#!/bin/sh
# build-apiserver.sh - builds a real kube-apiserver and kubectl (v1.20.2) from
# Debian 12's `kubernetes` source package, offline after the download, into a
# cache outside the checkout; does nothing when the cache already has both.
# Prints the cache directory on its last line.
#
#   OVL_KUBE_CACHE   cache directory (default /var/cache/libovl-kube)
#
# Debian ships no kube-apiserver binary. The source is fetched through a
# private deb-src list so the system's apt sources stay untouched. Under Go
# 1.19 the vendored modern-go/reflect2 crashes the binary at start, so it is
# replaced by Debian's packaged copy before building.
set -eu
cache=${OVL_KUBE_CACHE:-/var/cache/libovl-kube}
if [ -x "$cache/kube-apiserver" ] && [ -x "$cache/kubectl" ]; then
	echo "$cache"
	exit 0
fi
need="golang-go rsync golang-github-modern-go-reflect2-dev dpkg-dev"
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2
fi
mkdir -p "$cache"
work=$(mktemp -d "${OVL_KUBE_SCRATCH:-/var/tmp}/libovl-kube-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# The mirror the system already uses, as a deb-src line of our own.
mirror=$(grep -hoE '^URIs: *http[^ ]*debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | sed 's/^URIs: *//')
[ -n "$mirror" ] || mirror=$(grep -hoE '^deb +http[^ ]*debian/? ' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
echo "deb-src $mirror bookworm main" > sources.list
mkdir -p lists/partial
apt="-o Dir::Etc::sourcelist=$work/sources.list -o Dir::Etc::sourceparts=- -o Dir::State::lists=$work/lists"
# shellcheck disable=SC2086
apt-get $apt update -q >&2
# shellcheck disable=SC2086
apt-get $apt source --download-only kubernetes >&2
dpkg-source -x kubernetes_*.dsc src >&2

cd src
rm -rf vendor/github.com/modern-go/reflect2
cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/reflect2
mkdir -p "$work/tmp"
TMPDIR=$work/tmp GOPATH=$PWD/.go GOPROXY=off GOFLAGS=-tags=providerless CGO_ENABLED=0 \
	make WHAT="cmd/kube-apiserver cmd/kubectl" KUBE_BUILD_PLATFORMS=linux/amd64 >&2
out=_output/local/bin/linux/amd64
# Install both atomically: a half-written binary must never look cached.
for b in kube-apiserver kubectl; do
	cp "$out/$b" "$cache/$b.tmp"
	mv "$cache/$b.tmp" "$cache/$b"
done
echo "$cache"
