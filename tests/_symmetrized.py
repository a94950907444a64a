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
