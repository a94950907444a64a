"""Text renderings of a result: the readable table of ``wbentropy show`` and CSV for spreadsheets and plots.

Both take a :class:`wbentropy.results.Result` and print one row per (T, mu[, omega]) (table: the
components side by side; CSV: one row per component).  Where the result records E_F
(attribute ``fermi_energy_eV``) a column mu - E_F is added; where a quantity has an error
estimate (adaptive integration) every entry carries its ``±`` error.  No physics here.
"""
from __future__ import annotations

import csv
import io

import numpy as np

__all__ = ["to_text", "to_csv", "components", "CSV_COLUMNS", "TENSOR_SHAPES"]

_AXES = "xyz"
#: trailing axes of a quantity's value after (nT, nmu): tensors of rank 1, 2, 3 (AC values: (nomega, 3, 3))
TENSOR_SHAPES = ((3,), (3, 3), (3, 3, 3))
#: the columns of :func:`to_csv`, in order
CSV_COLUMNS = ("quantity", "units", "T_K", "mu_eV", "mu_minus_EF_eV", "omega_eV", "component", "value", "imag",
               "error")


def components(value: np.ndarray) -> list[tuple[str, tuple]]:
    """(label, index) of the components a table shows for a value (nT, nmu, *tensor): x, y, z of a vector;
    yz, zx, xy of an antisymmetric tensor, the upper triangle of a symmetric one, else all nine; the
    (a, b, c) with c >= b of a rank-3 tensor (j_a = sigma_abc E_b E_c)."""
    tail = value.shape[2:]
    if tail == (3,):
        return [(_AXES[a], (a,)) for a in range(3)]
    if tail == (3, 3, 3):
        return [(_AXES[a] + _AXES[b] + _AXES[c], (a, b, c)) for a in range(3) for b in range(3) for c in range(b, 3)]
    pairs = [(a, b) for a in range(3) for b in range(3)]
    if np.allclose(value, -np.swapaxes(value, -1, -2)):
        pairs = [(1, 2), (2, 0), (0, 1)]
    elif np.allclose(value, np.swapaxes(value, -1, -2)):
        pairs = [(a, b) for a in range(3) for b in range(a, 3)]
    return [(_AXES[a] + _AXES[b], (a, b)) for a, b in pairs]


def _grid_head(res) -> str:
    head = f"{'T[K]':>9} {'mu[eV]':>12}"
    return head + (f" {'mu-E_F[eV]':>11}" if res.fermi_energy is not None else "")


def _grid_cells(res, T: float, mu: float) -> str:
    ef = res.fermi_energy
    return f"{T:9.3f} {mu:12.6f}" + (f" {mu - ef:11.6f}" if ef is not None else "")


def _tensor_table(res, q, comps: list, *, width: int, fmt: str) -> list[str]:
    """Rows (T, mu) of a vector or tensor quantity, with ``±error`` after every entry where there is one."""
    err = q.error
    lines = [_grid_head(res) + " " + " ".join(f"{label:>{width}}" + (" " * 10 if err is not None else "")
                                              for label, _ in comps)]
    for iT, T in enumerate(res.temperature):
        for im, mu in enumerate(res.mu):
            cells = []
            for _, idx in comps:
                cell = format(q.value[(iT, im) + idx], fmt)
                if err is not None:
                    cell += f" ±{abs(err[(iT, im) + idx]):8.2e}"
                cells.append(cell)
            lines.append(_grid_cells(res, T, mu) + " " + " ".join(cells))
    return lines


def _omega_table(res, q) -> list[str]:
    """Rows (T, mu, omega): Re of the symmetric and Im of the antisymmetric components."""
    sym = [(a, b) for a in range(3) for b in range(a, 3)]
    anti = [(1, 2), (2, 0), (0, 1)]
    head = (_grid_head(res) + f" {'omega[eV]':>10} "
            + " ".join(f"{'Re' + _AXES[a] + _AXES[b]:>13}" for a, b in sym) + " "
            + " ".join(f"{'Im' + _AXES[a] + _AXES[b]:>13}" for a, b in anti))
    lines = [head]
    for iT, T in enumerate(res.temperature):
        for im, mu in enumerate(res.mu):
            for iw, w in enumerate(res.omega):
                v = q.value[iT, im, iw]
                vals = (" ".join(f"{np.real(v[a, b]):13.5e}" for a, b in sym) + " "
                        + " ".join(f"{np.imag(v[a, b]):13.5e}" for a, b in anti))
                lines.append(f"{_grid_cells(res, T, mu)} {w:10.5f} {vals}")
    return lines


