"""Progress of an integration, reported by rank 0: a bar on a terminal, periodic lines in a batch job.

A :class:`Progress` counts the k-points this rank has evaluated out of its share of a stage (a
uniform mesh, or one refinement level) and reports rank 0's count, scaled to all ranks (the
batches are shared evenly), with the rate and the time left:

    wbentropy: uniform mesh: 1 228 800 / 2 097 152 k-points (58.6 %), 84 210 k-points/s, 10 s left

On a terminal (stderr is a tty) the line is redrawn in place at most twice a second; otherwise
(``mpiexec``, Slurm, a pipe) a new line is written every ``WBENTROPY_PROGRESS_INTERVAL`` seconds
(default 30; 0 switches the lines off).  Nothing is printed for a stage shorter than that.
"""
from __future__ import annotations

import os
import sys
import threading
import time

__all__ = ["Progress", "progress_interval"]

#: environment variable: seconds between progress lines when stderr is not a terminal (0: none)
INTERVAL_VAR = "WBENTROPY_PROGRESS_INTERVAL"
_DEFAULT_INTERVAL = 30.0
_TTY_INTERVAL = 0.5


def progress_interval() -> float:
    """Seconds between progress lines in a batch job (``WBENTROPY_PROGRESS_INTERVAL``, default 30)."""
    try:
        value = float(os.environ.get(INTERVAL_VAR, _DEFAULT_INTERVAL))
    except ValueError:
        return _DEFAULT_INTERVAL
    return value if value >= 0 else _DEFAULT_INTERVAL


def _group(n: int) -> str:
    return f"{n:,}".replace(",", " ")


class Progress:
    """Progress of one rank through stages of known size; only an enabled instance (rank 0) prints.

    Parameters
    ----------
    enabled : bool
        Print (rank 0 with progress asked for); a disabled instance only counts.
    ranks : int
        Number of ranks sharing each stage evenly: the count is scaled by it.
    stream : file, optional
        Where to write (default stderr).
    """

    def __init__(self, *, enabled: bool, ranks: int = 1, stream=None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = _TTY_INTERVAL if self.tty else progress_interval()
        self.enabled = enabled and self.interval > 0
        self.ranks = max(1, int(ranks))
        self._lock = threading.Lock()
        self._label, self._total, self._done, self._t0, self._last = "", 0, 0, 0.0, 0.0
        self._drawn = False

    def start(self, label: str, total: int) -> None:
        """A new stage of ``total`` k-points over all ranks."""
        with self._lock:
            self._label, self._total, self._done = label, int(total), 0
            self._t0 = self._last = time.perf_counter()

    def advance(self, n: int) -> None:
        """This rank evaluated ``n`` more k-points (thread-safe)."""
        with self._lock:
            self._done += int(n)
            now = time.perf_counter()
            if self.enabled and now - self._last >= self.interval:
                self._last = now
                self._write(self.line(now))

    def line(self, now: float | None = None) -> str:
        """The report: k-points done of the stage, rate and time left."""
        now = time.perf_counter() if now is None else now
        done = min(self._total, self._done * self.ranks)
        elapsed = max(now - self._t0, 1e-9)
        rate = done / elapsed
        left = (self._total - done) / rate if rate > 0 else float("inf")
        pct = 100.0 * done / self._total if self._total else 100.0
        eta = f"{left:.0f} s left" if left < float("inf") else "time left unknown"
        return (f"wbentropy: {self._label}: {_group(done)} / {_group(self._total)} k-points ({pct:.1f} %), "
                f"{_group(int(rate))} k-points/s, {eta}")

    def _write(self, text: str) -> None:
        if self.tty:
            width = 24
            frac = min(1.0, self._done * self.ranks / self._total) if self._total else 1.0
            bar = "#" * int(width * frac) + "." * (width - int(width * frac))
            self.stream.write(f"\r[{bar}] {text}")
            self._drawn = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """End a bar's line (nothing to do for line reports)."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
