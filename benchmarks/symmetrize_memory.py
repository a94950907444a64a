"""Time and memory of the symmetrization of the bundled Fe_sa model (data/Fe_sa_*, M || z, 4/mm'm').

With ``--model fe_sym``: the shared ``Fe_sym`` data (``Fe:sp3d2;t2g``, M || -z; its checked step is refused,
timed to the refusal).

Three measurements, each after one untimed warm-up call (imports, irrep/sympy caches), in this process:

* ``wannierberri``: WannierBerri's own route, the model converted to a ``System_R``, ``System_R.symmetrize`` and
  the conversion back (``wbentropy.symmetry._symmetrize_system`` + ``from_system_r``): the reference;
* ``wbentropy``: wbentropy's average from WannierBerri's group action (``wbentropy.symmetry._symmetrize``,
  :mod:`wbentropy.symmetrize_lean`), what ``--symmetrize`` uses;
* ``checked``: the whole checked step of ``--symmetrize`` (``symmetrize_model``: group, breaking before, the
  average, the band check on 300 k-points x 16 operations, breaking after).

Time: the best of ``--repeats`` runs (wall); memory: the ``tracemalloc`` peak of one more run (Python and numpy
allocations), relative to the model's operator arrays (Fe_sa: H and r, 12.4 MB).

    python benchmarks/symmetrize_memory.py                   # about 1 min
    python benchmarks/symmetrize_memory.py --model fe_sym    # shared data
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from _data import REPO, material

#: model -> (files for load_model, .win, projections (None: the .win's), magnetic moment, mu)
MODELS = {
    "fe_sa": (lambda: {**{k: REPO / "data" / f"Fe_sa_{k}.dat.gz" for k in ("hr", "r", "wsvec")},
                       "win": REPO / "data" / "Fe_sa.win"},
              lambda: REPO / "data" / "Fe_sa.win", None, [0.0, 0.0, 1.0], 17.3811),
    "fe_sym": (lambda: {"w90": material("Fe_sym_Wannier90") / "Fe_sym"},
               lambda: material("Fe_sym_Wannier90") / "Fe_sym.win", ["Fe:sp3d2;t2g"], [0.0, 0.0, -1.0], 17.6),
}


def measure(run, repeats: int) -> tuple[float, float]:
    """(best wall time in s, tracemalloc peak in bytes) of ``run()``, after a warm-up call."""
    run()
    best = min(_timed(run) for _ in range(repeats))
    tracemalloc.start()
    try:
        run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return best, peak


def _timed(run) -> float:
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def _checked(model, *, win, magmom, mu, projections):
    """The checked step of --symmetrize (to its refusal, if refused)."""
    from wbentropy.errors import InputError
    from wbentropy.symmetry import symmetrize_model

    try:
        symmetrize_model(model, win=win, magmom=magmom, mus=[mu], projections=projections)
    except InputError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", choices=sorted(MODELS), default="fe_sa")
    args = parser.parse_args()

    from wbentropy.io.load import load_model
    from wbentropy.io.win import read_win_structure
    from wbentropy.symmetry import _symmetrize, _symmetrize_system, from_system_r, magnetic_group

    files, win, projections, magmom, mu = MODELS[args.model]
    win = win()
    model = load_model(**{k: str(v) for k, v in files().items()})
    structure = read_win_structure(win_file=win)
    group = magnetic_group(structure=structure, magmom=np.array([magmom]))
    projections = projections or structure["projections"]
    size = sum(X.nbytes for X in model.operators.values())
    runs = {
        "wannierberri": lambda: from_system_r(_symmetrize_system(model, structure=structure, projections=projections,
                                                                 magmom=np.array([magmom])), like=model),
        "wbentropy": lambda: _symmetrize(model, group=group, structure=structure, projections=projections),
        "checked": lambda: _checked(model, win=win, magmom=magmom, mu=mu, projections=projections),
    }
    print(f"model: {model.num_wann} Wannier functions, {len(model.R)} R vectors, operators {size / 1e6:.1f} MB")
    print(f"{'route':<14}{'time (s)':>10}{'peak (MB)':>12}{'x model':>9}")
    for name, run in runs.items():
        seconds, peak = measure(run, args.repeats)
        print(f"{name:<14}{seconds:>10.2f}{peak / 1e6:>12.1f}{peak / size:>9.2f}")


if __name__ == "__main__":
    main()
