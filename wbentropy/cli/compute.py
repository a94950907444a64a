"""``wbentropy compute``: integrate quantities over the Brillouin zone and write a result file."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from ..errors import InputError
from . import options as O

__all__ = ["add_parser", "run", "interrupt_message"]

logger = logging.getLogger("wbentropy")


def add_parser(sub) -> None:
    """Register ``wbentropy compute`` on the CLI's subparsers."""
    c = sub.add_parser("compute", help="integrate quantities over the Brillouin zone")
    O.add_model_arguments(c)
    O.add_symmetry_reduction(c)
    O.add_kmesh(c)
    c.add_argument("--temperature", nargs="+", type=float, required=True, metavar="K",
                   help="temperatures in K (0 = step occupations)")
    mu = c.add_mutually_exclusive_group()
    mu.add_argument("--mu", nargs="+", type=float, metavar="EV",
                    help="chemical potentials in eV (default: fermi_energy_min..max or fermi_energy of the .win)")
    mu.add_argument("--mu-range", nargs=3, type=float, metavar=("START", "STOP", "STEP"),
                    help="chemical potentials START..STOP (inclusive) in steps of STEP, eV")
    O.add_fermi_energy(c)
    from ..quantities import QUANTITIES

    c.add_argument("--quantities", default="ahc,entropy_hall",
                   help="comma-separated list (default: ahc,entropy_hall); known: " + ", ".join(QUANTITIES))
    O.add_tau(c, default=None, help="relaxation time in fs (entropy production, Drude quantities)")
    O.add_entropy_production_form(c)
    O.add_ac_arguments(c, omega_help="photon energies hbar*omega START..STOP (inclusive) in steps of STEP, eV "
                                     "(AC quantities)",
                       smearing_help="line shape (lorentzian|gaussian) and width in eV replacing "
                                     "delta(eps_mn - omega) in the AC quantities (default: lorentzian 0.05)")
    c.add_argument("--out", required=True, metavar="RESULT.h5")
    O.add_spin_pair(c)
    O.add_adaptive_arguments(c)
    O.add_degen_thresh(c, default=None)
    O.add_resource_arguments(c)
    O.add_verbose(c)


def _degen_thresh(args) -> float:
    from ..kspace.geometry import DEFAULT_DEGEN_THRESH

    return DEFAULT_DEGEN_THRESH if args.degen_thresh is None else args.degen_thresh


def _prepare(args, *, checkpoint: str | None):
    """Everything about a ``compute`` run that can be checked before integrating, and the model.

    Returns a dict: model, mus, kmesh, quantity names, AC options, E_F and its source; options the
    user left out come from the model's ``.win`` (:func:`wbentropy.io.win.read_win_settings`); raises
    InputError naming the option or file.
    """
    from ..api import check_grid, check_kmesh, check_omegas, check_options, check_quantity_names
    from ..quantities import get_quantities

    O.check_outputs({"--out": args.out, "--checkpoint": checkpoint}, args)  # fail now, not after the computation
    settings = O.win_settings(args)
    ef, ef_source = O.fermi_energy(args, settings)
    mus = O.resolve_mus(args, settings, ef)
    kmesh = O.resolve_kmesh(args, settings)
    check_grid(temperatures=args.temperature, mus=mus)
    names = check_quantity_names(args.quantities.split(","))
    check_options(degen_thresh=_degen_thresh(args), batch_size=args.batch_size, max_memory_mb=args.max_memory,
                  tau_fs=args.tau, tolerance=args.tolerance, abs_tolerance=args.abs_tolerance,
                  max_kpoints=args.max_kpoints, max_levels=args.max_levels, threads=args.threads)
    check_kmesh(kmesh)
    ac = O.ac_options(args, settings)
    if any(q.omega_axis for q in get_quantities(names)):
        check_omegas(omegas=ac["omegas"], smearing=ac["smearing"], smearing_width=ac["smearing_width"])
    if args.tb_down is not None or args.wsvec_down is not None:
        if args.symmetrize or args.magmom is not None:
            raise InputError("--symmetrize/--magmom: not available for a collinear spin-polarised pair (--tb-down)")
        model = _collinear_pair(args)
    else:
        model = O.symmetry_step(O.load_model_from_args(args), args, mus=mus, temperatures=args.temperature)
    return {"model": model, "mus": mus, "kmesh": kmesh, "names": names, "ac": ac, "fermi_energy": ef,
            "fermi_energy_source": ef_source}


def _collinear_pair(args):
    """The (up, down) models of ``--tb UP --tb-down DOWN``."""
    from ..io.load import load_collinear_pair

    if args.tb_down is None:
        raise InputError("--wsvec-down: applies to the spin-down channel given with --tb-down")
    if args.tb is None:
        raise InputError("--tb-down: give the spin-up channel with --tb "
                         "(a collinear pair is read from two _tb.dat files)")
    if args.spin_degeneracy is not None:
        raise InputError("--spin-degeneracy: each channel of a collinear pair (--tb-down) holds one electron per "
                         "band; drop the option")
    if args.checkpoint is not None or args.restart is not None:
        raise InputError("--checkpoint/--restart: not available for a collinear spin-polarised pair (--tb-down); "
                         "integrate each channel in a run of its own to checkpoint it")
    for opt, path in (("--out", args.out), ("--checkpoint", args.checkpoint)):
        if path is not None and Path(path).resolve() == Path(args.tb_down).resolve():
            raise InputError(f"{opt} {path}: is the input file given with --tb-down; choose another name")
    return load_collinear_pair(tb_up=args.tb, tb_down=args.tb_down, wsvec_up=args.wsvec, wsvec_down=args.wsvec_down)


