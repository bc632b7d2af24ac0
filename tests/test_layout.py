"""The shape of the code: the pipeline's stages as packages, no import cycles, only public APIs of
third-party packages, and a test suite that needs nothing outside the repository."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "clearrec_desktop"
STAGES = ("ingest", "screen", "reconcile", "workspace", "outputs")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_modules(path: Path, known: set[str]) -> set[str]:
    """The project modules a file imports, anywhere in it (function-level imports included):
    ``from . import x`` counts as importing module ``x`` when it is one."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)
    return {m for m in found if m in known and m != name}


def _graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    known = {_module_name(f) for f in files}
    graph = {_module_name(f): _imported_modules(f, known) for f in files}
    # a package's __init__ runs before any of its modules: drop package nodes from the edges
    packages = {_module_name(f) for f in files if f.name == "__init__.py"}
    return {m: deps - packages for m, deps in graph.items() if m not in packages}


def test_core_is_in_pipeline_stages():
    core = PACKAGE / "core"
    for stage in STAGES:
        assert (core / stage / "__init__.py").is_file(), f"core/{stage}/ is missing"
    flat = sorted(p.name for p in core.glob("*.py") if p.name != "__init__.py")
    # what is left at the top of core/ is what every stage shares, plus the pipeline that joins them
    assert flat == ["demo.py", "demo_county.py", "errors.py", "offline.py", "pipeline.py", "safety.py"]


def test_gui_has_one_module_per_view():
    views = sorted(p.stem for p in (PACKAGE / "gui" / "views").glob("*.py") if p.stem != "__init__")
    assert views == ["activity", "documents", "import_view", "lookup", "overview", "policy", "reconcile", "reports",
                     "review"]
    assert (PACKAGE / "gui" / "widgets" / "__init__.py").is_file()


def test_no_module_imports_one_that_imports_it_back():
    graph = _graph()
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_layers_point_one_way():
    """core never imports the GUI or the command line; a stage never imports a later one, except
    that outputs read the workspace's decisions through plain frames (no import needed)."""
    order = {f"clearrec_desktop.core.{s}": i for i, s in enumerate(STAGES)}
    for mod, deps in _graph().items():
        if mod.startswith("clearrec_desktop.core"):
            assert not any(d.startswith(("clearrec_desktop.gui", "clearrec_desktop.cli")) for d in deps), mod
        stage = next((i for p, i in order.items() if mod.startswith(p + ".")), None)
        if stage is None:
            continue
        for dep in deps:
            later = next((i for p, i in order.items() if dep.startswith(p + ".")), None)
            assert later is None or later <= stage, f"{mod} imports {dep}, a later stage"


def _third_party_private(path: Path) -> list[str]:
    bad = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for n in names:
            top = n.split(".")[0]
            if top in ("clearrec_desktop", "__future__"):
                continue
            if any(part.startswith("_") for part in n.split(".")[1:]):
                bad.append(n)
    return bad


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_module_of_a_third_party_package(path):
    assert not _third_party_private(path)


def test_the_private_import_check_catches_one(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from openpyxl.worksheet._writer import WorksheetWriter\nimport polars._utils\n")
    assert _third_party_private(probe) == ["openpyxl.worksheet._writer", "polars._utils"]


_OUTSIDE = re.compile(r"""["'/\\]shared[/\\"']|\.\./|parents\[(\d+)\]""")


@pytest.mark.parametrize("path", sorted([*(REPO / "tests").rglob("*.py"), *(REPO / "benchmarks").glob("*.py")]),
                         ids=lambda p: str(p.relative_to(REPO)))
def test_tests_and_benchmarks_read_only_the_repository(path):
    """A clone has nothing beside it: no path climbs out of the repository."""
    depth = len(path.relative_to(REPO).parts) - 1  # parents[depth] is the repository
    for m in _OUTSIDE.finditer(path.read_text(encoding="utf-8")):
        if m.group(1) is not None:
            assert int(m.group(1)) <= depth, f"{path.name}: {m.group(0)} climbs out of the repository"
        elif path.name != "test_layout.py":
            raise AssertionError(f"{path.name}: {m.group(0)!r} points outside the repository")
