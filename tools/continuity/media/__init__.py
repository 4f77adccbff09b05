"""Weight-free media continuity analysis: timeline, breaks, palette and reference checks."""

from .analyze import analyze_media
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
from .palette import OFF_PALETTE_DELTA_E, dominant_palette

__all__ = [
    "OFF_PALETTE_DELTA_E",
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
