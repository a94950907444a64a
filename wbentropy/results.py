"""Results that know their axes, units and provenance; HDF5 and text output.

HDF5 layout (the contract used by external checks)::

    /temperature            (nT,)  K
    /mu                     (nmu,) eV
    /<quantity>/value       (nT, nmu, 3, 3), attribute ``units``
    /<quantity>/error       (nT, nmu, 3, 3), optional error estimate, same units
    /omega                  (nomega,) eV, only with AC quantities, whose values are
                            (nT, nmu, nomega, 3, 3) complex (attribute ``axes``)
    root attributes: input files, mesh, package version, options.

Files are written atomically (temporary file in the same folder, then rename), so an
interrupted write never leaves a corrupted file or destroys a previous good one.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError

__all__ = ["Result", "QuantityResult", "check_output_path", "atomic_hdf5"]

_AXES = "xyz"


@dataclass
class QuantityResult:
    """One quantity's tensors on the (T, mu) grid."""

    value: np.ndarray
    units: str
    error: np.ndarray | None = None
    attrs: dict = field(default_factory=dict)


@dataclass
class Result:
    """All quantities of one run, on one (T, mu) grid.

    Attributes
    ----------
    temperature : (nT,) K
    mu : (nmu,) eV
    quantities : dict name -> QuantityResult, values shaped (nT, nmu, 3, 3)
        ((nT, nmu, 3) vectors; (nT, nmu, nomega, 3, 3) complex for AC quantities)
    attrs : dict of provenance (str/number values)
    omega : (nomega,) eV or None
        Photon energies of the AC quantities.
    """

    temperature: np.ndarray
    mu: np.ndarray
    quantities: dict[str, QuantityResult]
    attrs: dict = field(default_factory=dict)
    omega: np.ndarray | None = None

    def __getitem__(self, name: str) -> np.ndarray:
        return self.quantities[name].value

    # ------------------------------------------------------------------- HDF5
    def save(self, path: str | Path) -> Path:
        """Write to HDF5 atomically (:func:`atomic_hdf5`); returns the path."""
        path = check_output_path(path)
        with atomic_hdf5(path) as h:
            h.create_dataset("temperature", data=np.asarray(self.temperature, dtype=float))
            h["temperature"].attrs["units"] = "K"
            h.create_dataset("mu", data=np.asarray(self.mu, dtype=float))
            h["mu"].attrs["units"] = "eV"
            if self.omega is not None:
                h.create_dataset("omega", data=np.asarray(self.omega, dtype=float))
                h["omega"].attrs["units"] = "eV"
            for name, q in self.quantities.items():
                g = h.create_group(name)
                g.create_dataset("value", data=q.value)
                g["value"].attrs["units"] = q.units
                g.attrs["units"] = q.units
                if q.error is not None:
                    g.create_dataset("error", data=q.error)
                    g["error"].attrs["units"] = q.units
                for k, v in q.attrs.items():
                    g.attrs[k] = _attr(v)
            for k, v in self.attrs.items():
                h.attrs[k] = _attr(v)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Result":
        """Read a file written by :meth:`save`."""
        import h5py

        path = Path(path)
        if not path.is_file():
            raise InputError("result file not found", path=path)
        try:
            with h5py.File(path, "r") as h:
                quantities = {}
                for name, g in h.items():
                    if not isinstance(g, h5py.Group):
                        continue
                    quantities[name] = QuantityResult(
                        value=g["value"][()], units=str(g["value"].attrs.get("units", "")),
                        error=g["error"][()] if "error" in g else None,
                        attrs={k: _unattr(v) for k, v in g.attrs.items() if k != "units"})
                return cls(temperature=h["temperature"][()], mu=h["mu"][()], quantities=quantities,
                           attrs={k: _unattr(v) for k, v in h.attrs.items()},
                           omega=h["omega"][()] if "omega" in h else None)
        except (OSError, KeyError) as exc:
            raise InputError(f"not a wbentropy result file ({exc})", path=path) from None

    # ------------------------------------------------------------------- text
    def to_text(self, *, components: str = "all") -> str:
        """Readable table: one block per quantity, one row per (T, mu)."""
        lines = []
        for k, v in self.attrs.items():
            lines.append(f"# {k}: {v}")
        for name, q in self.quantities.items():
            lines.append("")
            lines.append(f"## {name}  [{q.units}]")
            if "omega" in str(q.attrs.get("axes", "")):  # AC quantity: Hermitian (nT, nmu, nomega, 3, 3)
                lines.extend(_omega_table(self, q))
                continue
            if q.value.ndim == 5:  # rank-3 tensor sigma_abc
                comps = [(a, b, c) for a in range(3) for b in range(3) for c in range(b, 3)]
                lines.append(f"{'T[K]':>9} {'mu[eV]':>12} "
                             + " ".join(f"{_AXES[a] + _AXES[b] + _AXES[c]:>12}" for a, b, c in comps))
                for iT, T in enumerate(self.temperature):
                    for im, mu in enumerate(self.mu):
                        vals = " ".join(f"{q.value[iT, im, a, b, c]:12.4e}" for a, b, c in comps)
                        lines.append(f"{T:9.3f} {mu:12.6f} {vals}")
                lines.append("# (a, b, c) with c >= b shown; j_a = sigma_abc E_b E_c")
                continue
            if q.value.ndim == 3:  # vector quantity
                lines.append(f"{'T[K]':>9} {'mu[eV]':>12} " + " ".join(f"{c:>14}" for c in _AXES))
                for iT, T in enumerate(self.temperature):
                    for im, mu in enumerate(self.mu):
                        vals = " ".join(f"{q.value[iT, im, a]:14.6e}" for a in range(3))
                        lines.append(f"{T:9.3f} {mu:12.6f} {vals}")
                continue
            comps = [(a, b) for a in range(3) for b in range(3)]
            if q.value.ndim == 4 and np.allclose(q.value, -np.swapaxes(q.value, -1, -2)):
                comps = [(1, 2), (2, 0), (0, 1)]
            elif q.value.ndim == 4 and np.allclose(q.value, np.swapaxes(q.value, -1, -2)):
                comps = [(a, b) for a in range(3) for b in range(a, 3)]
            head = f"{'T[K]':>9} {'mu[eV]':>12} " + " ".join(f"{_AXES[a] + _AXES[b]:>14}" for a, b in comps)
            lines.append(head)
            for iT, T in enumerate(self.temperature):
                for im, mu in enumerate(self.mu):
                    vals = " ".join(f"{q.value[iT, im, a, b]:14.6e}" for a, b in comps)
                    lines.append(f"{T:9.3f} {mu:12.6f} {vals}")
            if q.error is not None:
                lines.append(f"# error estimate of {name}: max {np.max(np.abs(q.error)):.3e} {q.units}")
        if "ahc" in self.quantities and "thermal_hall" in self.quantities:
            from .physics.relations import lorenz_ratio_lines
            lines.extend(lorenz_ratio_lines(temperatures=self.temperature, mus=self.mu,
                                            kappa=self.quantities["thermal_hall"].value,
                                            sigma_s_per_cm=self.quantities["ahc"].value))
        return "\n".join(lines) + "\n"


