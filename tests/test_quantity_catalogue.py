"""The catalogue of quantities: records carry their meaning, and no code branches on a quantity's name."""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest

import wbentropy
from wbentropy import quantities as Q
from wbentropy.api import compute
from wbentropy.io.load import load_model
from wbentropy.physics.entropy_production import check_positive_semidefinite

PACKAGE = Path(wbentropy.__file__).parent
DATA = Path(__file__).resolve().parents[1] / "data"
NAMES = set(Q.QUANTITIES)


def _constants(node) -> list[str]:
    """String constants of a node that is a constant or a tuple/list/set of constants."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for e in node.elts for s in _constants(e)]
    return []


def _name_branches(source: str) -> list[str]:
    """Comparisons with a quantity's name and ``startswith``/``endswith`` tests on a prefix of one."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                hits = [s for s in _constants(operand) if s in NAMES]
                found += [f"line {node.lineno}: compares with {h!r}" for h in hits]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("startswith", "endswith") and node.args:
            for s in _constants(node.args[0]):
                if len(s) >= 3 and any(n.startswith(s) or n.endswith(s) for n in NAMES):
                    found.append(f"line {node.lineno}: {node.func.attr}({s!r})")
    return found


def test_the_scan_finds_name_branches():
    src = ('if q.name.startswith("entropy"):\n    pass\nif name == "ahc":\n    pass\n'
           'x = n in ("ahc", "entropy_hall")\nif "thermal_hall" in quantities:\n    pass\n')
    assert len(_name_branches(src)) == 5
    assert _name_branches('if q.fermi_weighted:\n    pass\nx = name == "other"\n') == []


