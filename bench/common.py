"""Helpers shared by the benchmarks."""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

from mcp import StdioServerParameters

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float], unit: str = "", scale: float = 1.0, digits: int = 2) -> str:
    """'median M (min a, max b)' of one figure measured once per run."""
    m, lo, hi = (scale * v for v in (median(values), min(values), max(values)))
    return f"{m:.{digits}f}{unit} (min {lo:.{digits}f}, max {hi:.{digits}f})"


def studio_params(cwd: Path, data_dir: Path, **env: str) -> StdioServerParameters:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "GEMINI_", "GOOGLE_"))}
    clean.update({"STUDIO_DATA_DIR": str(data_dir), "STUDIO_LOG_LEVEL": "WARNING", **env})
    return StdioServerParameters(command=str(BIN / "studio-mcp"), args=["serve"], env=clean, cwd=str(cwd))
