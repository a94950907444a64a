"""Option groups shared by the subcommands, each defined once, and what the subcommands build from them."""
from __future__ import annotations

import argparse

from ..errors import InputError

__all__ = ["add_model_files", "add_model_arguments", "add_spin_pair", "add_kmesh", "add_adaptive_arguments", "add_tau",
           "add_entropy_production_form", "add_degen_thresh", "add_ac_arguments", "add_resource_arguments",
           "add_verbose", "load_model_from_args", "symmetry_step", "ac_options", "check_outputs", "flag",
           "add_fermi_energy", "win_settings", "fermi_energy", "resolve_kmesh", "resolve_mus",
           "add_symmetry_reduction"]

#: command-line options of the Python parameters whose option is not ``--`` + the name with dashes
_FLAGS = {"tau_fs": "--tau", "max_memory_mb": "--max-memory", "temperatures": "--temperature", "mus": "--mu",
          "omegas": "--omega-range", "smearing_width": "--smearing", "n_samples": "--samples",
          "plane": "--kslice", "mesh": "--kslice-mesh", "extent": "--kslice-extent"}


def flag(param: str) -> str:
    """The option that sets the Python parameter ``param`` (``tau_fs`` -> ``--tau``): how
    :class:`~wbentropy.errors.InputError` messages name parameters on the command line."""
    return _FLAGS.get(param, "--" + param.replace("_", "-"))


def add_model_files(p, *, required: bool = True) -> None:
    """The model's input files: one of --w90, --tb, --hr, and the files that go with them."""
    src = p.add_mutually_exclusive_group(required=required)
    src.add_argument("--w90", metavar="SEED", help="SEED.chk + SEED.eig + SEED.mmn (read by WannierBerri)")
    src.add_argument("--tb", metavar="FILE", help="Wannier90 SEED_tb.dat")
    src.add_argument("--hr", metavar="FILE", help="Wannier90 SEED_hr.dat")
    p.add_argument("--r", metavar="FILE", help="Wannier90 SEED_r.dat (with --hr)")
    p.add_argument("--wsvec", metavar="FILE", help="Wannier90 SEED_wsvec.dat (MDRS, with --tb/--hr)")
    p.add_argument("--win", metavar="FILE", help="Wannier90 SEED.win (lattice, with --hr)")


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """The model options of the subcommands that load a model: files, spin degeneracy, symmetrization."""
    add_model_files(p)
    p.add_argument("--spin-degeneracy", type=int, choices=(1, 2), default=None,
                   help="electrons per band: 1 for spinor Wannier functions, 2 for spinless ones (default: "
                        "from 'spinors' in the .win given with --hr or beside SEED_tb.dat / SEED.chk; "
                        "1 if there is no .win)")
    p.add_argument("--symmetrize", action="store_true",
                   help="symmetrize H(R) and r(R) under the magnetic space group of the .win structure "
                        "(WannierBerri's symmetrizer; checked, refused if it changes the bands: docs/symmetry.md)")
    p.add_argument("--magmom", nargs="+", type=float, default=None, metavar="M",
                   help="magnetic moments: MX MY MZ for every atom, or 3 numbers per atom of the .win "
                        "(default: non-magnetic, time reversal kept)")
    p.add_argument("--projections", nargs="+", default=None, metavar="ATOM:ORBITALS",
                   help="projections for --symmetrize in WannierBerri's notation, e.g. Fe:sp3d2;t2g "
                        "(default: the .win's projections block)")


def add_symmetry_reduction(p) -> None:
    """``--no-symmetry-reduction``: integrate the full mesh of a symmetrized model (``compute``)."""
    p.add_argument("--no-symmetry-reduction", dest="symmetry_reduction", action="store_false",
                   help="with a symmetrized model (--symmetrize), integrate every point of the uniform mesh instead "
                        "of its irreducible points, or adaptively the whole zone instead of the irreducible wedge "
                        "(the tensors are projected either way; for checks: docs/symmetry.md)")


def add_spin_pair(p) -> None:
    """The spin-down channel of a collinear spin-polarised pair (``compute``)."""
    p.add_argument("--tb-down", metavar="FILE", default=None,
                   help="collinear spin-polarised run: the spin-down SEED_tb.dat (--tb is then the spin-up one); "
                        "both channels are integrated, the result holds the totals and each channel")
    p.add_argument("--wsvec-down", metavar="FILE", default=None, help="SEED_wsvec.dat of the spin-down channel")


