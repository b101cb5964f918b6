"""The architecture's rules, checked on the source text with :mod:`ast`: which module may import which.

:func:`read_tree` parses every module of a package folder (or texts given instead of some of
them); each ``check_*`` returns the violations of one rule as :class:`Violation` values.
Imports inside functions count as much as those at the top, and relative imports
(``from . import x``, ``from ..read import y``) are resolved to the modules they name.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

MODULE_LINES = 400
FUNCTION_LINES = 60
ENGINES = ("duckdb", "pyspark")


@dataclass(frozen=True)
class Import:
    """One imported module (``names``: what a from-import takes from it), at ``line`` of the importer."""

    module: str
    names: tuple[str, ...]
    line: int


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    lines: int
    is_package: bool
    imports: list[Import] = field(default_factory=list)


@dataclass(frozen=True)
class Violation:
    """A module breaking ``rule`` through ``subject`` (what it imports, its function, its cycle), so that an
    allowlist entry names exactly one breach; ``where`` (lines) is shown but not compared, as lines move."""

    rule: str
    module: str
    subject: str
    where: str = field(default="", compare=False)


def read_tree(root: Path, package: str, texts: dict[str, str] | None = None) -> dict[str, Module]:
    """Every module of the package in folder ``root``, by dotted name, with its imports resolved.

    ``texts`` (dotted name -> source) stands in for modules' files, or adds modules: a rule can be shown to
    fail on an altered text without touching the tree.
    """
    sources = {}
    for path in sorted(root.rglob("*.py")):
        parts = (package, *path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        sources[".".join(parts[:-1] if is_package else parts)] = (path, path.read_text(encoding="utf-8"), is_package)
    for name, text in (texts or {}).items():
        path, _, is_package = sources.get(name, (root / "memory.py", "", False))
        sources[name] = (path, text, is_package)
    modules = {name: Module(name, path, _parsed(text), len(text.splitlines()), is_package)
               for name, (path, text, is_package) in sources.items()}
    for module in modules.values():
        module.imports = list(_imports(module, modules))
    return modules


@lru_cache(maxsize=None)
def _parsed(text: str) -> ast.Module:
    """The syntax tree of a module's text, parsed once however many trees it is read into (nothing changes it)."""
    return ast.parse(text)


def _imports(module: Module, modules: dict[str, Module]):
    own_package = module.name if module.is_package else module.name.rpartition(".")[0]
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = own_package.split(".")[:len(own_package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            taken = []
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:  # a submodule: ``from . import columns``
                    yield Import(f"{base}.{alias.name}", (), node.lineno)
                else:
                    taken.append(alias.name)
            if taken:
                yield Import(base, tuple(taken), node.lineno)


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def check_cycles(modules: dict[str, Module]) -> list[Violation]:
    """Modules that import each other, directly or through others: one violation per cycle, naming its modules."""
    graph = {name: sorted({i.module for i in m.imports if i.module in modules and i.module != name})
             for name, m in modules.items()}
    return [Violation("no import cycle", min(cycle), " <-> ".join(cycle)) for cycle in _cycles(graph)]


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for following in graph[node]:
            if following not in index:
                visit(following)
                low[node] = min(low[node], low[following])
            elif following in on_stack:
                low[node] = min(low[node], index[following])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def check_facade(modules: dict[str, Module], facade: str, allowed: tuple[str, ...]) -> list[Violation]:
    """Modules other than ``allowed`` that import the façade ``facade``."""
    return [Violation("only the command line imports the façade", m.name, facade, f"line {i.line}")
            for m in modules.values() if m.name not in allowed for i in m.imports if i.module == facade]


def check_layers(modules: dict[str, Module], layer: str, forbidden: tuple[str, ...]) -> list[Violation]:
    """Modules in package ``layer`` that import from any of ``forbidden`` (packages, modules or outside packages)."""
    return [Violation(f"{layer} imports nothing from {', '.join(forbidden)}", m.name, i.module, f"line {i.line}")
            for m in modules.values() if _in(m.name, layer)
            for i in m.imports if any(_in(i.module, other) for other in forbidden)]


def check_private_names(modules: dict[str, Module]) -> list[Violation]:
    """From-imports, from one of the package's modules, of a name starting with one underscore (not a dunder)."""
    return [Violation("no private name imported across modules", m.name, f"{i.module}.{name}", f"line {i.line}")
            for m in modules.values() for i in m.imports if i.module in modules
            for name in i.names if name.startswith("_") and not name.startswith("__")]


def check_engines(modules: dict[str, Module], allowed: tuple[str, ...]) -> list[Violation]:
    """Modules outside the ``allowed`` packages that import DuckDB or Spark."""
    return [Violation("duckdb and pyspark only under " + " and ".join(allowed), m.name, i.module, f"line {i.line}")
            for m in modules.values() if not any(_in(m.name, package) for package in allowed)
            for i in m.imports if i.module.split(".")[0] in ENGINES]


def check_old_paths(modules: dict[str, Module], old_paths: set[str]) -> list[Violation]:
    """Modules importing one of the ``old_paths`` kept working only for other people's code."""
    return [Violation("no module imports an old path", m.name, name, f"line {i.line}")
            for m in modules.values() for i in m.imports
            for name in (i.module, *(f"{i.module}.{taken}" for taken in i.names)) if name in old_paths]


def check_module_lengths(modules: dict[str, Module], limit: int = MODULE_LINES) -> list[Violation]:
    """Modules of more than ``limit`` lines."""
    return [Violation(f"no module over {limit} lines", m.name, "", f"{m.lines} lines")
            for m in modules.values() if m.lines > limit]


def check_function_lengths(modules: dict[str, Module], limit: int = FUNCTION_LINES) -> list[Violation]:
    """Functions (and methods) of more than ``limit`` lines, from their ``def`` to their last line."""
    return [Violation(f"no function over {limit} lines", m.name, node.name,
                      f"{node.end_lineno - node.lineno + 1} lines from line {node.lineno}")
            for m in modules.values() for node in ast.walk(m.tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > limit]
