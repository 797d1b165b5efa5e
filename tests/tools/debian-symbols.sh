#!/bin/sh
# debian-symbols.sh - prints debian/libovl0.symbols from libovl/libovl.sym
# and NEWS: every symbol with its version node, at the version whose NEWS
# entry names that node ("0.2.0 (LIBOVL_0.2)" -> 0.2.0).  The package build
# checks the file against the library (dpkg-gensymbols -c4) and
# tests/debian/test-packages.sh against this output.
#
#   tests/tools/debian-symbols.sh > debian/libovl0.symbols
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
echo "libovl.so.0 libovl0 #MINVER#"
echo "* Build-Depends-Package: libovl-dev"
awk -v news="$top/NEWS" '
	BEGIN {
		while ((getline line < news) > 0)
			if (match(line, /^[0-9][0-9.]* \(LIBOVL_[0-9.]+/)) {
				split(line, words, /[ (,)]+/)
				version[words[2]] = words[1]
			}
	}
	/^LIBOVL_[0-9.]+ *\{/ {
		node = $1
		if (!(node in version)) { print "NEWS names no version for " node > "/dev/stderr"; exit 1 }
		printf " %s@%s %s\n", node, node, version[node]
		next
	}
	/^global:|^local:|^\}/ { next }
	/^[ \t]+[a-z_0-9]+;/ && node != "" {
		name = $1; sub(/;$/, "", name)
		if (name != "*") printf " %s@%s %s\n", name, node, version[node]
	}' "$top/libovl/libovl.sym" | sort
