"""Results that know their axes, units and provenance; HDF5 and text output.

HDF5 layout (the contract used by external checks)::

    /temperature            (nT,)  K
    /mu                     (nmu,) eV
    /<quantity>             group, attributes ``units`` (SI, charge conductivities in S/cm) and ``formula``
    /<quantity>/value       (nT, nmu, 3, 3), attribute ``units``
    /<quantity>/error       (nT, nmu, 3, 3), optional error estimate, same units
    /<quantity>/up/value, /<quantity>/down/value (and .../error)
                            the two channels of a collinear spin-polarised pair; then
                            /<quantity>/value is their sum (the total)
    /omega                  (nomega,) eV, only with AC quantities, whose values are
                            (nT, nmu, nomega, 3, 3) complex (attribute ``axes``)
    root attributes: input files, mesh, package version, options.

Files are written atomically (built in memory, written to a temporary file in the same
folder, then renamed; :mod:`wbentropy.io.outputs`), so an interrupted or failed write never leaves
a corrupted file or destroys a previous good one.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError
from .io.outputs import atomic_hdf5, check_output_path

__all__ = ["Result", "QuantityResult", "check_output_path", "atomic_hdf5"]

_AXES = "xyz"


@dataclass
class QuantityResult:
    """One quantity's tensors on the (T, mu) grid."""

    value: np.ndarray
    units: str
    error: np.ndarray | None = None
    attrs: dict = field(default_factory=dict)
    #: per-channel parts of a collinear spin-polarised run ("up", "down"), whose sum is ``value``
    channels: dict[str, "QuantityResult"] = field(default_factory=dict)


#: the channels of a collinear spin-polarised pair, in the order of the files given
SPIN_CHANNELS = ("up", "down")


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
        """Write to HDF5 atomically (:func:`~wbentropy.io.outputs.atomic_hdf5`); returns the path.

        Raises
        ------
        InputError
            ``path`` cannot hold a result (:func:`~wbentropy.io.outputs.check_output_path`).
        OSError
            The write failed (full disk, ...); a previous file at ``path`` is untouched.
        """
        path = check_output_path(path)
        with atomic_hdf5(path, on_write_error="raise") as h:
            h.create_dataset("temperature", data=np.asarray(self.temperature, dtype=float))
            h["temperature"].attrs["units"] = "K"
            h.create_dataset("mu", data=np.asarray(self.mu, dtype=float))
            h["mu"].attrs["units"] = "eV"
            if self.omega is not None:
                h.create_dataset("omega", data=np.asarray(self.omega, dtype=float))
                h["omega"].attrs["units"] = "eV"
            for name, q in self.quantities.items():
                formula = _formula(name, q)
                g = h.create_group(name)
                _write_quantity(g, q, formula)
                for channel, part in q.channels.items():
                    _write_quantity(g.create_group(channel), part, formula)
            for k, v in self.attrs.items():
                h.attrs[k] = _attr(v)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Result":
        """Read a file written by :meth:`save`.

        Raises
        ------
        InputError
            The file is missing, not a regular file, not HDF5, or not laid out as described in
            the module docstring (the message names the dataset and what is wrong).
        """
        import h5py

        path = Path(path)
        if not path.exists():
            raise InputError("result file not found", path=path)
        if not path.is_file():
            raise InputError("not a regular file (a folder, device or FIFO); give a result file written by "
                             "wbentropy compute", path=path)
        try:
            with h5py.File(path, "r") as h:
                temperature, mu = _axis(h, "temperature"), _axis(h, "mu")
                omega = _axis(h, "omega") if "omega" in h else None
                quantities = {name: _read_quantity(g, (len(temperature), len(mu)), omega)
                              for name, g in h.items() if isinstance(g, h5py.Group)}
                return cls(temperature=temperature, mu=mu, quantities=quantities,
                           attrs={k: _unattr(v) for k, v in h.attrs.items()}, omega=omega)
        except _LayoutError as exc:
            raise InputError(f"not a wbentropy result file: {exc}", path=path) from None
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise InputError(f"not a wbentropy result file ({exc})", path=path) from None

    # ------------------------------------------------------------------- text
    def to_text(self, *, components: str = "all") -> str:
        """Readable table: one block per quantity, one row per (T, mu)."""
        lines = []
        for k, v in self.attrs.items():
            if _header_value(v):
                lines.append(f"# {k}: {_header_value(v)}")
        for name, q in self.quantities.items():
            lines.append("")
            lines.append(f"## {name}  [{q.units}]")
            value = np.asarray(q.value)
            grid = (len(self.temperature), len(self.mu))
            nomega = None if self.omega is None else len(self.omega)
            if value.shape[:2] != grid or value.shape[2:] not in _TENSOR_SHAPES + ((nomega, 3, 3),):
                lines.extend(_generic_table(self, value))  # not one of the layouts below
                continue
            if value.shape[2:] == (nomega, 3, 3) and ("omega" in str(q.attrs.get("axes", ""))
                                                      or value.shape[2:] not in _TENSOR_SHAPES):
                # AC quantity: Hermitian (nT, nmu, nomega, 3, 3)
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
        lines.extend(self._lorenz_lines())
        return "\n".join(lines) + "\n"

    def _lorenz_lines(self) -> list[str]:
        """The Wiedemann-Franz ratio kappa/(L_0 T sigma) if the result holds both quantities the catalogue
        marks for it (:attr:`~wbentropy.quantities.Quantity.wiedemann_franz`), else nothing."""
        from .quantities import QUANTITIES

        roles = {QUANTITIES[n].wiedemann_franz: q for n, q in self.quantities.items()
                 if n in QUANTITIES and QUANTITIES[n].wiedemann_franz}
        if not {"sigma", "kappa"} <= set(roles):
            return []
        from .physics.relations import lorenz_ratio_lines

        return lorenz_ratio_lines(temperatures=self.temperature, mus=self.mu, kappa=roles["kappa"].value,
                                  sigma_s_per_cm=roles["sigma"].value)


