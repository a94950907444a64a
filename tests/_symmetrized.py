"""Comparison of two symmetrized models operator by operator (wbentropy's average against WannierBerri's)."""
import numpy as np


def assert_same_operators(ours, theirs, *, rtol: float) -> None:
    """The same R vectors (as a set) and every operator equal to ``rtol`` times its largest element."""
    index = {tuple(R): i for i, R in enumerate(np.asarray(ours.R))}
    assert len(index) == len(theirs.R) and all(tuple(R) in index for R in np.asarray(theirs.R))
    order = [index[tuple(R)] for R in np.asarray(theirs.R)]
    assert set(ours.operators) == set(theirs.operators)
    for name, X in theirs.operators.items():
        scale = float(np.max(np.abs(X)))
        assert scale > 0, name
        assert float(np.max(np.abs(ours.operators[name][order] - X))) <= rtol * scale, name


def both_routes(model, *, win, magmom=None, projections=None):
    """(wbentropy's average, WannierBerri's ``System_R.symmetrize``) of ``model`` under the group of ``win``'s
    structure with ``magmom`` (3 numbers for every atom, or None: non-magnetic), unchecked."""
    from wbentropy.io.win import read_win_structure
    from wbentropy.symmetry import _symmetrize, _symmetrize_system, from_system_r, magnetic_group, parse_magmom

    structure = read_win_structure(win_file=win)
    moments = parse_magmom(magmom, n_atoms=len(structure["atom_names"]), atom_names=structure["atom_names"])
    projections = projections or structure["projections"]
    group = magnetic_group(structure=structure, magmom=moments)
    ours = _symmetrize(model, group=group, structure=structure, projections=projections)
    theirs = _symmetrize_system(model, structure=structure, projections=projections, magmom=moments)
    return ours, from_system_r(theirs, like=model)
