"""Issue 25 item 4: every `verify` row FAILs on a violated relation and only then; unresolved or
non-applicable cases are INFO saying why; the README's verify example runs verbatim and exits 0."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_docs import commands, localise

from wbentropy import verify as V
from wbentropy.io.load import load_model
from wbentropy.toy_models import qwz_chern_model

REPO = Path(__file__).resolve().parents[1]
QWZ2D = qwz_chern_model(mass=-1.0, tz=0.0, a=3.0, c=5.0)
QWZ3D = qwz_chern_model(mass=-1.0, tz=0.3, a=3.0, c=5.0)


def fe():
    return load_model(**{k: REPO / "data" / f"Fe_{k}.dat.gz" for k in ("hr", "r", "wsvec")}, win=REPO / "data/Fe.win")


def violated(monkeypatch, name, factor=1.0, offset=0.0):
    """Make verify's compute return ``name`` scaled by ``factor`` (+ ``offset``): a violated relation."""
    orig = V.compute

    def patched(**kw):
        r = orig(**kw)
        if name in r.quantities:
            q = r.quantities[name]
            q.value = q.value * factor + offset
        return r

    monkeypatch.setattr(V, "compute", patched)


def readme_verify_command():
    """The README's verify example: the fenced block whose command is ``wbentropy verify``."""
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"^```(?:bash)?\n(wbentropy verify .*?)```", readme, flags=re.DOTALL | re.MULTILINE)
    assert len(blocks) == 1, blocks
    (argv,) = commands(blocks[0])
    return argv


