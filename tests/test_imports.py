"""House rule: no import cycle between the project's modules.

:func:`import_graph` reads every module's imports (also those inside functions) from its
source, without importing anything; :func:`cycles` lists the groups of modules that import
each other, directly or round a loop. Run ``python -m tests.test_imports`` to print them.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the project's own code (packages and the page's entry point)
PACKAGES = ("geo", "analysis", "ui")
SCRIPTS = ("app.py",)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    for script in SCRIPTS:
        if (root / script).exists():
            found[module_name(root / script, root)] = root / script
    return found


def _imported(node: ast.AST, name: str, is_package: bool, known: set[str]) -> set[str]:
    """The project modules one import statement names: ``import a.b`` → ``a.b``;
    ``from a import b`` → ``a.b`` when ``b`` is a submodule, else ``a``."""
    out: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name in known:
                out.add(alias.name)
        return out
    if not isinstance(node, ast.ImportFrom):
        return out
    base = node.module or ""
    if node.level:  # relative: from the module's package
        package = name.split(".") if is_package else name.split(".")[:-1]
        package = package[:len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        if sub in known:
            out.add(sub)
        elif base in known:
            out.add(base)
    return out


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the project modules it imports (at the top or inside functions; those
    only under ``if TYPE_CHECKING:`` too, as they name a real dependency)."""
    modules = _modules(Path(root))
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(tree):
            edges |= _imported(node, name, is_package, known)
        edges.discard(name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (each sorted), i.e. the
    modules that reach themselves through their imports; a package's ``__init__`` that
    imports its own modules is not counted as a loop with them (Python imports the package
    first anyway), so edges from a module to a package that contains it are left out."""
    def inside(a: str, b: str) -> bool:  # b is a package that contains a
        return a.startswith(b + ".")

    edges = {a: {b for b in bs if b in graph and not inside(a, b)} for a, bs in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    group.append(top)
                    if top == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return sorted(found)


def test_cycles_finds_a_loop_and_only_the_loop():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "p": set(), "p.x": {"p"},
             "p.y": {"p.x"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_import_graph_reads_imports_inside_functions(tmp_path):
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "__init__.py").write_text("")
    (tmp_path / "analysis" / "one.py").write_text("def f():\n    from analysis import two\n")
    (tmp_path / "analysis" / "two.py").write_text("from analysis.one import f\n")
    graph = import_graph(tmp_path)
    assert graph["analysis.one"] == {"analysis.two"}
    assert cycles(graph) == [["analysis.one", "analysis.two"]]


def test_no_import_cycle_among_the_analysis_modules():
    graph = import_graph(ROOT)
    loops = [group for group in cycles(graph) if any(m.startswith("analysis") for m in group)]
    assert loops == []


def test_no_import_cycle_in_the_project():
    assert cycles(import_graph(ROOT)) == []


if __name__ == "__main__":
    for group in cycles(import_graph(ROOT)):
        print(" <-> ".join(group))


def _inner_project_imports(root: Path = ROOT) -> list[tuple[str, int, str]]:
    """Imports of the project's own modules written inside functions: ``(file, line,
    text)``."""
    found = []
    for name, path in _modules(root).items():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for fn in ast.walk(ast.parse(source)):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom):
                    module = node.module or ""
                    ours = node.level > 0 or module.split(".")[0] in PACKAGES
                elif isinstance(node, ast.Import):
                    ours = any(a.name.split(".")[0] in PACKAGES for a in node.names)
                else:
                    continue
                if ours:
                    found.append((str(path.relative_to(root)), node.lineno,
                                  lines[node.lineno - 1].strip()))
    return found


def test_a_module_names_its_dependencies_at_its_head():
    """An import of the project's own code inside a function hides a dependency; the few
    kept there say why on the same line (a drawing library loaded only when a PDF is asked
    for, so that the page starts without it)."""
    unexplained = [f"{f}:{n}: {text}" for f, n, text in _inner_project_imports() if "#" not in text]
    assert unexplained == [], unexplained
    assert len(_inner_project_imports()) <= 10


def test_the_inner_import_check_sees_an_import_inside_a_function(tmp_path):
    (tmp_path / "geo").mkdir()
    (tmp_path / "geo" / "one.py").write_text("def f():\n    from geo import two\n")
    (tmp_path / "geo" / "two.py").write_text("X = 1\n")
    assert _inner_project_imports(tmp_path) == [("geo/one.py", 2, "from geo import two")]
