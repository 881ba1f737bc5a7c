"""Shared test helpers."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
