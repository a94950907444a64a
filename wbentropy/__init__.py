"""wbentropy: quantum-geometric entropy transport from Wannier-interpolated Hamiltonians."""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import InputError
from .integrate import threads as _threads  # noqa: F401  (before numpy: BLAS threads per MPI rank)
from .model import TBModel

__all__ = ["__version__", "InputError", "TBModel"]
