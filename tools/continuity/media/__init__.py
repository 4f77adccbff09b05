"""Weight-free media continuity analysis: timeline, breaks, palette and reference checks.

numpy, scikit-image and PyAV load on the first analysis, not when the server starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import MediaError
from .models import (
    Break,
    Finding,
    MediaAnalysis,
    PaletteCheck,
    PaletteColour,
    PaletteMatch,
    ReferenceCheck,
    Region,
    Sample,
    TransitionCheck,
)


def analyze_media(path: str | Path, **options: Any) -> MediaAnalysis:
    """See `tools.continuity.media.analyze.analyze_media`."""
    from .analyze import analyze_media as analyze

    return analyze(path, **options)


def dominant_palette(image: Any, k: int = 5) -> list[PaletteColour]:
    """See `tools.continuity.media.palette.dominant_palette`."""
    from .palette import dominant_palette as palette

    return palette(image, k=k)


__all__ = [
    "Break",
    "Finding",
    "MediaAnalysis",
    "MediaError",
    "PaletteCheck",
    "PaletteColour",
    "PaletteMatch",
    "ReferenceCheck",
    "Region",
    "Sample",
    "TransitionCheck",
    "analyze_media",
    "dominant_palette",
]