def _generic_table(res: "Result", value: np.ndarray) -> list[str]:
    """Rows (T, mu) of the flattened components of a value of unexpected shape (or the raw array)."""
    lines = [f"# value of shape {value.shape}, components flattened"]
    if value.shape[:2] != (len(res.temperature), len(res.mu)):
        return lines + np.array2string(value, threshold=10**6).splitlines()
    flat = value.reshape(value.shape[0], value.shape[1], -1)
    for iT, T in enumerate(res.temperature):
        for im, mu in enumerate(res.mu):
            lines.append(f"{T:9.3f} {mu:12.6f} " + " ".join(f"{v:14.6e}" for v in flat[iT, im]))
    return lines


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


class _LayoutError(Exception):
    """A dataset of a result file does not have the layout of the module docstring."""


def _numeric(ds, name: str, kinds: str = "fiu") -> np.ndarray:
    import h5py

    if not isinstance(ds, h5py.Dataset):
        raise _LayoutError(f"/{name} is not a dataset")
    if ds.dtype.kind not in kinds:
        raise _LayoutError(f"/{name} holds {ds.dtype} data, not numbers")
    return ds[()]


def _axis(h, name: str) -> np.ndarray:
    if name not in h:
        raise _LayoutError(f"no dataset /{name}")
    a = _numeric(h[name], name)
    if a.ndim != 1 or a.size == 0:
        raise _LayoutError(f"/{name} has shape {a.shape}; expected a non-empty list of values")
    return a.astype(float)


# trailing axes of a quantity's value after (nT, nmu): tensors of rank 1, 2, 3; AC: (nomega, 3, 3)
_TENSOR_SHAPES = ((3,), (3, 3), (3, 3, 3))


def _read_quantity(g, grid: tuple, omega) -> QuantityResult:
    name = g.name.lstrip("/")
    if "value" not in g:
        raise _LayoutError(f"group /{name} has no dataset 'value'")
    value = _numeric(g["value"], f"{name}/value", "fiuc")
    tails = _TENSOR_SHAPES + (() if omega is None else ((len(omega), 3, 3),))
    if value.shape[:2] != grid or value.shape[2:] not in tails:
        expected = " or ".join(str(grid + t) for t in tails)
        raise _LayoutError(f"/{name}/value has shape {value.shape}; expected {expected} "
                           "(temperatures, chemical potentials, tensor components)")
    error = None
    if "error" in g:
        error = _numeric(g["error"], f"{name}/error", "fiuc")
        if error.shape != value.shape:
            raise _LayoutError(f"/{name}/error has shape {error.shape}, /{name}/value {value.shape}")
    channels = {c: _read_quantity(g[c], grid, omega) for c in SPIN_CHANNELS if c in g}
    return QuantityResult(value=value, units=str(_unattr(g["value"].attrs.get("units", ""))), error=error,
                          attrs={k: _unattr(v) for k, v in g.attrs.items() if k != "units"}, channels=channels)


def _formula(name: str, q: QuantityResult) -> str:
    """The formula of a quantity: its result's ``formula`` attribute, else its catalogue record's."""
    from .quantities import QUANTITIES

    if q.attrs.get("formula"):
        return str(q.attrs["formula"])
    return QUANTITIES[name].formula if name in QUANTITIES else ""


def _write_quantity(g, q: QuantityResult, formula: str) -> None:
    """One quantity group: ``value`` (and ``error``), the group's ``units`` and ``formula`` and its other attributes."""
    g.create_dataset("value", data=q.value)
    g["value"].attrs["units"] = q.units
    if q.error is not None:
        g.create_dataset("error", data=q.error)
        g["error"].attrs["units"] = q.units
    for k, v in q.attrs.items():
        g.attrs[k] = _attr(v)
    g.attrs["units"] = q.units
    g.attrs["formula"] = formula


def _header_value(v) -> str:
    """A root attribute as ``show`` prints it: lists and dicts as JSON (as stored in the file, so that a
    result prints the same before and after a save), empty values as ''."""
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v) if len(v) else ""
    return "" if v is None or v == "" else str(v)


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
