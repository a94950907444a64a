"""Anomalous Hall and entropy Hall conductivity of bcc Fe from Wannier90 files.

Reads the bundled bcc-Fe model (``data/Fe_hr.dat.gz``, ``Fe_r.dat.gz``,
``Fe_wsvec.dat.gz``, ``Fe.win``: Quantum ESPRESSO + Wannier90, see data/README.md) or,
with ``--shared-data``, the Wannier90 run of ``../shared/data/Fe_Wannier90`` (``Fe.chk``,
``Fe.eig``, ``Fe.mmn.tar.gz``; WannierBerri's test data, see that folder's README),
computes sigma^e (``ahc``, S/cm) and sigma^s (``entropy_hall``, A/(m K)) on a
Gamma-centred mesh for T = 0, 100, 300 K and mu = E_F +- 0.5 eV, and writes

* ``OUT/fe_entropy_hall.h5``  -- the result (same layout as ``wbentropy compute``);
* ``OUT/fe_entropy_hall.png`` -- sigma^e_xy(mu) and sigma^s_xy(mu), one curve per T.

With ``--shared-data`` the archive ``Fe.mmn.tar.gz`` is unpacked into a temporary
folder next to symlinks to the other files; nothing is copied into the repository.

Run from the repository root::

    python examples/fe_entropy_hall.py --out /tmp/fe_example

A few seconds on 2 cores with the default 20x20x20 mesh.  With ``--shared-data DIR
--kmesh 10 10 10`` the T = 0 row at E_F is what postw90 3.1 gives with
``berry_task = ahc``, ``berry_kmesh = 10 10 10`` (within 0.5 S/cm).
"""
from __future__ import annotations

import argparse
import logging
import tarfile
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
SHARED_FERMI_EV = 17.6255  # bcc Fe of ../shared/data/Fe_Wannier90, from its scf.out

logger = logging.getLogger("fe_entropy_hall")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared-data", type=Path, default=None, metavar="DIR",
                   help="read DIR/Fe_Wannier90 (Fe.chk, .eig, .mmn.tar.gz) instead of the bundled data/Fe_* model")
    p.add_argument("--kmesh", nargs=3, type=int, default=[20, 20, 20], metavar=("N1", "N2", "N3"),
                   help="Gamma-centred k-mesh (default: 20 20 20)")
    p.add_argument("--temperature", nargs="+", type=float, default=[0.0, 100.0, 300.0], metavar="K",
                   help="temperatures in K (default: 0 100 300)")
    p.add_argument("--fermi", type=float, default=None, metavar="EV",
                   help="Fermi energy in eV (default: fermi_energy of data/Fe.win, or "
                        f"{SHARED_FERMI_EV} with --shared-data)")
    p.add_argument("--window", type=float, default=0.5, metavar="EV", help="mu scan E_F +- WINDOW (default: 0.5)")
    p.add_argument("--step", type=float, default=0.02, metavar="EV", help="mu step (default: 0.02)")
    p.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "wbentropy_fe_example",
                   help="output folder, created if needed (default: $TMPDIR/wbentropy_fe_example)")
    return p.parse_args(argv)


def bundled_fermi_energy() -> float:
    """``fermi_energy`` of the bundled data/Fe.win (eV)."""
    for line in (DATA / "Fe.win").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip().lower() == "fermi_energy":
            return float(value.split()[0])
    raise SystemExit(f"error: {DATA / 'Fe.win'} has no fermi_energy; give --fermi")


def stage_fe(shared_data: Path, dest: Path) -> Path:
    """Unpack Fe.mmn.tar.gz into ``dest`` and symlink the other plain files there; return the seed."""
    src = shared_data / "Fe_Wannier90"
    if not (src / "Fe.chk").is_file():
        raise SystemExit(f"error: {src / 'Fe.chk'} not found; give --shared-data")
    for item in sorted(src.iterdir()):
        if item.name.endswith(".tar.gz"):
            if item.name == "Fe.mmn.tar.gz":  # the only archive the .chk reader needs
                with tarfile.open(item, "r:gz") as tar:
                    tar.extractall(dest, filter="data")
        else:
            (dest / item.name).symlink_to(item.resolve())
    return dest / "Fe"


