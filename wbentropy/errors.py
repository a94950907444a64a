"""Exceptions raised for user errors (bad input files, bad options).

Every user-facing error is an :class:`InputError` carrying the offending file
(and line, where it applies) so that the command line can print one clear
message and exit with a non-zero code instead of a traceback.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["InputError", "ConvergenceWarning", "InputWarning", "warn_unconverged"]


class InputError(ValueError):
    """A problem with user input: a file, an option or a value.

    Parameters
    ----------
    message : str
        What is wrong, in words a user understands.
    path : str or Path, optional
        The file concerned.
    line : int, optional
        1-based line number in ``path`` where the problem was found.
    """

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        where = ""
        if self.path is not None:
            where = f"{self.path}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        super().__init__(where + message)


class ConvergenceWarning(UserWarning):
    """A result is likely unconverged (error above tolerance, under-sampled Fermi surface, ...)."""


class InputWarning(UserWarning):
    """An input is used, but probably not as meant (a ``_wsvec.dat`` beside it not given, mu outside the bands)."""


def warn_unconverged(message: str) -> None:
    """Report a likely unconverged result: a ``logging`` warning and a :class:`ConvergenceWarning`."""
    import logging
    import warnings

    logging.getLogger("wbentropy").warning(message)
    warnings.warn(message, ConvergenceWarning, stacklevel=3)
