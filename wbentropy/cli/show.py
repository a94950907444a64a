"""``wbentropy show``: print a result file as a table, or as CSV, whole or in part."""
from __future__ import annotations

import sys

from ..errors import InputError

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    s = sub.add_parser("show", help="print a result file as a table (or CSV with --csv)")
    s.add_argument("result", metavar="RESULT.h5")
    s.add_argument("--csv", action="store_true",
                   help="CSV instead of the table: a header row, then one row per quantity, T, mu (omega) and "
                        "component (columns " + ", ".join(_csv_columns()) + ")")
    s.add_argument("--quantities", default=None, metavar="LIST", help="only these quantities (comma-separated)")
    s.add_argument("--component", default=None, metavar="LIST",
                   help="only these components (comma-separated, e.g. xy or xx,yy; vectors: x, y, z)")
    s.add_argument("--temperature", nargs="+", type=float, default=None, metavar="K", help="only these temperatures")
    s.add_argument("--mu", nargs="+", type=float, default=None, metavar="EV", help="only these chemical potentials")
    s.add_argument("--mu-relative", action="store_true", help="read --mu as mu - E_F (the result's E_F)")


def _csv_columns() -> tuple:
    from ..io.tables import CSV_COLUMNS

    return CSV_COLUMNS


def run(args) -> int:
    from ..results import Result

    res = Result.load(args.result)
    mus = args.mu
    if mus is not None and args.mu_relative:
        ef = res.fermi_energy
        if ef is None:
            raise InputError("--mu-relative: the result records no E_F (compute it with --fermi-energy or a .win "
                             "that has fermi_energy)", path=args.result)
        mus = [m + ef for m in mus]
    names = None if args.quantities is None else [n.strip() for n in args.quantities.split(",") if n.strip()]
    res = res.select(quantities=names, temperatures=args.temperature, mus=mus)
    comps = None if args.component is None else [c.strip() for c in args.component.split(",") if c.strip()]
    if comps is not None:
        bad = [c for c in comps if not (1 <= len(c) <= 3 and set(c) <= set("xyz"))]
        if bad:
            raise InputError(f"--component: {', '.join(bad)} is not a component (one to three of x, y, z, e.g. xy)")
    sys.stdout.write(res.to_csv(components=comps) if args.csv else res.to_text(components=comps))
    return 0
