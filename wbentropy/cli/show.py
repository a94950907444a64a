"""``wbentropy show``: print a result file as a table."""
from __future__ import annotations

import sys

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    s = sub.add_parser("show", help="print a result file as a table")
    s.add_argument("result", metavar="RESULT.h5")


def run(args) -> int:
    from ..results import Result

    sys.stdout.write(Result.load(args.result).to_text())
    return 0
