#!/bin/bash
# build-cnitool.sh - builds cnitool, the reference CNI runtime's command
# (libcni, as containerd and CRI-O use it), from Debian's source package
# golang-github-appc-cni against Debian's libcni (golang-github-appc-cni-dev),
# offline but for fetching that source package.  Nothing of the system
# changes: the package lists and sources live in the cache directory, which
# later runs reuse.  Prints the binary's path.
#
#   tests/tools/build-cnitool.sh [CACHE_DIR]   (default /var/cache/ovl-tests/cnitool)
set -eu
cache=${1:-/var/cache/ovl-tests/cnitool}
binary=$cache/cnitool
if [ -x "$binary" ]; then
	echo "$binary"
	exit 0
fi
command -v go >/dev/null || { echo "go is missing (apt-get install golang-go)" >&2; exit 1; }
[ -d /usr/share/gocode/src/github.com/containernetworking/cni/libcni ] ||
	{ echo "libcni is missing (apt-get install golang-github-appc-cni-dev)" >&2; exit 1; }
mkdir -p "$cache/apt/lists/partial" "$cache/source"
# A source list of our own from the system's Debian mirror: apt's own
# configuration and lists stay as they are.
mirror=$(grep -rhE '^[[:space:]]*(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
	grep -oE 'https?://[^ ]*/debian/?( |$)' | tr -d ' ' | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
echo "deb-src $mirror $suite main" > "$cache/apt/sources.list"
apt_options=(-o "Dir::Etc::sourcelist=$cache/apt/sources.list" -o Dir::Etc::sourceparts=-
	-o "Dir::State::lists=$cache/apt/lists" -o Debug::NoLocking=1)
apt-get "${apt_options[@]}" -qq update >&2
(cd "$cache/source" && apt-get "${apt_options[@]}" -qq source --download-only golang-github-appc-cni >&2 2>/dev/null)
tarball=$(ls "$cache"/source/golang-github-appc-cni_*.orig.tar.* | head -1)
mkdir -p "$cache/gopath/src/cnitool"
tar -xf "$tarball" -C "$cache/gopath/src/cnitool" --strip-components=2 --wildcards '*/cnitool/cnitool.go'
(cd "$cache/gopath/src/cnitool" &&
	GO111MODULE=off GOPATH="$cache/gopath:/usr/share/gocode" GOCACHE="$cache/go-build" \
		go build -o "$binary.tmp" . >&2)
mv "$binary.tmp" "$binary"
echo "$binary"
