"""Plain text: the whole file is one section under its title."""

from __future__ import annotations

from tools.style.readers.document import Section, _add_section, _decode

TEXT_SUFFIXES = (".txt",)


def _read_plain_text(raw: bytes, label: str, title: str) -> tuple[str, str, list[Section]]:
    """(title, text, sections) of a plain-text file: one section headed by `title`."""
    text = _decode(raw, label)
    return title, text, _whole(text, title)


def _whole(text: str, heading: str) -> list[Section]:
    sections: list[Section] = []
    _add_section(sections, text, heading, 0, len(text))
    return sections
