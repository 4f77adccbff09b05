"""The kernel every family may import: it imports no family and nothing from server/.

The shared context (settings, roots, the state store, the genai clients), the state store and its
migrations, errors, path confinement, fault points and the Family protocol. The google-genai
boundary is `core.genai`; colour science shared by style and continuity is `core.colour`.
"""

from core.clock import iso_of, now_iso
from core.context import StudioContext
from core.errors import NotFound, StudioError, listing, shown
from core.family import BackgroundTask, Family
from core.faults import crash_point
from core.paths import ClientRoots, PathNotAllowed, confine, display, root_paths
from core.settings import EmbedderName, Settings
from core.state import METADATA, AppendOnly, Migration, StateStore, StateUnavailable, Tx

__all__ = [
    "METADATA",
    "AppendOnly",
    "BackgroundTask",
    "ClientRoots",
    "EmbedderName",
    "Family",
    "Migration",
    "NotFound",
    "PathNotAllowed",
    "Settings",
    "StateStore",
    "StateUnavailable",
    "StudioContext",
    "StudioError",
    "Tx",
    "confine",
    "crash_point",
    "display",
    "iso_of",
    "listing",
    "now_iso",
    "root_paths",
    "shown",
]
