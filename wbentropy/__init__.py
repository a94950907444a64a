"""wbentropy: quantum-geometric entropy transport from Wannier-interpolated Hamiltonians.

Importing the package loads nothing heavy and changes no environment variable; ``TBModel``,
``InputError`` and ``configure_threads`` are loaded on first use.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "InputError", "TBModel", "configure_threads"]

#: lazily loaded attribute -> (module, name)
_LAZY = {"InputError": (".errors", "InputError"), "TBModel": (".model", "TBModel"),
         "configure_threads": (".integrate.threads", "configure")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module, __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
