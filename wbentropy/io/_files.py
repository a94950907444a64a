"""Open input files safely: regular files only, bounded reads of plain or gzip-compressed data.

Every reader of a user file goes through here, so that

* a FIFO, a character device (``/dev/zero``), a socket or a folder is refused from
  ``os.stat`` before it is opened (opening a FIFO would block; reading ``/dev/zero``
  would never end);
* the amount read is bounded by what the file's own header (or the model it belongs
  to) announces, with a generous margin: a plain file larger than that is refused from
  its size, a ``.gz`` file is decompressed in chunks and refused as soon as it exceeds
  the bound (a gzip bomb costs at most the bound, not gigabytes);
* a header announcing more data than the file can possibly hold (``num_wann = 10^9``)
  is refused before anything is allocated for it.
"""
from __future__ import annotations

import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import InputError

__all__ = ["Limit", "LINE_BYTES", "SLACK_BYTES", "DEFAULT_MAX_BYTES", "SPECIAL_FILES", "check_regular",
           "read_input_bytes", "special_kind"]

#: Bytes allowed per expected line when a bound is derived from a line count: Wannier90
#: writes at most ~110 characters per line, wbentropy's full-precision writer ~170.
LINE_BYTES = 512
#: Bytes allowed on top of every bound (long header comments, blank lines, CRLF).
SLACK_BYTES = 1 << 20
#: Bound for files whose size no header announces (``.win``, ``.nnkp``).
DEFAULT_MAX_BYTES = 64 << 20
#: Deflate cannot compress better than about 1032:1, so a gzip file of S bytes holds less
#: than this many times S bytes of data.
_MAX_DEFLATE_RATIO = 1100
_HEAD_BYTES = 1 << 20
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"

#: Special files, refused as inputs (here) and as outputs (:mod:`wbentropy.io.outputs`):
#: (test of the ``st_mode``, what the file is, an example or "")
SPECIAL_FILES = ((stat.S_ISFIFO, "a named pipe (FIFO)", ""), (stat.S_ISCHR, "a character device", "/dev/null"),
                 (stat.S_ISBLK, "a block device", ""), (stat.S_ISSOCK, "a socket", ""))


@dataclass(frozen=True)
class Limit:
    """What a file's header (or the model it belongs to) announces about its size.

    Parameters
    ----------
    max_bytes : int
        Most (decompressed) bytes the file may hold.
    min_bytes : int
        Fewest (decompressed) bytes consistent with the announced counts (0: no bound).
    what : str
        The announced counts, e.g. ``"num_wann = 2 and nrpts = 7"``.
    source : str
        Where they were announced, e.g. ``"in its header"``.
    line : int, optional
        Line of the announcement in this file (for the too-small message).
    hint : str
        Likely cause of a file larger than announced (default: damaged file or gzip bomb).
    """

    max_bytes: int
    min_bytes: int = 0
    what: str = ""
    source: str = ""
    line: int | None = None
    hint: str = ""


def special_kind(mode: int, *, example: bool = False) -> str | None:
    """What a special file of mode ``mode`` is (``"a socket"``); None for a regular file or a folder.

    With ``example``, a well-known file of the kind follows in brackets:
    ``"a character device (such as /dev/null)"``.
    """
    for test, what, known in SPECIAL_FILES:
        if test(mode):
            return f"{what} (such as {known})" if example and known else what
    return None


def _kind(mode: int) -> str:
    return special_kind(mode) or "not a regular file"


def check_regular(path: str | Path) -> os.stat_result:
    """``os.stat`` of ``path`` (symlinks followed); InputError unless it is a regular file.

    Nothing is opened, so a FIFO cannot block and a device is never read.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory, not a file", path=path)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"not a regular file ({_kind(st.st_mode)}); inputs must be files on disk", path=path)
    return st


def read_input_bytes(path: str | Path, *, limit: Callable[[bytes], Limit | None] | Limit | None = None) -> bytes:
    """The (decompressed) contents of a regular, plain or gzip-compressed file, bounded.

    Parameters
    ----------
    path : str or Path
        The file.
    limit : Limit, or callable (first up to 1 MiB of data -> Limit or None), optional
        The bound; a callable reads the counts from the file's header.  None, or a callable
        returning None (no readable header: the parser reports it), means
        :data:`DEFAULT_MAX_BYTES`.

    Raises
    ------
    InputError
        Not a regular file, unreadable, corrupt gzip data, or a size outside the bound.
    """
    check_regular(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path=path) from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):  # replaced between stat and open
            raise InputError(f"not a regular file ({_kind(st.st_mode)}); inputs must be files on disk", path=path)
        try:
            gz = fh.read(2) == _GZIP_MAGIC
            fh.seek(0)
            if gz:
                import gzip

                with gzip.GzipFile(fileobj=fh, mode="rb") as stream:
                    return _read_bounded(stream, path=path, size=st.st_size, gz=True, limit=limit)
            return _read_bounded(fh, path=path, size=st.st_size, gz=False, limit=limit)
        except (EOFError, zlib.error) as exc:
            raise InputError(f"corrupt gzip file ({exc})", path=path) from None
        except OSError as exc:
            if gz:
                raise InputError(f"corrupt gzip file ({exc})", path=path) from None
            raise InputError(f"cannot read file ({exc.strerror or exc})", path=path) from None


def _read_bounded(stream, *, path, size: int, gz: bool, limit) -> bytes:
    """Read ``stream`` (file size ``size`` on disk) within the bound of ``limit``, in chunks."""
    head = stream.read(_HEAD_BYTES)
    lim = limit(head) if callable(limit) else limit
    if lim is None:
        lim = Limit(max_bytes=DEFAULT_MAX_BYTES)
    capacity = size * _MAX_DEFLATE_RATIO + 4096 if gz else size
    if lim.min_bytes > capacity:
        held = (f"a gzip file of {size:,} bytes cannot hold that much" if gz
                else f"the file has only {size:,} bytes")
        raise InputError(f"{lim.what} announced {lim.source} need at least {lim.min_bytes:,} bytes, but {held} "
                         f"(wrong header?)", path=path, line=lim.line)
    bound = (f"{lim.what} {lim.source} allow" if lim.what
             else "wbentropy reads from a file whose size no header announces")
    if not gz and size > lim.max_bytes:
        raise InputError(f"file too large: {size:,} bytes, but {bound} at most {lim.max_bytes:,} bytes "
                         f"({lim.hint or 'damaged, or not the file meant?'})", path=path)
    chunks = [head]
    total = len(head)
    while total <= lim.max_bytes:
        chunk = stream.read(min(_CHUNK, lim.max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > lim.max_bytes:
        most = f"the most that {bound}" if lim.what else f"the most {bound}"
        raise InputError(f"decompresses to more than {lim.max_bytes:,} bytes, {most}; "
                         f"reading stopped there ({lim.hint or 'damaged file or gzip bomb?'})", path=path)
    return b"".join(chunks)
