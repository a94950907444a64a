"""Lattice-vector (R) lists: vectorised row look-up, -R partners, first-appearance order."""
from __future__ import annotations

import numpy as np


def _row_lookup(table: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of each query row in ``table`` (rows unique), -1 where absent. Vectorised."""
    table = np.asarray(table, dtype=np.int64).reshape(-1, 3)
    queries = np.asarray(queries, dtype=np.int64).reshape(-1, 3)
    if queries.shape[0] == 0 or table.shape[0] == 0:
        return np.full(queries.shape[0], -1, dtype=np.int64)
    lo = min(table.min(), queries.min())
    base = int(max(table.max(), queries.max()) - lo + 1)

    def key(a: np.ndarray) -> np.ndarray:
        a = a - lo
        return (a[:, 0] * base + a[:, 1]) * base + a[:, 2]

    if base ** 3 >= 2 ** 62:  # absurdly large R: fall back to a dictionary
        index = {tuple(v): i for i, v in enumerate(table.tolist())}
        return np.array([index.get(tuple(v), -1) for v in queries.tolist()], dtype=np.int64)
    kt, kq = key(table), key(queries)
    order = np.argsort(kt, kind="stable")
    sorted_keys = kt[order]
    pos = np.clip(np.searchsorted(sorted_keys, kq), 0, len(kt) - 1)
    return np.where(sorted_keys[pos] == kq, order[pos], -1)


def _minus_index(R: np.ndarray) -> np.ndarray:
    """For each R, the index of -R (or -1)."""
    return _row_lookup(R, -np.asarray(R))


def _unique_rows_in_order(R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of R in order of first appearance, and the index of each row into them."""
    _, first, inverse = np.unique(R, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return R[first[order]], rank[inverse]
