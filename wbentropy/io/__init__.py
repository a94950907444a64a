"""Readers and writers for external file formats.

``tb`` (``SEED_tb.dat``), ``hr`` (``SEED_hr.dat`` and ``SEED_r.dat``), ``wsvec`` (``SEED_wsvec.dat``,
the MDRS correction), ``win`` (``SEED.win``), ``w90chk`` (``SEED.chk`` through WannierBerri),
``load`` (one entry point over all of them) and ``outputs`` (result files written safely).
"""
from __future__ import annotations
