"""Exceptions raised for user errors (bad input files, bad options).

Every user-facing error is an :class:`InputError` carrying the offending file
(and line, where it applies) so that the command line can print one clear
message and exit with a non-zero code instead of a traceback.
"""
from __future__ import annotations

import contextlib
import re
from pathlib import Path

__all__ = ["InputError", "parameter_names", "spell", "ConvergenceWarning", "InputWarning", "warn_unconverged",
           "warn_input"]


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


def spell(param: str, value=None) -> str:
    """How the caller names the parameter ``param`` (with ``value``): ``--wsvec FILE`` on the command line
    (inside :func:`parameter_names`), ``wsvec='FILE'`` in Python."""
    if _NAMING:
        flag = _NAMING[-1](param)
        return flag if value is None else f"{flag} {value}"
    return param if value is None else f"{param}={str(value)!r}"


def _report(message: str, category, logger_name: str, stacklevel: int) -> None:
    """A Python warning, and a ``logging`` warning where logging is configured (the command line shows the
    log line and ignores the warning): printed once either way, not twice by logging's last resort."""
    import logging
    import warnings

    log = logging.getLogger(logger_name)
    if log.hasHandlers():
        log.warning(message)
    warnings.warn(message, category, stacklevel=stacklevel + 1)


def warn_unconverged(message: str) -> None:
    """Report a likely unconverged result (:class:`ConvergenceWarning`, and a log line where logging is set up)."""
    _report(message, ConvergenceWarning, "wbentropy", stacklevel=3)


def warn_input(message: str, *, logger_name: str = "wbentropy") -> None:
    """Report an input used but probably not as meant (:class:`InputWarning`, and a log line where logging is
    set up)."""
    _report(message, InputWarning, logger_name, stacklevel=3)