@pytest.mark.parametrize("path", sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")))
def test_no_code_branches_on_a_quantity_name(path):
    assert _name_branches((PACKAGE / path).read_text()) == []


@pytest.mark.parametrize("q", list(Q.QUANTITIES.values()), ids=list(Q.QUANTITIES))
def test_every_record_says_how_it_transforms_and_what_it_needs(q):
    assert q.parity in ("polar", "axial")
    assert q.time_reversal in ("even", "odd", "mixed")
    # every response here is a polar tensor, except the Berry curvature dipole D_bd (v^b Omega^d: a pseudotensor)
    assert q.parity == "polar" or q.name in ("nonlinear_hall_bcd", "entropy_nonlinear_hall_bcd")
    assert q.inversion == ("odd" if (q.rank % 2 == 1) != (q.parity == "axial") else "even")
    assert q.operators[0] == "H" and set(q.operators) <= {"H", "AA"}
    assert q.units and q.formula and q.symbol and q.weight
    assert (q.rank == 1) == q.vector
    assert not (q.positive_semidefinite and q.rank != 2)


def test_fermi_weighting_selects_the_quantities_it_selected_by_name():
    """Sampling near the Fermi surface is tracked for -df/dE, 1/T and the entropy weight s_n
    (formerly ``q.name.startswith("entropy")``); thermal_hall and the optical tensors are Fermi-sea."""
    selected = {q.name for q in Q.QUANTITIES.values() if q.fermi_weighted}
    assert selected == {n for n in NAMES if Q.QUANTITIES[n].fermi_surface or n.startswith("entropy")}
    assert "thermal_hall" not in selected and "optical_entropy_conductivity" not in selected
    shell_only = {n for n in NAMES if Q.QUANTITIES[n].thermal_shell and not Q.QUANTITIES[n].fermi_surface}
    assert shell_only == {"entropy_hall", "entropy_current_zero_field"}


def test_the_second_law_and_the_kernel_form_are_record_fields():
    psd = {n for n, q in Q.QUANTITIES.items() if q.positive_semidefinite}
    form = {n for n, q in Q.QUANTITIES.items() if q.form_dependent}
    assert psd == {"entropy_production", "entropy_production_drude", "entropy_production_interband"}
    assert form == {"entropy_production", "entropy_production_interband", "entropy_production_qm",
                    "entropy_production_nonqm"}


def test_check_positive_semidefinite():
    check_positive_semidefinite(np.diag([1.0, 0.0, 2.0]), name="x")
    with pytest.raises(RuntimeError, match="BUG: x has a negative eigenvalue -1.000e\\+00"):
        check_positive_semidefinite(np.diag([1.0, -1.0, 2.0]), name="x")


@pytest.fixture(scope="module")
def qwz():
    return load_model(tb=str(DATA / "qwz_tb.dat"))


def test_compute_checks_the_second_law_of_a_record_that_asks(qwz, monkeypatch):
    """A record with ``positive_semidefinite`` is checked whatever its name; one without is not."""
    drude = Q.QUANTITIES["drude_conductivity"]

    def negative(geom, **kw):
        return -drude.per_k(geom, **kw)

    kw = dict(model=qwz, temperatures=[300.0], mus=[0.5], kmesh=[4, 4, 1], tau_fs=10.0)
    monkeypatch.setitem(Q.QUANTITIES, "drude_conductivity", dataclasses.replace(drude, per_k=negative))
    assert compute(quantities=["drude_conductivity"], **kw)["drude_conductivity"][0, 0, 0, 0] < 0
    monkeypatch.setitem(Q.QUANTITIES, "drude_conductivity",
                        dataclasses.replace(drude, per_k=negative, positive_semidefinite=True))
    with pytest.raises(RuntimeError, match="BUG: drude_conductivity has a negative eigenvalue"):
        compute(quantities=["drude_conductivity"], **kw)


def test_the_kernel_form_is_recorded_for_form_dependent_records(qwz):
    res = compute(model=qwz, quantities=["entropy_production_drude", "entropy_production_qm"], temperatures=[300.0],
                  mus=[0.5], kmesh=[4, 4, 1], tau_fs=10.0)
    assert "form" not in res.quantities["entropy_production_drude"].attrs
    assert res.quantities["entropy_production_qm"].attrs["form"].startswith("exact: Kubo-Mori")


TWINS = {"ahc": "entropy_hall", "nonlinear_hall_bcd": "entropy_nonlinear_hall_bcd",
         "nonlinear_drude": "entropy_nonlinear_drude_fs",
         "intrinsic_nonlinear_hall": "entropy_intrinsic_nonlinear_hall",
         "optical_conductivity": "optical_entropy_conductivity"}


@pytest.mark.parametrize("charge, twin", TWINS.items())
def test_entropy_twins_come_from_the_factory(charge, twin):
    """f -> s and the factor -(k_B/e) (per m for a charge quantity per cm); everything else is the charge one's."""
    c, s = Q.QUANTITIES[charge], Q.QUANTITIES[twin]
    assert (c.weight, s.weight) == ("f", "s") and s.family is c.family
    per_m = 100.0 if c.units == "S/cm" else 1.0
    assert s.factor == pytest.approx(-1.380649e-23 / 1.602176634e-19 * c.factor * per_m, rel=1e-12)
    same = ("rank", "vector", "parity", "time_reversal", "operators", "needs_tau", "needs_second_derivatives",
            "fermi_surface", "omega_axis", "complex_valued")
    assert [getattr(s, f) for f in same] == [getattr(c, f) for f in same]


def test_the_exact_entropy_nonlinear_drude_is_not_a_twin():
    assert Q.QUANTITIES["entropy_nonlinear_drude"].family is None


def test_the_factory_refuses_a_factor_that_is_not_minus_kB_over_e():
    with pytest.raises(ValueError, match="is not -\\(k_B/e\\) x the factor of ahc"):
        Q.entropy_twin(Q.QUANTITIES["ahc"], name="x", factor=1.0, units="A/(m*K)", formula="x", symbol="x")


# ------------------------------------------------------------------ units
def test_one_rule_for_charge_conductivities():
    """Every charge conductivity (a unit in siemens) is in S/cm, as postw90's and WannierBerri's AHC."""
    siemens = {n for n, q in Q.QUANTITIES.items() if q.units.split("/")[0] == "S"}
    assert siemens == {"ahc", "drude_conductivity", "optical_conductivity"}
    assert {Q.QUANTITIES[n].units for n in siemens} == {"S/cm"}


def test_every_unit_is_si():
    """Units are products and quotients of SI units (cm for the conductivities, as postw90)."""
    import re

    si = {"S", "A", "K", "W", "V", "m", "cm"}
    for n, q in Q.QUANTITIES.items():
        assert set(re.findall(r"[A-Za-z]+", q.units)) <= si, (n, q.units)


def test_drude_conductivity_is_in_s_per_cm_and_its_entropy_production_in_si():
    """sigma_D [S/cm] = 100 x ... per m: Pi^D/E^2 = sigma_D[S/m]/T (Eq. 19)."""
    from wbentropy import constants as C

    assert C.DRUDE_FACTOR_S_PER_CM * C.S_PER_CM_TO_S_PER_M == pytest.approx(C.E2_OVER_HBAR * 1e10, rel=1e-15)


def _groups(h5, path=""):
    import h5py

    for name, item in h5.items():
        if isinstance(item, h5py.Group):
            yield f"{path}/{name}", item
            yield from _groups(item, f"{path}/{name}")


def test_every_hdf5_quantity_group_has_units_and_formula(qwz, tmp_path):
    """Every group of a saved file (each quantity and each spin channel of a collinear pair) carries its
    ``units`` and ``formula``; ``wbentropy show`` prints the units of every quantity."""
    import subprocess
    import sys

    import h5py

    from wbentropy.api import compute_collinear

    names = ["ahc", "entropy_hall", "thermal_hall", "drude_conductivity", "entropy_production_drude",
             "optical_conductivity", "nonlinear_drude", "entropy_current_zero_field"]
    kw = dict(quantities=names, temperatures=[300.0], mus=[0.5], kmesh=[4, 4, 1], tau_fs=10.0, omegas=[0.5, 1.0])
    one = qwz.with_spin_degeneracy(1, source="test")
    for label, res in (("single", compute(model=qwz, **kw)), ("pair", compute_collinear(up=one, down=one, **kw))):
        path = res.save(tmp_path / f"{label}.h5")
        with h5py.File(path) as h:
            groups = dict(_groups(h))
            assert {g.split("/")[1] for g in groups} == set(names)
            for where, g in groups.items():
                name = where.split("/")[1]
                assert g.attrs["units"] == Q.QUANTITIES[name].units, where
                assert g.attrs["formula"] == Q.QUANTITIES[name].formula, where
            if label == "pair":
                assert "/ahc/up" in groups and "/ahc/down" in groups
        shown = subprocess.run([sys.executable, "-m", "wbentropy.cli", "show", str(path)], capture_output=True,
                               text=True, timeout=120)
        assert shown.returncode == 0, shown.stderr
        for name in names:
            assert f"## {name}  [{Q.QUANTITIES[name].units}]" in shown.stdout, name


def test_show_prints_the_lorenz_ratio_of_the_records_marked_for_it(qwz):
    """The Wiedemann-Franz ratio pairs the records marked ``wiedemann_franz`` (not names in results.py)."""
    marked = {q.wiedemann_franz: n for n, q in Q.QUANTITIES.items() if q.wiedemann_franz}
    assert marked == {"sigma": "ahc", "kappa": "thermal_hall"}
    kw = dict(model=qwz, temperatures=[30.0], mus=[0.5], kmesh=[4, 4, 1])
    assert "lorenz_ratio" not in compute(quantities=["ahc", "entropy_hall"], **kw).to_text()
    assert "lorenz_ratio" in compute(quantities=["ahc", "thermal_hall"], **kw).to_text()