def load_model_from_args(args):
    """The model of the options of :func:`add_model_files` (and ``--spin-degeneracy`` where the command has it)."""
    from ..io.load import load_model

    return load_model(w90=args.w90, tb=args.tb, hr=args.hr, r=args.r, wsvec=args.wsvec, win=args.win,
                      spin_degeneracy=getattr(args, "spin_degeneracy", None))


def symmetry_step(model, args, *, mus, temperatures=()):
    """The model after --symmetrize (or the breaking measurement without it)."""
    from ..symmetry import prepare_symmetry

    return prepare_symmetry(model, symmetrize=args.symmetrize, magmom=args.magmom, projections=args.projections,
                            mus=mus, temperatures=temperatures)


def add_kmesh(p) -> None:
    p.add_argument("--kmesh", nargs=3, type=int, default=None, metavar=("N1", "N2", "N3"),
                   help="Gamma-centred mesh (the coarse mesh with --tolerance); default: berry_kmesh (or "
                        "berry_kmesh_spacing, kmesh, kmesh_spacing) of the model's .win")


def add_fermi_energy(p) -> None:
    """E_F and chemical potentials relative to it."""
    p.add_argument("--fermi-energy", type=float, default=None, metavar="EV",
                   help="Fermi energy E_F in eV, recorded in the result and marked in tables and figures "
                        "(default: fermi_energy of the model's .win)")
    p.add_argument("--mu-relative", action="store_true",
                   help="read --mu and --mu-range as mu - E_F")


def win_settings(args):
    """The postw90 settings of the model's ``.win`` (:func:`wbentropy.io.win.read_win_settings`), or None."""
    from ..io.load import win_for
    from ..io.win import read_win_settings

    path = win_for(w90=args.w90, tb=args.tb, hr=args.hr, win=args.win)
    return None if path is None else read_win_settings(win_file=path)


def fermi_energy(args, settings) -> tuple[float | None, str | None]:
    """E_F (eV) and where it comes from: ``--fermi-energy``, else the ``.win``'s ``fermi_energy``."""
    if args.fermi_energy is not None:
        import numpy as np

        if not np.isfinite(args.fermi_energy):
            raise InputError(f"--fermi-energy must be a finite energy in eV, got {args.fermi_energy}")
        return float(args.fermi_energy), "--fermi-energy"
    if settings is not None and settings.fermi_energy is not None:
        return settings.fermi_energy, settings.source("fermi_energy")
    return None, None


def resolve_kmesh(args, settings) -> tuple[int, int, int]:
    """``--kmesh``, else the ``.win``'s mesh; an error naming both when neither is there."""
    if args.kmesh is not None:
        return tuple(args.kmesh)
    if settings is not None and settings.kmesh is not None:
        return settings.kmesh
    where = f" and {settings.path} has no berry_kmesh" if settings is not None else " and no SEED.win was found"
    raise InputError(f"--kmesh: required{where} (give --kmesh N1 N2 N3)")


def resolve_mus(args, settings, ef: float | None, *, several: bool = True):
    """Chemical potentials (eV, absolute) from ``--mu``/``--mu-range`` (relative to E_F with ``--mu-relative``),
    else the ``.win``'s ``fermi_energy_min/max/step`` scan, else E_F itself."""
    from ..api import inclusive_range

    mu_range = getattr(args, "mu_range", None)
    if args.mu is None and mu_range is None:
        if args.mu_relative:
            raise InputError("--mu-relative: give --mu or --mu-range (values relative to E_F)")
        if several and settings is not None and settings.mu_range is not None:
            return inclusive_range(*settings.mu_range, name="mu_range")
        if ef is not None:
            return [ef] if several else ef
        give = "--mu or --mu-range" if several else "--mu EV"
        raise InputError(f"--mu: give {give} (no fermi_energy in a .win and no --fermi-energy)")
    shift = 0.0
    if args.mu_relative:
        if ef is None:
            raise InputError("--mu-relative: E_F is unknown: give --fermi-energy EV (or fermi_energy in the .win)")
        shift = ef
    if not several:
        return args.mu + shift
    values = args.mu if args.mu is not None else inclusive_range(*mu_range, name="mu_range")
    return [float(m) + shift for m in values]