def plot(result, *, fermi: float, kmesh, path: Path) -> None:
    """sigma^e_xy(mu) and sigma^s_xy(mu), one curve per temperature."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = result.mu - fermi
    fig, (ax_e, ax_s) = plt.subplots(2, 1, sharex=True, figsize=(6.0, 6.5), dpi=150)
    for iT, T in enumerate(result.temperature):
        ax_e.plot(x, result["ahc"][iT, :, 0, 1], lw=1.5, label=f"T = {T:g} K")
        label = f"T = {T:g} K" + (r" ($\sigma^s \equiv 0$)" if T == 0 else "")
        ax_s.plot(x, result["entropy_hall"][iT, :, 0, 1], lw=1.5, label=label)
    ax_e.set_ylabel(r"$\sigma^e_{xy}$ (S/cm)")
    ax_s.set_ylabel(r"$\sigma^s_{xy}$ (A m$^{-1}$ K$^{-1}$)")
    ax_s.set_xlabel(r"$\mu - E_F$ (eV),  $E_F$ = " + f"{fermi:g} eV")
    mesh = "x".join(str(n) for n in kmesh)
    ax_e.set_title(f"bcc Fe (Wannier90), {mesh} Γ-centred mesh")
    for ax in (ax_e, ax_s):
        ax.axvline(0.0, color="k", lw=0.5, ls=":")
        ax.axhline(0.0, color="k", lw=0.5)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def log_mott_check(result) -> None:
    """Compare sigma^s_xy(mu) with the Mott estimate -(pi^2 k_B^2 T/3e) d sigma^e_xy/d mu from the same scan."""
    from wbentropy import constants as C

    for iT, T in enumerate(result.temperature):
        if T == 0 or len(result.mu) < 3:
            continue
        dsig = np.gradient(result["ahc"][iT, :, 0, 1] * 100.0, result.mu)  # S/(m eV)
        mott = -(np.pi**2 / 3) * (C.KB_EV * T) * C.KB_EV * dsig  # A/(m K)
        corr = np.corrcoef(mott, result["entropy_hall"][iT, :, 0, 1])[0, 1]
        logger.info("T = %g K: correlation of sigma^s_xy(mu) with the Mott estimate: %.3f", T, corr)


def main(argv=None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from wbentropy.api import compute
    from wbentropy.io.load import load_model
    from wbentropy.results import QuantityResult, Result

    if args.fermi is None:
        args.fermi = SHARED_FERMI_EV if args.shared_data else bundled_fermi_energy()
    n = int(round(args.window / args.step))
    mus = args.fermi + args.step * np.arange(-n, n + 1)  # E_F itself is on the grid
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="wbentropy_fe_") as tmp:
        if args.shared_data:
            seed = stage_fe(args.shared_data, Path(tmp))
            logger.info("reading %s.chk/.eig/.mmn through WannierBerri", seed)
            model = load_model(w90=seed)
        else:
            logger.info("reading the bundled model %s/Fe_hr.dat.gz, Fe_r.dat.gz, Fe_wsvec.dat.gz, Fe.win", DATA)
            model = load_model(hr=DATA / "Fe_hr.dat.gz", r=DATA / "Fe_r.dat.gz", wsvec=DATA / "Fe_wsvec.dat.gz",
                               win=DATA / "Fe.win")
        logger.info("num_wann = %d, %d lattice vectors, cell volume %.4f A^3",
                    model.num_wann, len(model.R), model.volume)
        result = compute(model=model, quantities=["ahc", "entropy_hall"], temperatures=args.temperature,
                         mus=mus, kmesh=args.kmesh)
    if args.shared_data:  # the files were read from a temporary folder: record where they came from
        result.attrs["input_shared_data"] = str((args.shared_data / "Fe_Wannier90").resolve())
    result.attrs["fermi_energy_eV"] = args.fermi

    log_mott_check(result)
    h5 = result.save(args.out / "fe_entropy_hall.h5")
    logger.info("wrote %s", h5)
    png = args.out / "fe_entropy_hall.png"
    plot(result, fermi=args.fermi, kmesh=args.kmesh, path=png)
    logger.info("wrote %s", png)

    # final table: the E_F column only (the whole scan: wbentropy show OUT/fe_entropy_hall.h5)
    i_f = int(np.argmin(np.abs(mus - args.fermi)))
    at_ef = Result(temperature=result.temperature, mu=result.mu[i_f:i_f + 1], attrs={},
                   quantities={name: QuantityResult(value=q.value[:, i_f:i_f + 1], units=q.units)
                               for name, q in result.quantities.items()})
    print(at_ef.to_text())


if __name__ == "__main__":
    main()
