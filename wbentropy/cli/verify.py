"""``wbentropy verify``: the paper's relations checked on a system (:mod:`wbentropy.verify`)."""
from __future__ import annotations

import sys

from . import options as O

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """The ``verify`` subcommand (same model options as ``compute``)."""
    from ..kspace.geometry import DEFAULT_DEGEN_THRESH

    v = sub.add_parser("verify", help="check the paper's relations (Onsager, Mott, Maxwell, Eq. 34, ...) "
                                      "on a system; exit status 1 if any check fails")
    O.add_model_arguments(v)
    O.add_kmesh(v)
    v.add_argument("--temperature", type=float, required=True, metavar="K", help="temperature in K (> 0)")
    v.add_argument("--mu", type=float, required=True, metavar="EV", help="chemical potential in eV")
    O.add_tau(v, default=10.0, help="relaxation time for the entropy-production checks (default 10 fs)")
    O.add_ac_arguments(v, omega_help="photon energies for the Eq. (34) check, eV (default 0.1..4 eV)",
                       smearing_help="broadening of the AC conductivities (default: lorentzian 0.05)")
    v.add_argument("--samples", type=int, default=32, help="random k-points for the per-k checks (default 32)")
    O.add_degen_thresh(v, default=DEFAULT_DEGEN_THRESH)
    O.add_verbose(v)


def run(args) -> int:
    """Execute ``wbentropy verify``; returns the exit status (1 if a check fails)."""
    from ..verify import DEFAULT_OMEGAS, _check_inputs, format_table, verify

    ac = O.ac_options(args)
    omegas = DEFAULT_OMEGAS if ac["omegas"] is None else ac["omegas"]
    _check_inputs(temperature=args.temperature, mu=args.mu, tau_fs=args.tau, omegas=omegas,
                  smearing=ac["smearing"], smearing_width=ac["smearing_width"], kmesh=args.kmesh,
                  degen_thresh=args.degen_thresh, n_samples=args.samples)  # before the (slow) model load
    model = O.load_model_from_args(args)
    model = O.symmetry_step(model, args, mus=[args.mu], temperatures=[args.temperature])
    checks = verify(model=model, temperature=args.temperature, mu=args.mu, kmesh=args.kmesh, tau_fs=args.tau,
                    omegas=omegas, smearing=ac["smearing"], smearing_width=ac["smearing_width"],
                    n_samples=args.samples, degen_thresh=args.degen_thresh)
    header = (f"# wbentropy verify: {model.name} ({model.num_wann} Wannier functions), T = {args.temperature:g} K, "
              f"mu = {args.mu:g} eV, mesh {tuple(args.kmesh)}")
    sys.stdout.write(format_table(checks, header=header))
    return 1 if any(c.status == "FAIL" for c in checks) else 0
