#!/bin/sh
# check-layers.sh - the library's folders are layers and calls go one way:
# agent -> (link, store, lease) -> (netlink, core).  Reads which file uses
# which from the symbols of the built objects (nm), so it sees every call
# and every table of function pointers, not only #includes, and fails on
#  - a file that uses a file of a folder it may not depend on, and
#  - a cycle of uses that joins files of different folders.
# Run by make check after the library is built; OVL_LAYERS_SHOW=1 prints the
# cross-folder uses it found.
set -u
builddir=${top_builddir:-.}
exec python3 - "$builddir" <<'EOF'
import collections, glob, os, re, subprocess, sys

build = sys.argv[1]
# May depend on (besides itself); a folder's subfolders count as itself
# toward the folders above it (store/file is part of store).
allowed = {
    "core": set(),
    "netlink": {"core"},
    "lease": {"core"},
    "store": {"lease", "core"},
    "link": {"netlink", "core"},
    "agent": {"link", "store", "lease", "netlink", "core"},
}
passed = failed = 0

def check(name, problems):
    global passed, failed
    if problems:
        failed += 1
        print("FAIL: " + name)
        for p in problems:
            print("  " + p)
    else:
        passed += 1
        print("PASS: " + name)

objects = glob.glob(os.path.join(build, "libovl", "**", ".libs", "*.o"), recursive=True)
if not objects:
    check("library objects found", ["no objects under %s/libovl/*/.libs" % build])
    print("TESTS: %d %d" % (passed, failed))
    sys.exit(1)

defined, used = {}, collections.defaultdict(set)
for obj in objects:
    rel = os.path.relpath(obj, os.path.join(build, "libovl"))
    folder = os.path.dirname(os.path.dirname(rel))
    source = re.sub(r"^.*core_la-", "", os.path.basename(rel))[:-2]
    name = folder + "/" + source
    for line in subprocess.run(["nm", obj], capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRCV":
            defined[parts[2]] = name
        elif len(parts) == 2 and parts[0] == "U":
            used[name].add(parts[1])

edges = collections.defaultdict(dict)   # file -> {file: first symbol}
for name, symbols in used.items():
    for symbol in sorted(symbols):
        target = defined.get(symbol)
        if target and target != name:
            edges[name].setdefault(target, symbol)

def folder(name):
    return os.path.dirname(name)

def layer(name):
    return folder(name).split("/")[0]

problems = []
for name in sorted(edges):
    for target, symbol in sorted(edges[name].items()):
        if folder(name) != folder(target) and os.environ.get("OVL_LAYERS_SHOW"):
            print("  %s -> %s (%s)" % (name, target, symbol))
        if layer(name) != layer(target) and layer(target) not in allowed.get(layer(name), set()):
            problems.append("%s uses %s (%s): %s may not depend on %s"
                            % (name, target, symbol, layer(name), layer(target)))
for name in sorted(defined.values()):
    if layer(name) not in allowed:
        problems.append("%s is in no known layer (add it to check-layers.sh)" % name)
check("calls go one way between layers", sorted(set(problems)))

# Strongly connected components (Tarjan, iterative enough for ~60 files).
index, low, stack, on_stack, components = {}, {}, [], set(), []
def visit(node):
    work = [(node, iter(edges.get(node, {})))]
    index[node] = low[node] = len(index)
    stack.append(node); on_stack.add(node)
    while work:
        current, children = work[-1]
        for child in children:
            if child not in index:
                index[child] = low[child] = len(index)
                stack.append(child); on_stack.add(child)
                work.append((child, iter(edges.get(child, {}))))
                break
            if child in on_stack:
                low[current] = min(low[current], index[child])
        else:
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[current])
            if low[current] == index[current]:
                component = []
                while True:
                    member = stack.pop(); on_stack.discard(member)
                    component.append(member)
                    if member == current:
                        break
                components.append(sorted(component))
for node in sorted(set(defined.values()) | set(edges)):
    if node not in index:
        visit(node)
problems = []
for component in components:
    if len({folder(n) for n in component}) > 1:
        problems.append("cycle across folders: " + ", ".join(component))
check("no cycle between files of different folders", problems)
print("TESTS: %d %d" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
