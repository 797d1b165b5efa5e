#!/usr/bin/env python3
"""abi-layout.py - prints the public types of an abidw XML file (made with
--headers-dir include --drop-private-types) one line each: every defined
struct named ovl_* with its size and its members' names and offsets, every
enum ovl_* with its enumerators.  check-abi.sh compares these lines between
the baseline and the built library, because abidiff deems a member appended
to a struct harmless and does not report it.

usage: abi-layout.py FILE.abi"""
import sys
import xml.etree.ElementTree as ElementTree


def main(path):
    lines = set()
    for element in ElementTree.parse(path).iter():
        name = element.get("name", "")
        if not name.startswith("ovl_") or element.get("is-declaration-only") == "yes":
            continue
        if element.tag == "class-decl":
            members = []
            for member in element.findall("data-member"):
                variable = member.find("var-decl")
                members.append("%s@%s" % (variable.get("name"), member.get("layout-offset-in-bits")))
            lines.add("struct %s %s bits: %s" % (name, element.get("size-in-bits"), " ".join(members)))
        elif element.tag == "enum-decl":
            values = ["%s=%s" % (e.get("name"), e.get("value")) for e in element.findall("enumerator")]
            lines.add("enum %s: %s" % (name, " ".join(values)))
    for line in sorted(lines):
        print(line)


if __name__ == "__main__":
    main(sys.argv[1])
