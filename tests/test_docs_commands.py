"""Every command and Python block of README.md and docs/ runs verbatim on what the repository ships.

A page's fenced blocks are taken in page order:

- ```` ```bash ```` and ```` ```python ```` blocks are run, in a scratch folder that holds links to the
  repository's ``data/``, ``examples/`` and ``benchmarks/`` (the pages say "run from the repository
  root"), one folder per page so that a block reads what an earlier block of the page wrote.
  Consecutive Python blocks run as one script (a page's Python is one session).  The install
  prefix ``pip install . &&`` and ``pip install ...`` lines are dropped: the package under test is
  already installed.
- A block preceded by ``<!-- docs-test: skip REASON -->`` is not run (cluster launchers, DFT codes,
  hour-long benchmarks, the test command itself); the reason is required.
- ``<!-- docs-test: replace 'OLD' 'NEW' -->`` before a block runs it with OLD replaced by NEW (small
  meshes where the page says the full run takes long).
- ``<!-- docs-test: output -->`` before a plain (no language) block marks it as an excerpt of what the
  block before it prints: every line of the excerpt other than ``...`` and ``$ command`` lines must
  appear in that output, in order (spaces normalised); a ``*`` token stands for any one token
  (round-off columns).

Blocks without a language (synopses, file layouts, outputs not marked) are not run.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = ["README.md"] + sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md"))
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_MARK = re.compile(r"<!--\s*docs-test:\s*(.*?)\s*-->")
_RUN = ("bash", "python")
_TIMEOUT = 600


@dataclass
class Block:
    page: str
    line: int
    lang: str
    text: str
    marks: list = field(default_factory=list)

    @property
    def skip(self) -> str | None:
        for m in self.marks:
            if m.startswith("skip"):
                return m[4:].strip()
        return None

    @property
    def is_output(self) -> bool:
        return "output" in self.marks

    def code(self) -> str:
        text = self.text
        for m in self.marks:
            if m.startswith("replace"):
                old, new = shlex.split(m[7:])
                if old not in text:
                    raise AssertionError(f"{self.page}:{self.line}: replace mark: {old!r} is not in the block")
                text = text.replace(old, new)
        if self.lang == "bash":
            text = re.sub(r"^(\s*)pip install \. && ", r"\1", text, flags=re.M)
            text = "\n".join(ln for ln in text.splitlines() if not re.match(r"\s*(python3? -m )?pip install", ln))
        return text


def blocks_of(page: str) -> list[Block]:
    """The fenced blocks of a page with the docs-test marks written just before each."""
    text = (REPO / page).read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        before = text[:m.start()].rstrip("\n").splitlines()
        marks = []
        while before and _MARK.fullmatch(before[-1].strip()):
            marks.insert(0, _MARK.fullmatch(before.pop().strip()).group(1))
        out.append(Block(page=page, line=text[:m.start()].count("\n") + 1, lang=m.group(1), text=m.group(2),
                         marks=marks))
    return out


def _steps(blocks: list[Block]):
    """Runnable steps of a page: (kind, [blocks], output excerpts that follow)."""
    steps = []
    for b in blocks:
        if b.is_output:
            if not steps:
                raise AssertionError(f"{b.page}:{b.line}: an output excerpt before any run block")
            steps[-1][2].append(b)
        elif b.lang in _RUN and b.skip is None:
            if b.lang == "python" and steps and steps[-1][0] == "python" and not steps[-1][2]:
                steps[-1][1].append(b)
            else:
                steps.append((b.lang, [b], []))
    return steps


def _scratch(tmp_path: Path) -> Path:
    for name in ("data", "examples", "benchmarks"):
        (tmp_path / name).symlink_to(REPO / name)
    return tmp_path


def _run(kind: str, blocks: list[Block], cwd: Path) -> str:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    if kind == "python":
        script = "\n".join(b.code() for b in blocks)
        cmd = [sys.executable, "-c", script]
    else:
        cmd = ["bash", "-e", "-o", "pipefail", "-c", blocks[0].code()]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=_TIMEOUT)
    where = ", ".join(f"{b.page}:{b.line}" for b in blocks)
    assert proc.returncode == 0, (f"{where} failed (exit {proc.returncode}):\n"
                                  f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout + proc.stderr


def _contains(tokens: list[str], want: list[str]) -> bool:
    """``want`` (with ``*`` wildcards) is a run of consecutive tokens of ``tokens``."""
    n = len(want)
    return any(all(w in ("*", t) for w, t in zip(want, tokens[i:i + n])) for i in range(len(tokens) - n + 1))


def check_excerpt(excerpt: Block, output: str) -> None:
    """Every line of the excerpt (but ``...`` and ``$ ...``) appears in the output, in order."""
    lines = [ln.split() for ln in output.splitlines()]
    pos = 0
    for raw in excerpt.text.splitlines():
        want = raw.split()
        if not want or want == ["..."] or want[0] == "$":
            continue
        hit = next((i for i in range(pos, len(lines)) if _contains(lines[i], want)), None)
        assert hit is not None, (f"{excerpt.page}:{excerpt.line}: the page shows\n  {raw}\nbut the command printed "
                                 f"(from line {pos}):\n" + "\n".join(output.splitlines()[pos:pos + 40]))
        pos = hit + 1


def test_every_run_block_is_marked_or_runnable():
    """bash/python blocks either run or say why not; marks are spelled right."""
    for page in PAGES:
        for b in blocks_of(page):
            for m in b.marks:
                assert re.match(r"(skip \S|replace |output$)", m), f"{page}:{b.line}: unknown docs-test mark {m!r}"
            if b.skip is not None:
                assert b.lang in _RUN, f"{page}:{b.line}: skip mark on a block that would not run anyway"
            if b.is_output:
                assert b.lang in ("", "text"), f"{page}:{b.line}: an output excerpt must be a plain block"


def test_checker_finds_a_changed_number():
    """The excerpt check fails on a number that differs from the printed one."""
    ex = Block(page="p", line=1, lang="", text="## ahc  [S/cm]\n...\n 0.000  -1.000000  *  -5.642637e+02\n")
    check_excerpt(ex, "## ahc  [S/cm]\nT mu\n    0.000    -1.000000  1e-33  -5.642637e+02\n")
    for wrong in ("0.000  -1.000000  1e-33  -5.809033e+02", "0.000  -1.000000  -5.642637e+02", "## ahc"):
        with pytest.raises(AssertionError, match="the page shows"):
            check_excerpt(ex, "## ahc  [S/cm]\n" + wrong + "\n")


@pytest.mark.parametrize("page", [p for p in PAGES if _steps(blocks_of(p))])
def test_page_commands_run(page, tmp_path):
    cwd = _scratch(tmp_path)
    for kind, blocks, excerpts in _steps(blocks_of(page)):
        output = _run(kind, blocks, cwd)
        for ex in excerpts:
            check_excerpt(ex, output)
