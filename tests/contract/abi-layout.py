#!/usr/bin/env python3
"""abi-layout.py - the public types of abidw XML files (made with
--headers-dir include --drop-private-types), for check-abi.sh.

  abi-layout.py FILE.abi
      prints every defined struct named ovl_* with its size and its members'
      names and offsets, every enum ovl_* with its enumerators, one a line:
      check-abi.sh compares them between the baseline and the built library,
      because abidiff deems a member appended to a struct harmless;
  abi-layout.py --appended OLD.abi NEW.abi
      exits 1, naming them, unless every struct of OLD is in NEW with its
      members in place: an option struct (its first member is "size") may
      gain members at its end, any other struct (ovl_peer and ovl_prefix
      are passed in arrays or by value) must not change at all."""
import sys
import xml.etree.ElementTree as ElementTree


def structs(path):
    """{name: [(member, offset), ...]} of the defined ovl_* structs."""
    found = {}
    for element in ElementTree.parse(path).iter("class-decl"):
        name = element.get("name", "")
        if name.startswith("ovl_") and element.get("is-declaration-only") != "yes":
            found[name] = [(member.find("var-decl").get("name"), member.get("layout-offset-in-bits"))
                           for member in element.findall("data-member")]
    return found


def appended(old_path, new_path):
    old, new = structs(old_path), structs(new_path)
    problems = []
    for name, members in sorted(old.items()):
        grown = new.get(name)
        if grown is None:
            problems.append("struct %s is gone" % name)
        elif members and members[0][0] == "size":
            if grown[:len(members)] != members:
                problems.append("struct %s changed other than by members appended at its end" % name)
        elif grown != members:
            problems.append("struct %s changed: it has no size member, so it never may" % name)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


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
    if sys.argv[1] == "--appended":
        sys.exit(appended(sys.argv[2], sys.argv[3]))
    main(sys.argv[1])