def _generic_table(res, value: np.ndarray) -> list[str]:
    """Rows (T, mu) of the flattened components of a value of unexpected shape (or the raw array)."""
    lines = [f"# value of shape {value.shape}, components flattened"]
    if value.shape[:2] != (len(res.temperature), len(res.mu)):
        return lines + np.array2string(value, threshold=10**6).splitlines()
    flat = value.reshape(value.shape[0], value.shape[1], -1)
    for iT, T in enumerate(res.temperature):
        for im, mu in enumerate(res.mu):
            lines.append(f"{_grid_cells(res, T, mu)} " + " ".join(f"{v:14.6e}" for v in flat[iT, im]))
    return lines


def _is_ac(res, q) -> bool:
    value = np.asarray(q.value)
    nomega = None if res.omega is None else len(res.omega)
    return value.shape[2:] == (nomega, 3, 3) and ("omega" in str(q.attrs.get("axes", ""))
                                                  or value.shape[2:] not in TENSOR_SHAPES)


def _quantity_lines(res, name: str, q, *, wanted) -> list[str]:
    value = np.asarray(q.value)
    if _is_ac(res, q):
        return _omega_table(res, q)
    if value.shape[:2] != (len(res.temperature), len(res.mu)) or value.shape[2:] not in TENSOR_SHAPES:
        return _generic_table(res, value)
    comps = [c for c in components(value) if wanted is None or c[0] in wanted]
    if value.ndim == 5:
        return _tensor_table(res, q, comps, width=12, fmt="12.4e") + ["# (a, b, c) with c >= b shown; "
                                                                      "j_a = sigma_abc E_b E_c"]
    lines = _tensor_table(res, q, comps, width=14, fmt="14.6e")
    if q.error is not None:
        lines.append(f"# error estimate of {name}: max {np.max(np.abs(q.error)):.3e} {q.units}")
    return lines


def to_text(res, *, header_lines: list[str], components: list[str] | None = None) -> str:
    """The readable table: ``header_lines`` (``# key: value``), then one block per quantity."""
    lines = list(header_lines)
    for name, q in res.quantities.items():
        lines += ["", f"## {name}  [{q.units}]"] + _quantity_lines(res, name, q, wanted=components)
    return "\n".join(lines) + "\n"


def _csv_rows(res, name: str, q, wanted):
    value = np.asarray(q.value)
    ef = res.fermi_energy
    ac = _is_ac(res, q)
    if ac:
        comps = [(_AXES[a] + _AXES[b], (a, b)) for a in range(3) for b in range(3)]
    else:
        comps = components(value)
    comps = [c for c in comps if wanted is None or c[0] in wanted]
    omegas = list(enumerate(res.omega)) if ac else [(None, None)]
    for iT, T in enumerate(res.temperature):
        for im, mu in enumerate(res.mu):
            for iw, w in omegas:
                for label, idx in comps:
                    at = (iT, im) + ((iw,) if ac else ()) + idx
                    v = value[at]
                    yield {"quantity": name, "units": q.units, "T_K": repr(float(T)), "mu_eV": repr(float(mu)),
                           "mu_minus_EF_eV": "" if ef is None else repr(float(mu - ef)),
                           "omega_eV": "" if w is None else repr(float(w)), "component": label,
                           "value": repr(float(np.real(v))),
                           "imag": repr(float(np.imag(v))) if np.iscomplexobj(value) else "",
                           "error": "" if q.error is None else repr(float(abs(q.error[at])))}


def to_csv(res, *, components: list[str] | None = None) -> str:
    """CSV, header row first (:data:`CSV_COLUMNS`): one row per quantity, T, mu (omega) and component, numbers in
    full precision; empty cells where a column does not apply (no E_F, no omega axis, real value, no error)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for name, q in res.quantities.items():
        value = np.asarray(q.value)
        if value.shape[:2] != (len(res.temperature), len(res.mu)) or not (
                _is_ac(res, q) or value.shape[2:] in TENSOR_SHAPES):
            continue
        writer.writerows(_csv_rows(res, name, q, components))
    return out.getvalue()
