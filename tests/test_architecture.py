"""The package's architecture, checked on its source with ``ast`` (no import, no extra dependency).

Each rule is one checker below, a function of a package folder returning its violations as strings;
each is run on wbentropy (minus the allow-list of today's known violations) and on a small synthetic
package in ``tmp_path`` that breaks it, so a checker that stopped finding anything would fail.

Rules: (a) physics/ imports nothing of the package but physics/ and constants; (b) integrate/ never
imports the quantities, their evaluation, the front ends or k-space; (c) nothing imports the command line
but ``__main__``; (d) the layers model <- kspace <- quantities <- evaluate <- api <- cli: a lower layer never
imports a higher one; (e) no import cycle; (f) no function longer than 80 lines; (g) argparse only in cli/.
Every import counts, at module level or inside a function.
"""
from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

import wbentropy

PACKAGE_DIR = Path(wbentropy.__file__).parent
#: the longest function allowed, counted from its ``def`` line to its last line
MAX_FUNCTION_LINES = 80
#: layers from the bottom: a module of one never imports a module of a later one
LAYERS = ("model", "kspace", "quantities", "evaluate", "api", "cli")
#: what integrate/ (machinery) must never import
NOT_FOR_INTEGRATE = ("quantities", "evaluate", "api", "cli", "verify", "plot", "results", "kspace")

#: Known violations, one entry each (each must still occur: the list only shrinks).
ALLOWED: set[str] = set()


# ------------------------------------------------------------------ reading a package
@functools.lru_cache(maxsize=None)
def _modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package folder ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


@functools.lru_cache(maxsize=None)
def _imports(root: Path) -> dict[str, set[str]]:
    """Module -> the names it imports (package modules resolved to the module; others as written), at any
    level (module, function, class, ``if TYPE_CHECKING``)."""
    modules = _modules(root)
    out = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for a in node.names:  # "from pkg import module" imports the module
                    found.add(f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source)
        out[name] = found
    return out


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _internal_edges(root: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    modules = _modules(root)
    return {src: {d for d in dsts if d in modules and d != src} for src, dsts in _imports(root).items()}


# ------------------------------------------------------------------ the rules
def physics_violations(root: Path) -> list[str]:
    """(a) physics/ imports nothing of the package except physics/ and constants."""
    pkg = root.name
    return [f"a: {src} imports {dst}" for src, dsts in _internal_edges(root).items() if _within(src, f"{pkg}.physics")
            for dst in sorted(dsts) if not (_within(dst, f"{pkg}.physics") or dst == f"{pkg}.constants")]


def integrate_violations(root: Path) -> list[str]:
    """(b) integrate/ never imports quantities, evaluate, api, cli, verify, plot, results, kspace."""
    pkg = root.name
    return [f"b: {src} imports {dst}" for src, dsts in _internal_edges(root).items()
            if _within(src, f"{pkg}.integrate") for dst in sorted(dsts)
            if any(_within(dst, f"{pkg}.{m}") for m in NOT_FOR_INTEGRATE)]


def cli_import_violations(root: Path) -> list[str]:
    """(c) nothing imports the command line except ``__main__``."""
    pkg = root.name
    return [f"c: {src} imports {dst}" for src, dsts in _internal_edges(root).items()
            if not _within(src, f"{pkg}.cli") and src != f"{pkg}.__main__"
            for dst in sorted(dsts) if _within(dst, f"{pkg}.cli")]


def _layer(name: str, pkg: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if _within(name, f"{pkg}.{layer}")), None)


def layer_violations(root: Path) -> list[str]:
    """(d) model <- kspace <- quantities <- evaluate <- api <- cli: no module imports a higher layer."""
    pkg = root.name
    out = []
    for src, dsts in _internal_edges(root).items():
        low = _layer(src, pkg)
        out += [f"d: {src} imports {dst}" for dst in sorted(dsts)
                if low is not None and _layer(dst, pkg) is not None and _layer(dst, pkg) > low]
    return out


