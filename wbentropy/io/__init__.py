"""Readers and writers for external file formats."""
from __future__ import annotations
