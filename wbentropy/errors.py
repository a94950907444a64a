"""Exceptions raised for user errors (bad input files, bad options).

Every user-facing error is an :class:`InputError` carrying the offending file
(and line, where it applies) so that the command line can print one clear
message and exit with a non-zero code instead of a traceback.
"""
from __future__ import annotations

import contextlib
import re
from pathlib import Path

__all__ = ["InputError", "parameter_names", "ConvergenceWarning", "InputWarning", "warn_unconverged"]


class InputError(ValueError):
    """A problem with user input: a file, an option or a value.

    Parameters
    ----------
    message : str
        What is wrong, in words a user understands.  With ``param``, the message may name
        parameters as ``{name}`` (``"{kmesh} 0 4 4 has ..."``); without a placeholder it is
        prefixed by ``"{param}: "``.
    param : str, optional
        The Python parameter concerned (``"kmesh"``, ``"tau_fs"``).  ``str()`` spells every
        ``{name}`` as the Python name; the command line (:func:`parameter_names`) spells them as
        its options (``--kmesh``, ``--tau``).
    path : str or Path, optional
        The file concerned.
    line : int, optional
        1-based line number in ``path`` where the problem was found.
    """

    def __init__(self, message: str, *, param: str | None = None, path: str | Path | None = None,
                 line: int | None = None) -> None:
        self.param = param
        self.template = message if param is None or _PLACEHOLDER.search(message) else "{" + param + "}: " + message
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}"
            if self.line is not None:
                where += f", line {self.line}"
            where += ": "
        if self.param is None:
            return where + self.template
        spell = _NAMING[-1] if _NAMING else (lambda name: name)
        return where + _PLACEHOLDER.sub(lambda m: spell(m.group(1)), self.template)


#: a parameter named in a message: ``{kmesh}``, ``{tau_fs}``
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


#: spellings of parameter names in messages, innermost last (empty: the Python names)
_NAMING: list = []


@contextlib.contextmanager
def parameter_names(spell):
    """Within the block, :class:`InputError` messages spell a parameter ``name`` as ``spell(name)``
    (the command line's option, e.g. ``tau_fs`` -> ``--tau``)."""
    _NAMING.append(spell)
    try:
        yield
    finally:
        _NAMING.pop()


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
