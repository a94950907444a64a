"""Locate and unpack the shared real Wannier90 data for benchmarks (never copied into the repo)."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from wb_reference import prepare_material, shared_data_dir  # noqa: E402

EF_FE = 17.6255
EF_GAAS_VBM = 7.7209


def material(folder: str) -> Path:
    """Temp folder with the material's files (archives unpacked)."""
    if not (shared_data_dir() / folder).is_dir():
        raise SystemExit(f"shared data {shared_data_dir() / folder} not found (set WBENTROPY_SHARED_DATA)")
    dest = Path(os.environ.get("WBENTROPY_BENCH_TMP", tempfile.mkdtemp(prefix="wbentropy_bench_"))) / folder
    if not (dest / "DONE").exists():
        dest.mkdir(parents=True, exist_ok=True)
        prepare_material(folder=folder, dest=dest)
        (dest / "DONE").write_text("ok")
    return dest