def cycle_violations(root: Path) -> list[str]:
    """(e) no import cycle: each strongly connected set of modules (Tarjan) of more than one module."""
    edges = _internal_edges(root)
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            members = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                members.append(w)
                if w == v:
                    break
            if len(members) > 1:
                found.append("e: " + ", ".join(sorted(members)))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def long_function_violations(root: Path) -> list[str]:
    """(f) no function or method longer than :data:`MAX_FUNCTION_LINES` lines (def line to last line)."""
    out = []
    for name, path in _modules(root).items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                out.append(f"f: {name}.{node.name}")
    return sorted(out)


def argparse_violations(root: Path) -> list[str]:
    """(g) argparse is imported only in cli/."""
    pkg = root.name
    return [f"g: {src} imports argparse" for src, names in _imports(root).items()
            if not _within(src, f"{pkg}.cli") and any(_within(n, "argparse") for n in names)]


RULES = {"a": physics_violations, "b": integrate_violations, "c": cli_import_violations, "d": layer_violations,
         "e": cycle_violations, "f": long_function_violations, "g": argparse_violations}


# ------------------------------------------------------------------ wbentropy obeys them
@pytest.mark.parametrize("rule", RULES)
def test_wbentropy_obeys_the_rule(rule):
    found = RULES[rule](PACKAGE_DIR)
    assert [v for v in found if v not in ALLOWED] == []


def test_the_allow_list_names_only_known_rules_and_current_violations():
    assert all(entry[0] in RULES and entry[1:3] == ": " for entry in ALLOWED)
    found = {v for rule in RULES.values() for v in rule(PACKAGE_DIR)}
    assert sorted(ALLOWED - found) == []  # an entry whose violation is gone leaves the list


# ------------------------------------------------------------------ each checker finds a violation
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    """A synthetic package ``wbentropy`` with the given files (path -> source) and their __init__.py."""
    root = tmp_path / "wbentropy"
    for rel, source in {"__init__.py": "", "constants.py": "X = 1\n", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            (root / parent / "__init__.py").touch()
        path.write_text(source)
    return root


_BODY = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES - 1))  # a function of exactly 80 lines

#: rule -> (files of a clean package, files that break the rule, the violations the checker must report)
CASES = {
    "a": ({"physics/f.py": "from .. import constants\nfrom . import g\n", "physics/g.py": "import numpy\n"},
          {"physics/f.py": "def f():\n    from ..quantities import Q\n", "quantities.py": ""},
          ["a: wbentropy.physics.f imports wbentropy.quantities"]),
    "b": ({"integrate/u.py": "from ..physics import occ\n", "physics/occ.py": ""},
          {"integrate/u.py": "import wbentropy.kspace.geometry\n", "kspace/geometry.py": ""},
          ["b: wbentropy.integrate.u imports wbentropy.kspace.geometry"]),
    "c": ({"cli/__init__.py": "from . import options\n", "cli/options.py": "", "__main__.py": "from .cli import x\n"},
          {"plot.py": "from .cli.options import add\n"},
          ["c: wbentropy.plot imports wbentropy.cli.options"]),
    "d": ({"model.py": "", "kspace/interp.py": "from ..model import M\n", "api.py": "from .kspace import interp\n"},
          {"model.py": "def load():\n    from .api import compute\n"},  # a function-level import counts
          ["d: wbentropy.model imports wbentropy.api"]),
    "e": ({"a.py": "from . import b\n", "b.py": "from . import c\n", "c.py": ""},
          {"c.py": "def f():\n    from .a import x\n"},
          ["e: wbentropy.a, wbentropy.b, wbentropy.c"]),
    "f": ({"m.py": "def f():\n" + _BODY},
          {"m.py": "class C:\n    def g(self):\n    " + _BODY.replace("\n", "\n    ") + "    return 1\n"},
          ["f: wbentropy.m.g"]),
    "g": ({"cli/__init__.py": "import argparse\n", "verify.py": "import numpy\n"},
          {"verify.py": "def main():\n    from argparse import ArgumentParser\n"},
          ["g: wbentropy.verify imports argparse"]),
}


@pytest.mark.parametrize("rule", CASES)
def test_the_checker_passes_a_clean_package_and_finds_a_violation(rule, tmp_path):
    clean, breaking, expected = CASES[rule]
    assert RULES[rule](_package(tmp_path / "clean", clean)) == []
    assert RULES[rule](_package(tmp_path / "bad", {**clean, **breaking})) == expected
