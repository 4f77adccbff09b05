"""Markdown: the title and heading-path sections of a Markdown text."""

from __future__ import annotations

import re

from tools.style.readers.document import Section, _add_section, _decode

MARKDOWN_SUFFIXES = (".md", ".markdown")

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s")


def _read_markdown(raw: bytes, label: str, fallback_title: str) -> tuple[str, str, list[Section]]:
    """(title, text, sections) of a Markdown file; the title is its first H1, else `fallback_title`."""
    text = _decode(raw, label)
    title, sections = markdown_sections(text, fallback_title)
    return title, text, sections


def markdown_sections(text: str, fallback_title: str) -> tuple[str, list[Section]]:
    """(title, sections) of Markdown: the title is the first H1, else `fallback_title`.

    Each section is the body under one heading, labelled with its heading path. A path that does
    not start at an H1 is rooted at the title, so every chunk says which document it is from.
    Headings inside fenced code and YAML front matter are ignored.
    """
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    skip = _front_matter_lines(lines)
    headings: list[tuple[int, str, int, int]] = []  # level, text, start offset, end offset
    fence: str | None = None
    for i, line in enumerate(lines):
        if i < skip:
            continue
        stripped = line.rstrip("\n")
        fence_match = _FENCE.match(stripped)
        if fence is not None:
            if fence_match and fence_match.group(1)[0] == fence[0] and len(fence_match.group(1)) >= len(fence):
                fence = None
            continue
        if fence_match:
            fence = fence_match.group(1)
            continue
        atx = _ATX.match(stripped)
        if atx:
            headings.append((len(atx.group(1)), _clean_heading(atx.group(2) or ""), offsets[i], offsets[i + 1]))
            continue
        setext = _SETEXT.match(stripped)
        if setext and i > skip and _is_setext_text(lines, i, skip, headings, offsets):
            level = 1 if setext.group(1)[0] == "=" else 2
            headings.append((level, _clean_heading(lines[i - 1]), offsets[i - 1], offsets[i + 1]))

    title = next((h[1] for h in headings if h[0] == 1 and h[1]), fallback_title)
    sections: list[Section] = []
    preamble_end = headings[0][2] if headings else len(text)
    # Text before the first heading is not under that heading: label it with the fallback title.
    _add_section(sections, text, fallback_title, 0, preamble_end)
    stack: list[tuple[int, str]] = []
    for n, (level, heading, _start, end) in enumerate(headings):
        while stack and stack[-1][0] >= level:
            stack.pop()
        if heading:
            stack.append((level, heading))
        path = [h for _, h in stack]
        if not stack or stack[0][0] != 1:
            path.insert(0, title)
        body_end = headings[n + 1][2] if n + 1 < len(headings) else len(text)
        _add_section(sections, text, " > ".join(path), end, body_end)
    return title, sections


def _front_matter_lines(lines: list[str]) -> int:
    """Number of lines of a leading YAML front-matter block (0 if none)."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for i in range(1, min(len(lines), 200)):
        if lines[i].rstrip() in ("---", "..."):
            return i + 1
    return 0


def _is_setext_text(
    lines: list[str], i: int, skip: int, headings: list[tuple[int, str, int, int]], offsets: list[int]
) -> bool:
    """A `===`/`---` underline makes a heading only of a lone one-line paragraph (not a list item),
    so a `---` rule after a longer paragraph stays a rule."""
    previous = lines[i - 1]
    if not previous.strip() or _LIST_ITEM.match(previous) or _FENCE.match(previous):
        return False
    if headings and headings[-1][3] > offsets[i - 1]:
        return False
    return i - 1 == skip or not lines[i - 2].strip()


def _clean_heading(raw: str) -> str:
    return re.sub(r"[*`]+", "", raw).strip()
