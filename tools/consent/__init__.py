"""Consent family: performers, likeness/voice consent, and the guard generation and continuity consult.

Other families use the names below, nothing else: a `ConsentService` (handed to them as `consent`):
`check(production, shot, text, reference_sha256, audio=, tool=)` refuses with `ConsentRequired`
before anything is spent; `likeness_references(pid)` lists performers' reference images for the
media check."""

from tools.consent.family import ConsentFamily
from tools.consent.models import ConsentCheck, ConsentReport, Performer
from tools.consent.service import ConsentRequired, ConsentService

__all__ = ["ConsentCheck", "ConsentFamily", "ConsentReport", "ConsentRequired", "ConsentService", "Performer"]