def test_readme_verify_example_runs_verbatim_and_exits_0(tmp_path):
    argv = readme_verify_command()
    assert "--hr" in argv and "data/Fe_hr.dat.gz" in argv and "17.3811" in argv
    proc = subprocess.run([sys.executable, "-m", "wbentropy.cli", *localise(argv[1:])], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {line.split()[0]: line.split()[1] for line in proc.stdout.splitlines()[2:13]}
    assert set(rows.values()) <= {"PASS", "INFO"} and "0 FAIL" in proc.stdout
    assert rows["onsager"] == rows["maxwell"] == rows["eq20-k"] == rows["pi>=0"] == "PASS"
    # the third Sommerfeld term exceeds the second at 8^3: not a (vacuous) PASS
    assert rows["mott-2"] == "INFO" and "series does not converge at this T" in proc.stdout
    assert rows["eq34"] == "INFO" and "not applicable: eps_+ + eps_- spreads by" in proc.stdout
    assert rows["js0"] == rows["eq20-bz"] == "INFO" and proc.stdout.count("unresolved: needs --kmesh") == 2
    eq34 = next(line for line in proc.stdout.splitlines() if line.startswith("eq34 "))
    assert eq34.split()[4] == "-"  # no raw deviation printed for a relation that does not apply


def test_coarse_fe_mesh_never_fails():
    checks = V.verify(model=fe(), temperature=300.0, mu=17.3811, kmesh=(6, 6, 6), n_samples=8)
    assert all(c.status in ("PASS", "INFO") for c in checks), V.format_table(checks)
    unresolved = [c.name for c in checks if "unresolved" in c.note]
    assert "js0" in unresolved and "eq20-bz" in unresolved


def test_coarse_qwz_mesh_never_fails():
    checks = V.verify(model=QWZ2D, temperature=300.0, mu=-1.3, kmesh=(12, 12, 1), n_samples=8,
                      omegas=np.linspace(1.0, 4.0, 7))
    assert all(c.status in ("PASS", "INFO") for c in checks), V.format_table(checks)


@pytest.mark.parametrize("factor", [1.01, -1.0])
def test_onsager_fails_when_sigma_s_is_off(monkeypatch, factor):
    violated(monkeypatch, "entropy_hall", factor)
    c = V.check_onsager(model=QWZ3D, temperature=300.0, mu=-1.3, kmesh=(20, 20, 4))
    assert c.status == "FAIL" and c.deviation > c.tolerance


def test_onsager_passes_unpatched_with_a_derived_tolerance():
    c = V.check_onsager(model=QWZ3D, temperature=300.0, mu=-1.3, kmesh=(20, 20, 4))
    assert c.status == "PASS" and 0 < c.tolerance < 1e-2 and "step 2h and 4h" in c.note


@pytest.mark.parametrize("factor", [1.01, -1.0])
def test_maxwell_fails_when_sigma_s_is_off(monkeypatch, factor):
    violated(monkeypatch, "entropy_hall", factor)
    c = V.check_maxwell(model=QWZ3D, temperature=400.0, mu=-1.3, kmesh=(16, 16, 4))[0]
    assert c.status == "FAIL"


def test_mott_fails_when_sigma_s_is_off(monkeypatch):
    violated(monkeypatch, "entropy_hall", 1.01)
    _, two = V.check_mott(model=QWZ2D, temperature=300.0, mu=-1.3, kmesh=(400, 400, 1))
    assert two.status == "FAIL"


def test_mott_info_when_the_series_does_not_converge():
    one, two = V.check_mott(model=fe(), temperature=300.0, mu=17.3811, kmesh=(6, 6, 6))
    for c in (one, two):
        assert c.status == "INFO" and "series does not converge at this T" in c.note and np.isnan(c.deviation)


def test_wiedemann_franz_fails_when_kappa_is_off(monkeypatch):
    kw = dict(model=QWZ2D, temperature=100.0, mu=-1.3, kmesh=(800, 800, 1))
    ok = V.check_wiedemann_franz(**kw)
    assert ok.status == "PASS" and ok.tolerance < 5e-3, ok.note
    violated(monkeypatch, "thermal_hall", 1.01)
    c = V.check_wiedemann_franz(**kw)
    assert c.status == "FAIL"


def test_zero_field_current_fails_when_not_zero(monkeypatch):
    violated(monkeypatch, "entropy_current_zero_field", offset=1e8)  # 1e-2 of k_B int |v| s
    c = V.check_zero_field_current(model=QWZ2D, temperature=3000.0, mu=-1.3, kmesh=(24, 24, 1))
    assert c.status == "FAIL" and "mesh N/2" in c.note


def test_drude_sum_rule_fails_when_one_form_is_off(monkeypatch):
    violated(monkeypatch, "entropy_production_drude", 1.01)
    c = V.check_drude_sum_rule(model=QWZ2D, temperature=3000.0, mu=-1.3, kmesh=(48, 48, 1), tau_fs=10.0)
    assert c.status == "FAIL" and "mesh N/2" in c.note


def test_drude_sum_rule_passes_and_js0_is_zero_on_a_resolved_mesh():
    kw = dict(model=QWZ2D, temperature=3000.0, mu=-1.3, kmesh=(48, 48, 1))
    assert V.check_drude_sum_rule(**kw, tau_fs=10.0).status == "PASS"
    assert V.check_zero_field_current(**kw).status == "PASS"


def test_unresolved_rows_say_what_would_resolve_them():
    c = V.check_zero_field_current(model=fe(), temperature=300.0, mu=17.3811, kmesh=(6, 6, 6))
    assert c.status == "INFO" and np.isnan(c.deviation)
    assert re.search(r"unresolved: needs --kmesh (\d+) \1 \1 or --temperature >= [0-9.e+]+ K", c.note), c.note


def test_eq34_info_states_its_condition():
    from wbentropy.toy_models import flat_two_band_model

    c = V.check_two_band_ratio(model=flat_two_band_model(gap=2.0, dispersion=0.2), temperature=3000.0, mu=0.1,
                               kmesh=(6, 6, 1), omegas=np.linspace(1.5, 2.5, 11))
    assert c.status == "INFO" and "not applicable: eps_+ + eps_- spreads by" in c.note and "k_BT" in c.note
    assert "-" in V.format_table([c]).splitlines()[1].split()[4]
