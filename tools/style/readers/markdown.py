"""Markdown: the title and heading-path sections of a Markdown text."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from tools.style.readers.document import Section, _add_section, _decode

MARKDOWN_SUFFIXES = (".md", ".markdown")

# CommonMark, as markdown-it-py parses it: headings inside fenced code or HTML comments are not
# headings, setext underlines and ATX closing hashes follow the spec.
_PARSER = MarkdownIt("commonmark")


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
    tokens = _PARSER.parse("".join(lines[skip:]))
    headings: list[tuple[int, str, int, int]] = []  # level, text, start offset, end offset
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.map is not None:
            first, last = token.map
            inline = tokens[i + 1].content if i + 1 < len(tokens) else ""
            headings.append((int(token.tag[1]), _clean_heading(inline), offsets[skip + first], offsets[skip + last]))

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


def _clean_heading(raw: str) -> str:
    return " ".join(re.sub(r"[*`]+", "", raw).split())
