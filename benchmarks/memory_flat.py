"""Peak memory (RSS) of `wbentropy compute` as the k-mesh grows: flat, set by --max-memory.

Each run is a fresh subprocess (`python -m wbentropy.cli compute ...` wrapped to report
``resource.getrusage(RUSAGE_SELF).ru_maxrss``), on bcc Fe from the shared data (default) or
the bundled QWZ model.  A 1x1x1 mesh gives the baseline (interpreter, numpy, WannierBerri,
the model); the meshes after it should all peak at the same RSS, below baseline + budget.

    python benchmarks/memory_flat.py                       # Fe 8^3, 16^3, 32^3 at --max-memory 64
    python benchmarks/memory_flat.py --meshes 16 32 --max-memory 128
    python benchmarks/memory_flat.py --model qwz --meshes 64 128 256 512
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _data import EF_FE, REPO, material

WRAPPER = ("import resource, sys\n"
           "from wbentropy.cli import main\n"
           "rc = main(sys.argv[1:])\n"
           "sys.stderr.write('MAXRSS_KB %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
           "sys.exit(rc)\n")


def run(source: list[str], mesh: tuple[int, int, int], args, out: Path) -> tuple[float, float]:
    """(peak RSS in MB, wall time in s) of one compute run."""
    cmd = [sys.executable, "-c", WRAPPER, "compute", *source, "--kmesh", *map(str, mesh),
           "--temperature", *map(str, args.temperature), "--mu", *map(str, args.mu),
           "--quantities", args.quantities, "--tau", "10", "--out", str(out)]
    if args.max_memory is not None:
        cmd += ["--max-memory", str(args.max_memory)]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    kb = int(next(ln.split()[1] for ln in proc.stderr.splitlines() if ln.startswith("MAXRSS_KB")))
    return kb / 1024.0, wall


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=("fe", "qwz"), default="fe")
    p.add_argument("--meshes", nargs="+", type=int, default=None, help="N for N^3 (Fe) or N^2 x 1 (QWZ) meshes")
    p.add_argument("--max-memory", type=float, default=64.0, help="MB (pass 0 for the automatic default)")
    p.add_argument("--quantities", default="ahc,entropy_hall,entropy_production")
    p.add_argument("--temperature", nargs="+", type=float, default=[300.0])
    p.add_argument("--mu", nargs="+", type=float, default=None)
    args = p.parse_args()
    if args.max_memory == 0:
        args.max_memory = None
    if args.model == "fe":
        source = ["--w90", str(material("Fe_Wannier90") / "Fe")]
        args.mu = args.mu or [EF_FE - 0.1, EF_FE, EF_FE + 0.1]
        meshes = [(n, n, n) for n in (args.meshes or [8, 16, 32])]
    else:
        source = ["--tb", str(REPO / "data" / "qwz_tb.dat")]
        args.mu = args.mu or [-1.5, -1.0, 1.2]
        meshes = [(n, n, 1) for n in (args.meshes or [64, 128, 256])]
    print(f"model {args.model}, quantities {args.quantities}, {len(args.temperature)} T x {len(args.mu)} mu, "
          f"--max-memory {args.max_memory if args.max_memory is not None else 'auto'} MB")
    print(f"{'mesh':>14} {'k-points':>10} {'peak RSS MB':>12} {'over baseline':>14} {'wall s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        base, wall = run(source, (1, 1, 1), args, Path(tmp) / "base.h5")
        print(f"{'1x1x1':>14} {1:>10} {base:12.1f} {0.0:14.1f} {wall:8.1f}   (baseline)")
        for mesh in meshes:
            rss, wall = run(source, mesh, args, Path(tmp) / "r.h5")
            n = mesh[0] * mesh[1] * mesh[2]
            print(f"{'x'.join(map(str, mesh)):>14} {n:>10} {rss:12.1f} {rss - base:14.1f} {wall:8.1f}", flush=True)


if __name__ == "__main__":
    main()