def add_adaptive_arguments(p) -> None:
    """The options of adaptive integration (``compute``)."""
    a = p.add_argument_group("adaptive integration (active with --tolerance, --max-kpoints or --restart; "
                             "--kmesh is then the coarse mesh)")
    a.add_argument("--tolerance", type=float, default=None, metavar="REL",
                   help="target relative error of every tensor (relative to its largest component)")
    a.add_argument("--abs-tolerance", type=float, default=0.0, metavar="ABS",
                   help="absolute error floor added to every tensor's scale (its units)")
    a.add_argument("--max-kpoints", type=int, default=None, help="budget of k-point evaluations")
    a.add_argument("--max-levels", type=int, default=50, help="maximum refinement levels (default 50)")
    a.add_argument("--box-occupations", action="store_true",
                   help="average f_n, s_n of each Gauss node over the energies its band sweeps in the node's box "
                        "where that exceeds k_BT (adaptive smearing; default: the node's own f_n, s_n). Use it at "
                        "T = 0 and low T, where the Fermi surface or the entropy shell is thinner than the cells; at "
                        "room temperature it biases sigma^e (figures: docs/adaptive.md)")
    a.add_argument("--checkpoint", default=None, metavar="FILE",
                   help="checkpoint written after each level (default: RESULT.h5 + .checkpoint.h5)")
    a.add_argument("--restart", default=None, metavar="CHECKPOINT", help="resume a killed adaptive run")
    a.add_argument("--no-progress", action="store_true",
                   help="no progress report (default: rank 0 draws a bar on a terminal, else writes a line with "
                        "k-points done, rate and time left every WBENTROPY_PROGRESS_INTERVAL s, default 30)")


def add_tau(p, *, default: float | None, help: str) -> None:
    p.add_argument("--tau", type=float, default=default, metavar="FS", help=help)


def add_entropy_production_form(p) -> None:
    p.add_argument("--entropy-production-form", choices=("exact", "paper"), default="exact",
                   help="interband kernel: exact (Kubo-Mori, default) or paper (Eq. 18 as printed)")


def add_degen_thresh(p, *, default: float | None) -> None:
    p.add_argument("--degen-thresh", type=float, default=default, metavar="EV")


def add_ac_arguments(p, *, omega_help: str, smearing_help: str) -> None:
    """Photon energies and broadening of the AC quantities."""
    p.add_argument("--omega-range", nargs=3, type=float, default=None, metavar=("START", "STOP", "STEP"),
                   help=omega_help)
    p.add_argument("--smearing", nargs=2, default=None, metavar=("SHAPE", "WIDTH"), help=smearing_help)


def ac_options(args, settings=None) -> dict:
    """compute() keyword arguments for the AC options of ``args``; the ``.win``'s ``kubo_*`` settings
    where an option is not given, then lorentzian 0.05 eV."""
    smearing = args.smearing
    if smearing is None:
        smearing = settings.smearing if settings is not None and settings.smearing is not None \
            else ("lorentzian", "0.05")
    shape, width = smearing
    try:
        width = float(width)
    except ValueError:
        raise InputError(f"--smearing WIDTH must be a number in eV, got {width!r}") from None
    from ..api import inclusive_range

    omega_range = args.omega_range
    if omega_range is None and settings is not None:
        omega_range = settings.omega_range
    omegas = None if omega_range is None else inclusive_range(*omega_range, name="omega_range")
    return {"omegas": omegas, "smearing": shape.lower(), "smearing_width": width}


def add_resource_arguments(p) -> None:
    """Batch size, threads and memory of a rank (``compute``)."""
    p.add_argument("--batch-size", type=int, default=None, help="k-points per batch (memory bound)")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="threads per rank evaluating k-batches side by side (default: the rank's share of the "
                        "node's cores; env WBENTROPY_THREADS)")
    p.add_argument("--max-memory", type=float, default=None, metavar="MB",
                   help="memory budget (MB per rank) of the arrays of the computation, kept by batch sizing "
                        "(default: a quarter of the available memory shared by the ranks, 64..2048 MB)")


def add_verbose(p) -> None:
    p.add_argument("-v", "--verbose", action="store_true")


def check_outputs(outputs: dict, args, *, inputs: dict | None = None) -> None:
    """The checks of a command's outputs before it computes anything (the one call of
    :func:`wbentropy.io.outputs.check_outputs` from the command line): against every input file
    option of ``args`` and the further ``inputs`` (label -> path or paths)."""
    from ..io.outputs import INPUT_OPTIONS
    from ..io.outputs import check_outputs as check

    given = {opt: getattr(args, opt[2:].replace("-", "_"), None) for opt in INPUT_OPTIONS}
    check(outputs, {**given, **(inputs or {})})
