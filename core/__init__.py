"""The kernel every family may import: it imports no family and nothing from server/.

Here: settings, errors, path confinement, fault points, the clock and the Family protocol. They
import nothing heavy, so `serve` can answer its first requests before SQLAlchemy is loaded. The
shared context is `core.context.StudioContext`, the state store and its migrations `core.state`, the
google-genai boundary `core.genai`; colour science shared by style and continuity is `core.colour`.
"""

from core.clock import iso_of, now_iso
from core.errors import NotFound, StudioError, listing, shown
from core.family import BackgroundTask, Family
from core.faults import crash_point
from core.paths import ClientRoots, PathNotAllowed, confine, display, root_paths
from core.settings import EmbedderName, Settings

__all__ = [
    "BackgroundTask",
    "ClientRoots",
    "EmbedderName",
    "Family",
    "NotFound",
    "PathNotAllowed",
    "Settings",
    "StudioError",
    "confine",
    "crash_point",
    "display",
    "iso_of",
    "listing",
    "now_iso",
    "root_paths",
    "shown",
]
