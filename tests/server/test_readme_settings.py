"""The README's settings table cannot drift from the settings model: every setting is documented."""

from __future__ import annotations

import re

from core import Settings
from core.genai.settings import TUNABLE_FIELDS
from tests.conftest import REPO


def documented() -> set[str]:
    """Variables named, in full, in the README's tables."""
    names: set[str] = set()
    for line in (REPO / "README.md").read_text().splitlines():
        if line.startswith("|"):
            names.update(re.findall(r"`(STUDIO_[A-Z0-9_]+)`", line))
    return names


def test_every_setting_is_in_the_readme() -> None:
    expected = {f"STUDIO_{name.upper()}" for name in Settings.model_fields}
    expected |= {f"STUDIO_GENAI_{name.upper()}" for name in TUNABLE_FIELDS}
    missing = sorted(expected - documented())
    assert missing == [], f"add these to the README's settings table: {missing}"
