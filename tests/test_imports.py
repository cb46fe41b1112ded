"""No import cycle among the project's modules (geo/, layers/, api/, maps/).

Every import that runs counts: at module level and inside functions (imported where used); an
import under ``if TYPE_CHECKING:`` never runs and does not. ``from pkg import name`` is an import
of the module ``pkg.name`` where that is a module, else of ``pkg``. The graph is read with
``ast``, nothing is imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "layers", "api", "maps")


def modules(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Module name → file, for every .py file of the packages (vendored files are not Python)."""
    out = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``node``, except the body of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        yield child
        if _type_checking(child):
            assert isinstance(child, ast.If)
            for other in child.orelse:
                yield other
                yield from _nodes(other)
        else:
            yield from _nodes(child)


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules that module ``name`` imports anywhere in its file (at run time)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _nodes(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..pkg import y
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m in known and m != name}


def graph(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    """Module → the project modules it imports."""
    mods = modules(root, packages)
    return {name: imports(name, path, set(mods)) for name, path in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    g = graph(ROOT)
    assert len(g) > 40  # the packages were found
    found = cycles(g)
    assert not found, "import cycles (function-level imports count too): " + "; ".join(
        " → ".join(c) for c in found
    )


def test_the_check_finds_a_circle_through_a_function_level_import(tmp_path):
    """The live/main/routes_admin circle of old, rebuilt: one import inside a function."""
    pkg = tmp_path / "api"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "main.py").write_text("from api import routes_admin\n")
    (pkg / "routes_admin.py").write_text("from api.live import reload\n")
    (pkg / "live.py").write_text("def reload():\n    from api.main import load\n")
    (pkg / "other.py").write_text("from . import live\n")
    typed = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from api import main\n"
    (pkg / "types.py").write_text(typed)
    g = graph(tmp_path, ("api",))
    assert g["api.other"] == {"api", "api.live"}
    assert g["api.types"] == set()  # never runs
    assert cycles(g) == [["api.live", "api.main", "api.routes_admin"]]
    (pkg / "live.py").write_text("def reload():\n    pass\n")
    assert cycles(graph(tmp_path, ("api",))) == []
