"""Fail when project modules import each other in a cycle (function-local imports included).

import-linter's layers contract keeps the apps one way; this check covers modules within one room too. It reads
the same graph (grimp: every import statement, at module level or inside a function); imports under
`if TYPE_CHECKING:` are left out, as they never run. Run by scripts/test.sh and `make lint`.
"""

import sys
from pathlib import Path

import grimp

ROOTS = ("dealfinder", "properties", "leads", "buyers", "sync")


def cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    graph = grimp.build_graph(*ROOTS, exclude_type_checking_imports=True)
    found = cycles(graph)
    for component in found:
        print("import cycle:", " <-> ".join(component))
        for module in component:
            inside = sorted(set(graph.find_modules_directly_imported_by(module)) & set(component))
            for target in inside:
                lines = graph.get_import_details(importer=module, imported=target)
                print(f"  {module} -> {target} (l.{', l.'.join(str(d['line_number']) for d in lines)})")
    print(f"{len(graph.modules)} modules, {len(found)} import cycles")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
