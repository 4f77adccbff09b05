"""JSON brand kit: rendered to Markdown (Palette, Typography, Do, Don't, then the rest) plus its swatches."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from core.colour import normalise_hex
from tools.style.errors import StyleInputError
from tools.style.palette import PaletteColour, swatch
from tools.style.readers.document import _decode, _humanise

JSON_SUFFIXES = (".json",)

_NAME_KEYS = ("name", "title", "brand", "kit")
_PALETTE_KEYS = ("palette", "colours", "colors", "colourpalette", "colorpalette", "swatches")
_TYPE_KEYS = ("typography", "type", "fonts", "typefaces")
_DO_KEYS = ("do", "dos")
_DONT_KEYS = ("dont", "donts", "avoid", "never")
_NESTED_RULE_KEYS = ("guidelines", "rules", "usage")
_DESCRIPTION_KEYS = ("description", "summary")
_HEX_IN_TEXT = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def _read_brand_kit(raw: bytes, label: str, fallback_title: str) -> tuple[str, list[PaletteColour]]:
    """Render a brand kit as Markdown: Palette, Typography, Do, Don't, then anything else."""
    source_text = _decode(raw, label)
    try:
        data = json.loads(source_text)
    except json.JSONDecodeError as exc:
        raise StyleInputError(
            f"'{label}' is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
            "Fix it there (`python -m json.tool FILE` shows the spot) and ingest again."
        ) from exc
    if not isinstance(data, dict):
        raise StyleInputError(
            f"'{label}' is a JSON {type(data).__name__}, not a brand kit. Expected an object with keys "
            "such as palette, typography, do, dont."
        )
    fields: dict[str, Any] = dict(data)
    for k in list(fields):
        if _key(k) in _NESTED_RULE_KEYS and isinstance(fields[k], dict):
            for inner_key, inner in fields.pop(k).items():
                fields.setdefault(inner_key, inner)

    name_key = next((k for k in fields if _key(k) in _NAME_KEYS and isinstance(fields[k], str)), None)
    title = str(fields.pop(name_key)).strip() if name_key else fallback_title
    palette = _parse_palette(_pop_first(fields, _PALETTE_KEYS), label)
    typography = _pop_first(fields, _TYPE_KEYS)
    dos = _pop_first(fields, _DO_KEYS)
    donts = _pop_first(fields, _DONT_KEYS)
    description = _pop_first(fields, _DESCRIPTION_KEYS)

    out = [f"# {title}"]
    intro = [_inline(description)] if description else []
    intro += [
        f"{_humanise(k)}: {_inline(v)}" for k, v in fields.items() if v is not None and not isinstance(v, dict | list)
    ]
    if intro:
        out.append("\n".join(intro))
    if palette:
        lines = []
        for colour, usage in palette:
            line = f"- {colour.name} {colour.hex} ({colour.common_name})"
            lines.append(f"{line}: {usage}" if usage else line)
        out.append("## Palette\n" + "\n".join(lines))
    if typography:
        out.append("## Typography\n" + "\n".join(_bullets(typography)))
    if dos:
        out.append("## Do\n" + "\n".join(_bullets(dos)))
    if donts:
        out.append("## Don't\n" + "\n".join(_bullets(donts)))
    for k, v in fields.items():
        if isinstance(v, dict | list) and v:
            out.append(f"## {_humanise(k)}\n" + "\n".join(_bullets(v)))
    if len(out) == 1:
        raise StyleInputError(
            f"'{label}' has nothing to index. A brand kit needs at least one of: palette (names with hex "
            "codes), typography, do, dont."
        )
    return "\n\n".join(out) + "\n", [colour for colour, _ in palette]


def _parse_palette(value: Any, label: str) -> list[tuple[PaletteColour, str]]:
    """(swatch, usage text) for each colour; shapes accepted are listed in _palette_entries."""
    result: list[tuple[PaletteColour, str]] = []
    for group, name, item in _palette_entries(value, label):
        raw_hex: Any = None
        usage = ""
        if isinstance(item, dict):
            raw_hex = _colour_field(item)
            name = str(item.get("name") or item.get("label") or item.get("title") or name)
            usage = _inline({k: v for k, v in item.items() if _key(k) not in _RECORD_KEYS})
        elif isinstance(item, str):
            match = _HEX_IN_TEXT.search(item)
            raw_hex = match.group(0) if match else item
            rest = item.replace(match.group(0), "").strip(" :-–—,") if match else ""
            name = rest or name
        hex_code = normalise_hex(raw_hex) if isinstance(raw_hex, str) else None
        if hex_code is None:
            raise StyleInputError(
                f"'{label}': palette colour '{name or item}' has {raw_hex!r}, which is not a hex code. "
                'Write each colour as #RRGGBB, e.g. {"name": "Harbour Teal", "hex": "#1F5F63"}.'
            )
        if group:
            usage = f"{group}; {usage}" if usage else group
        result.append((swatch(hex_code, name=name.strip() or None), usage))
    return result


def _palette_entries(value: Any, label: str) -> list[tuple[str, str, Any]]:
    """(group, name, item) from: a list of {name, hex, ...} records or "Name #hex" strings;
    a {name: hex} or {name: {hex, ...}} map; or groups of those ({"primary": [...], ...})."""
    if value is None:
        return []
    if isinstance(value, list):
        return [("", "", item) for item in value]
    if not isinstance(value, dict):
        raise StyleInputError(
            f"'{label}': palette must be a list or an object of colours, not a {type(value).__name__}."
        )
    entries: list[tuple[str, str, Any]] = []
    for name, item in value.items():
        if isinstance(item, list):
            entries.extend((str(name), "", sub) for sub in item)
        elif isinstance(item, dict) and _colour_field(item) is None:
            entries.extend((str(name), str(k), v) for k, v in item.items())
        else:
            entries.append(("", str(name), item))
    return entries


_RECORD_KEYS = {"name", "label", "title", "hex", "hexcode", "value", "color", "colour", "code"}


def _colour_field(record: dict[str, Any]) -> Any:
    for k, v in record.items():
        if _key(k) in ("hex", "hexcode", "value", "color", "colour", "code") and isinstance(v, str):
            return v
    return None


def _pop_first(fields: dict[str, Any], keys: Sequence[str]) -> Any:
    """Remove and return the first field whose normalised key is one of `keys`."""
    for k in list(fields):
        if _key(k) in keys:
            return fields.pop(k)
    return None


def _key(raw: str) -> str:
    """'Don't' -> 'dont', "Do's" -> 'dos', 'Colour Palette' -> 'colourpalette'."""
    return re.sub(r"[^a-z0-9]", "", str(raw).lower())


def _bullets(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [f"- {_humanise(str(k))}: {_inline(v)}" for k, v in value.items()]
    if isinstance(value, list):
        return [f"- {_inline(v)}" for v in value]
    return [f"- {_inline(value)}"]


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{_humanise(str(k)).lower()}: {_inline(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_inline(v) for v in value)
    return str(value)
