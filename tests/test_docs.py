"""Commands shown in README.md and docs/ run as written (on reduced meshes where they are long)."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wbentropy.api import compute
from wbentropy.io.load import load_model
from wbentropy.results import Result

REPO = Path(__file__).resolve().parents[1]


def code_blocks(path: Path, lang: str) -> list[str]:
    """The fenced ```lang blocks of a Markdown file, in order."""
    return re.findall(rf"```{lang}\n(.*?)```", path.read_text(), flags=re.S)


def commands(block: str) -> list[list[str]]:
    """Shell commands of a block: backslash continuations joined, `&&` chains split, comments dropped."""
    text = block.replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        out += [shlex.split(part) for part in line.split("&&")]
    return out


def localise(argv: list[str]) -> list[str]:
    """Repository-relative data paths made absolute (the test runs in a temp folder)."""
    return [str(REPO / a) if a.startswith("data/") else a for a in argv]


def run_wbentropy(argv: list[str], cwd: Path) -> str:
    assert argv[0] == "wbentropy", argv
    proc = subprocess.run([sys.executable, "-m", "wbentropy.cli", *localise(argv[1:])], cwd=cwd,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def with_kmesh(argv: list[str], mesh) -> list[str]:
    i = argv.index("--kmesh")
    return argv[:i + 1] + [str(n) for n in mesh] + argv[i + 4:]


def option(argv: list[str], name: str, n: int = 1) -> list[str]:
    i = argv.index(name)
    return argv[i + 1:i + 1 + n]


def test_readme_main_job_on_a_reduced_mesh(tmp_path):
    """The README's first command (pip install . && wbentropy compute ...) runs on the bundled data as
    written except for a 6x6x6 mesh, prints the tables once, and gives what the API gives; ``show``
    prints the same tables from the file."""
    block = code_blocks(REPO / "README.md", "bash")[0]
    cmds = commands(block)
    assert cmds[0] == ["pip", "install", "."]
    assert len(cmds) == 2  # compute prints the tables itself: no `&& wbentropy show` printing them twice
    compute_cmd = cmds[1]
    assert compute_cmd[:2] == ["wbentropy", "compute"]
    assert option(compute_cmd, "--hr")[0].startswith("data/Fe_") and option(compute_cmd, "--win")[0].startswith("data/")
    small = with_kmesh(compute_cmd, (6, 6, 6))
    printed = run_wbentropy(small, tmp_path)
    assert printed.count("## ahc  [S/cm]") == 1 and printed.count("## entropy_hall  [A/(m*K)]") == 1
    out = option(compute_cmd, "--out")[0]
    text = run_wbentropy(["wbentropy", "show", out], tmp_path)
    assert text == printed
    res = Result.load(tmp_path / out)
    model = load_model(**{name: REPO / option(compute_cmd, f"--{name}")[0] for name in ("hr", "r", "wsvec", "win")})
    start, stop, step = (float(x) for x in option(compute_cmd, "--mu-range", 3))
    symmetry = {}
    if "--symmetrize" in compute_cmd:  # the same symmetrization through the API (checked, then projected)
        symmetry = dict(symmetrize=True, magmom=[float(x) for x in option(compute_cmd, "--magmom", 3)])
        assert res.attrs["input_symmetry_group"] == "4/mm'm'" and res.attrs["symmetry_reduction"]
    ref = compute(model=model, quantities=["ahc", "entropy_hall"],
                  temperatures=[float(t) for t in option(compute_cmd, "--temperature", 3)],
                  mus=np.arange(start, stop + 1e-9, step), kmesh=(6, 6, 6), **symmetry)
    assert np.allclose(res.mu, ref.mu)
    assert np.allclose(res["ahc"], ref["ahc"], rtol=1e-12, atol=1e-9)
    assert np.max(np.abs(res["ahc"])) > 100.0  # a ferromagnet: S/cm scale anomalous Hall effect


def test_cli_md_plot_example(tmp_path):
    block = next(b for b in code_blocks(REPO / "docs" / "cli.md", "bash") if "wbentropy plot" in b)
    cmds = commands(block)
    assert [c[1] for c in cmds] == ["compute", "plot"]
    run_wbentropy(cmds[0], tmp_path)
    written = run_wbentropy(cmds[1], tmp_path).split()
    assert {Path(p).name for p in written} == {"qwz_hall.png", "qwz_entropy_production.png", "qwz_kslice.png"}
    for p in written:
        assert (tmp_path / p).stat().st_size > 1000


@pytest.mark.mpi
def test_installation_md_mpi_command_equals_serial(tmp_path):
    """docs/installation.md: `OMP_NUM_THREADS=1 mpiexec -n 2 wbentropy compute ...` on the bundled
    Fe data (4x4x4 mesh here) gives the serial numbers."""
    import shutil

    if shutil.which("mpiexec") is None:
        pytest.skip("mpiexec not available")
    block = next(b for b in code_blocks(REPO / "docs" / "installation.md", "bash") if "mpiexec" in b)
    argv = commands(block)[0]
    assert argv[:4] == ["OMP_NUM_THREADS=1", "mpiexec", "-n", "2"]
    wb = with_kmesh(argv[4:], (4, 4, 4))
    env = dict(__import__("os").environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(["mpiexec", "-n", "2", sys.executable, "-m", "wbentropy.cli", *localise(wb[1:])],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    out = option(wb, "--out")[0]
    par = Result.load(tmp_path / out)
    assert par.attrs["mpi_ranks"] == 2
    serial = wb[:wb.index("--out") + 1] + ["serial.h5"] + wb[wb.index("--out") + 2:]
    run_wbentropy(serial, tmp_path)
    ser = Result.load(tmp_path / "serial.h5")
    scale = np.max(np.abs(ser["ahc"]))
    assert scale > 1.0
    # same batches; only BLAS round-off differs between a threaded serial run and 2 ranks
    assert np.max(np.abs(par["ahc"] - ser["ahc"])) < 1e-9 * scale


def test_tutorial_dft_plot_commands_on_a_reduced_mesh(tmp_path):
    """docs/tutorial_dft.md, section 3: the Fe scan and its figures (4x4x4 and a 10x10 slice here)."""
    block = next(b for b in code_blocks(REPO / "docs" / "tutorial_dft.md", "bash") if "wbentropy plot" in b)
    cmds = commands(block)
    assert [c[1] for c in cmds] == ["compute", "plot"]
    run_wbentropy(with_kmesh(cmds[0], (4, 4, 4)), tmp_path)
    plot = cmds[1]
    i = plot.index("--kslice-mesh")
    written = run_wbentropy(plot[:i + 1] + ["10"] + plot[i + 2:], tmp_path).split()
    assert {Path(p).name for p in written} == {"fe_scan_hall.png", "fe_scan_entropy_production.png",
                                                "fe_scan_kslice.png"}


@pytest.mark.mpi
def test_tutorial_dft_adaptive_command_on_a_small_budget(tmp_path):
    """docs/tutorial_dft.md, section 2: the adaptive MPI command runs as written, with a budget of
    20 000 k-points instead of millions (the full run takes minutes): it stops unconverged, says so,
    and stores an error estimate beside the value; 2 ranks give what 1 rank gives."""
    import shutil

    if shutil.which("mpiexec") is None:
        pytest.skip("mpiexec not available")
    block = next(b for b in code_blocks(REPO / "docs" / "tutorial_dft.md", "bash") if "--tolerance" in b)
    argv = commands(block)[0]
    assert argv[:3] == ["mpiexec", "-n", "2"] and argv[3:5] == ["wbentropy", "compute"]
    wb = argv[3:]
    i = wb.index("--max-kpoints")
    wb = wb[:i + 1] + ["20000"] + wb[i + 2:] + ["--no-progress"]
    proc = subprocess.run(["mpiexec", "-n", "2", sys.executable, "-m", "wbentropy.cli", *localise(wb[1:])],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "adaptive integration stopped before reaching the tolerance" in proc.stderr
    out = option(wb, "--out")[0]
    par = Result.load(tmp_path / out)
    assert par.attrs["mpi_ranks"] == 2 and not par.attrs["converged"]
    assert 0 < par.attrs["num_kpoints"] <= 20000
    err = par.quantities["ahc"].error
    assert err is not None and np.all(np.isfinite(err)) and np.max(err) > 0
    serial = wb[:wb.index("--out") + 1] + ["serial.h5"] + wb[wb.index("--out") + 2:]
    run_wbentropy(serial, tmp_path)
    ser = Result.load(tmp_path / "serial.h5")
    assert ser.attrs["num_kpoints"] == par.attrs["num_kpoints"]
    scale = np.max(np.abs(ser["ahc"]))
    assert np.max(np.abs(par["ahc"] - ser["ahc"])) <= 1e-12 * scale