def interrupt_message(signum: int, *, checkpoint: str | None, restart: str | None, since: float) -> str:
    """The one line printed when a run is stopped by SIGINT (Ctrl-C) or SIGTERM (e.g. Slurm's time limit).

    ``checkpoint`` is the adaptive run's checkpoint (None: uniform mesh); it counts as this run's
    if it was written after ``since`` (``time.time()`` at the start) or is the ``restart`` file.
    """
    import signal

    what = f"wbentropy: interrupted ({signal.Signals(signum).name})"
    if checkpoint is None:
        return f"{what}: no result written (a uniform-mesh run keeps no checkpoint; adaptive runs do)"
    path = Path(checkpoint)
    ours = path.is_file() and (path.stat().st_mtime >= since or (restart is not None and path.samefile(restart)))
    if not ours:
        return f"{what} before the first checkpoint was written: nothing to resume, start again"
    try:
        import h5py

        with h5py.File(path, "r") as h:
            held = f"level {int(h.attrs['level'])} ({int(h.attrs['n_evaluations'])} k-points)"
    except (OSError, KeyError, ValueError):
        held = "the last finished level"
    return f"{what}; the checkpoint {path} holds {held}: resume with the same command plus --restart {path}"


def _integrate(args, parallel, state: dict, *, adaptive: bool):
    """Check the inputs, load the model, integrate; ``state["checkpoint"]`` becomes the checkpoint
    actually used (None for a collinear pair)."""
    from ..api import compute, compute_collinear

    prep = parallel.agree(lambda: _prepare(args, checkpoint=state["checkpoint"]))
    model, ac = prep["model"], prep["ac"]
    if isinstance(model, tuple):  # a collinear spin-polarised pair: both channels, no checkpoint
        state["checkpoint"] = None
        run_ = lambda model, **kw: compute_collinear(up=model[0], down=model[1], **kw)  # noqa: E731
    else:
        run_ = compute
    result = run_(model=model, quantities=prep["names"], temperatures=args.temperature, mus=prep["mus"],
                  kmesh=prep["kmesh"],
                  degen_thresh=_degen_thresh(args), batch_size=args.batch_size, parallel=parallel,
                  max_memory_mb=args.max_memory, tau_fs=args.tau, entropy_production_form=args.entropy_production_form,
                  tolerance=args.tolerance, abs_tolerance=args.abs_tolerance, max_kpoints=args.max_kpoints,
                  max_levels=args.max_levels, checkpoint=state["checkpoint"], restart=args.restart,
                  progress=not args.no_progress, **ac,
                  threads=args.threads, box_occupations=args.box_occupations,
                  symmetry_reduction=args.symmetry_reduction)
    if prep["fermi_energy"] is not None:
        result.attrs["fermi_energy_eV"] = prep["fermi_energy"]
        result.attrs["fermi_energy_source"] = prep["fermi_energy_source"]
    return result


def run(args) -> int:
    """Execute ``wbentropy compute``; returns the exit status."""
    import signal
    import time

    from ..integrate.parallel import INTERRUPT_EXIT_CODES, ignore_signals, world
    from ..io.outputs import save_with_fallback

    since = time.time()
    parallel = world()
    adaptive = args.tolerance is not None or args.max_kpoints is not None or args.restart is not None
    state = {"checkpoint": args.checkpoint or (str(args.out) + ".checkpoint.h5" if adaptive else None)}
    message = lambda signum: interrupt_message(signum, checkpoint=state["checkpoint"],  # noqa: E731
                                               restart=args.restart, since=since)
    parallel.interrupt_message = message
    try:
        with parallel.stop_all_on_error():
            result = _integrate(args, parallel, state, adaptive=adaptive)
            checkpoint = state["checkpoint"]
            if parallel.is_root:
                sys.stdout.write(result.to_text())  # first, and flushed: a failed write below cannot lose the numbers
                sys.stdout.flush()
                path = save_with_fallback(result.save, args.out)
                logger.info("wrote %s", path)
                if adaptive and checkpoint and args.checkpoint is None and result.attrs.get("converged"):
                    Path(checkpoint).unlink(missing_ok=True)  # default checkpoint of a finished run
    except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM (Interrupted); every rank is here
        ignore_signals()  # a second Ctrl-C must not interrupt the report (main() restores the handlers)
        signum = getattr(exc, "signum", signal.SIGINT)
        if parallel.is_root:
            sys.stderr.write(message(signum) + "\n")
        return INTERRUPT_EXIT_CODES.get(signum, 130)
    finally:
        parallel.close()  # reached by every rank together (a crash on one rank ends in MPI_Abort instead)
    return 0