@contextlib.contextmanager
def atomic_hdf5(path: str | Path):
    """An HDF5 file open for writing that appears at ``path`` only when complete.

    Written to a temporary file in the same folder, then renamed over ``path``
    (``os.replace``, atomic on POSIX): an exception (or a kill) during the write leaves any
    previous file at ``path`` untouched; the temporary file is removed on exceptions.
    """
    import h5py

    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    except OSError as err:
        raise InputError(f"cannot create a file in the output folder: {err.strerror}", path=path) from None
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as h:
            yield h
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def check_output_path(path: str | Path) -> Path:
    """Check that a result can be written to ``path`` (before hours of computing); returns it.

    The folder must exist and be writable, and ``path`` must not be a folder.  Raises
    :class:`~wbentropy.errors.InputError` naming the path otherwise.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"output folder {folder} is not a folder", path=path)
    if not folder.is_dir():
        raise InputError("output folder does not exist", path=path)
    if path.is_dir():
        raise InputError("output path is a folder; give a file name such as result.h5", path=path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError("output folder is not writable", path=path)
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError("output file exists and is not writable", path=path)
    return path


def _omega_table(res: "Result", q: QuantityResult) -> list[str]:
    """Rows (T, mu, omega): Re of the symmetric and Im of the antisymmetric components."""
    sym = [(a, b) for a in range(3) for b in range(a, 3)]
    anti = [(1, 2), (2, 0), (0, 1)]
    head = (f"{'T[K]':>9} {'mu[eV]':>12} {'omega[eV]':>10} "
            + " ".join(f"{'Re' + _AXES[a] + _AXES[b]:>13}" for a, b in sym) + " "
            + " ".join(f"{'Im' + _AXES[a] + _AXES[b]:>13}" for a, b in anti))
    lines = [head]
    for iT, T in enumerate(res.temperature):
        for im, mu in enumerate(res.mu):
            for iw, w in enumerate(res.omega):
                v = q.value[iT, im, iw]
                vals = (" ".join(f"{np.real(v[a, b]):13.5e}" for a, b in sym) + " "
                        + " ".join(f"{np.imag(v[a, b]):13.5e}" for a, b in anti))
                lines.append(f"{T:9.3f} {mu:12.6f} {w:10.5f} {vals}")
    return lines


def _attr(v):
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v)
    if v is None:
        return "None"
    return v


def _unattr(v):
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, np.generic):
        v = v.item()
    return v
