"""The repository's own tooling: the linter passes and the documentation builds without a broken link."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(*argv, cwd=REPO):
    return subprocess.run([sys.executable, "-m", *argv], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_ruff_passes():
    """`ruff check` with the configuration of pyproject.toml finds nothing in the package, tests and benchmarks."""
    pytest.importorskip("ruff")
    proc = _run("ruff", "check", "--no-cache", "wbentropy", "tests", "benchmarks", "docs")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_docs_build_strict(tmp_path):
    """`mkdocs build --strict` (mkdocs.yml) builds every page of docs/: no page missing from the nav, no broken link."""
    pytest.importorskip("mkdocs")
    proc = _run("mkdocs", "build", "--strict", "-d", str(tmp_path / "site"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "adaptive" / "index.html").is_file()


def test_docs_build_fails_on_a_broken_link(tmp_path):
    """The docs build is not vacuous: a link to a missing page fails it."""
    pytest.importorskip("mkdocs")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# x\n\nSee [the missing page](missing.md).\n")
    config = re.sub(r"nav:\n(  - .*\n)+", "nav:\n  - index.md\n", (REPO / "mkdocs.yml").read_text())
    (tmp_path / "mkdocs.yml").write_text(config)
    proc = _run("mkdocs", "build", "--strict", "-d", str(tmp_path / "site"), cwd=tmp_path)
    assert proc.returncode != 0 and "missing.md" in proc.stderr, proc.stderr
