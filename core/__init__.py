"""The kernel every family may import: it imports no family and nothing from server/.

The shared context (settings, roots, the state store, the genai clients), the state store and its
migrations, errors, path confinement, fault points and the Family protocol. The google-genai
boundary is `core.genai`; colour science shared by style and continuity is `core.colour`.
"""

from core.clock import iso_of, now_iso
from core.context import StudioContext
from core.errors import NotFound, StudioError
from core.family import BackgroundTask, Family
from core.faults import crash_point
from core.paths import PathNotAllowed, client_roots, confine
from core.settings import EmbedderName, Settings
from core.state import Migration, StateStore, Tx

__all__ = [
    "BackgroundTask",
    "EmbedderName",
    "Family",
    "Migration",
    "NotFound",
    "PathNotAllowed",
    "Settings",
    "StateStore",
    "StudioContext",
    "StudioError",
    "Tx",
    "client_roots",
    "confine",
    "crash_point",
    "iso_of",
    "now_iso",
]
