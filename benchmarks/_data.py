"""The shared real Wannier90 data for the benchmarks (read in place, never copied into the repository).

The data live in ``$WBENTROPY_SHARED_DATA`` or, by default, ``../shared/data`` beside the
repository.  :func:`material` links a material's files into a scratch folder and unpacks its
``.tar.gz`` archives there.
"""
from __future__ import annotations

import os
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EF_FE = 17.6255


def shared_data() -> Path:
    """Folder of the shared data: ``$WBENTROPY_SHARED_DATA`` or ``../shared/data``."""
    return Path(os.environ.get("WBENTROPY_SHARED_DATA") or REPO.parent / "shared" / "data")


def material(folder: str) -> Path:
    """Scratch folder holding ``shared_data()/folder`` (files linked, archives unpacked)."""
    src = shared_data() / folder
    if not src.is_dir():
        raise SystemExit(f"shared data {src} not found (set WBENTROPY_SHARED_DATA)")
    scratch = os.environ.get("WBENTROPY_BENCH_TMP") or tempfile.mkdtemp(prefix="wbentropy_bench_")
    dest = Path(scratch) / folder
    if (dest / "DONE").exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    for item in sorted(src.iterdir()):
        if item.name.endswith(".tar.gz"):
            with tarfile.open(item, "r:gz") as tar:
                tar.extractall(dest, members=[m for m in tar.getmembers() if m.isfile()], filter="data")
        elif not (dest / item.name).exists():
            (dest / item.name).symlink_to(item.resolve())
    (dest / "DONE").write_text("ok")
    return dest


if __name__ == "__main__":
    # python benchmarks/_data.py Fe_Wannier90  -> prints the prepared folder (for `wbentropy compute --w90 DIR/Fe`)
    import sys

    print(material(sys.argv[1] if len(sys.argv) > 1 else "Fe_Wannier90"))
