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
from .io.tables import TENSOR_SHAPES

__all__ = ["Result", "QuantityResult", "check_output_path", "atomic_hdf5"]



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
    @property
    def fermi_energy(self) -> float | None:
        """E_F (eV) recorded in the result (root attribute ``fermi_energy_eV``), or None."""
        try:
            ef = float(self.attrs.get("fermi_energy_eV"))
        except (TypeError, ValueError):
            return None
        return ef if np.isfinite(ef) else None

    def to_text(self, *, components: list[str] | None = None) -> str:
        """Readable table: the provenance, then one block per quantity, one row per (T, mu)
        (:func:`wbentropy.io.tables.to_text`; ``components``: only these, e.g. ``["xy"]``)."""
        from .io.tables import to_text

        header = [f"# {k}: {_header_value(v)}" for k, v in self.attrs.items() if _header_value(v)]
        text = to_text(self, header_lines=header, components=components)
        lorenz = self._lorenz_lines()
        return text + ("\n".join(lorenz) + "\n" if lorenz else "")

    def to_csv(self, *, components: list[str] | None = None) -> str:
        """CSV with a header row, one row per quantity, T, mu (omega) and component
        (:func:`wbentropy.io.tables.to_csv`)."""
        from .io.tables import to_csv

        return to_csv(self, components=components)

    def select(self, *, quantities: list[str] | None = None, temperatures=None, mus=None) -> "Result":
        """The part of the result at the given quantities, temperatures (K) and chemical potentials (eV).

        Values are matched to the grid to 1e-9 (relative); a value not on it is an
        :class:`~wbentropy.errors.InputError` that lists the grid.
        """
        iT = _indices(self.temperature, temperatures, "temperature", "K")
        im = _indices(self.mu, mus, "mu", "eV")
        names = list(self.quantities) if quantities is None else list(quantities)
        unknown = [n for n in names if n not in self.quantities]
        if unknown:
            raise InputError(f"{{quantities}}: {', '.join(unknown)} not in the result (it holds "
                             f"{', '.join(self.quantities)})", param="quantities")

        def cut(a):
            return None if a is None else np.asarray(a)[iT][:, im]

        picked = {n: QuantityResult(value=cut(q.value), units=q.units, error=cut(q.error), attrs=dict(q.attrs),
                                    channels={c: QuantityResult(value=cut(x.value), units=x.units, error=cut(x.error),
                                                                attrs=dict(x.attrs)) for c, x in q.channels.items()})
                  for n, q in self.quantities.items() if n in names}
        return Result(temperature=self.temperature[iT], mu=self.mu[im], quantities=picked, attrs=dict(self.attrs),
                      omega=self.omega)

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


def _indices(grid: np.ndarray, wanted, name: str, units: str) -> np.ndarray:
    """Indices of ``wanted`` values on ``grid`` (all of it if None)."""
    if wanted is None:
        return np.arange(len(grid))
    out = []
    for w in np.atleast_1d(np.asarray(wanted, dtype=float)):
        hit = np.flatnonzero(np.abs(grid - w) <= 1e-9 * max(1.0, abs(w)))
        if hit.size == 0:
            shown = ", ".join(f"{g:g}" for g in grid[:20]) + (" ..." if len(grid) > 20 else "")
            raise InputError(f"{{{name}}} {w:g} {units} is not in the result (its values: {shown})", param=name)
        out.append(int(hit[0]))
    return np.array(out, dtype=int)


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




def _read_quantity(g, grid: tuple, omega) -> QuantityResult:
    name = g.name.lstrip("/")
    if "value" not in g:
        raise _LayoutError(f"group /{name} has no dataset 'value'")
    value = _numeric(g["value"], f"{name}/value", "fiuc")
    tails = TENSOR_SHAPES + (() if omega is None else ((len(omega), 3, 3),))
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
