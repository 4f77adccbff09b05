"""Input checks for productions, briefs and shot lists. Each failure names the problem and the fix,
and every problem in a shot list is reported at once so an agent can correct it in one go."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from slugify import slugify as slug

from tools.production.errors import InvalidInput
from tools.production.models import SCENE_NAME, ShotSpec

MAX_NAME = 120
MAX_TEXT = 4000
MAX_ITEM = 500
MAX_ITEMS = 100
MAX_SHOTS = 200
SHOT_FIELDS = frozenset(ShotSpec.model_fields)


def slugify(name: str) -> str:
    """An id from a name, transliterated ('Les Misérables' -> 'les-miserables', 'Łódź Nights' ->
    'lodz-nights'; other scripts romanised), at most 63 characters."""
    return slug(name, max_length=63, word_boundary=True)


def production_name(name: str) -> tuple[str, str]:
    """(display name, id) for a new production."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("The production name is empty: pass a name such as 'Lantern Ferry'.")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"The production name is {len(name)} characters: keep it to {MAX_NAME}.")
    slug = slugify(name)
    if not slug:
        raise InvalidInput(f"The production name {name!r} has no letters or digits to make an id from: add some.")
    return name, slug


def required_text(field: str, value: str | None, example: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"The brief's {field} is empty: pass {field}, e.g. {example!r}.")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"The brief's {field} is {len(text)} characters: keep it to {MAX_TEXT}.")
    return text


def budget(value: float | None) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(
            f"budget_usd={value} is below zero (or not a number): pass a budget of 0 or more in US dollars, "
            "or leave it out for no budget."
        )
    return float(value)


def items(field: str, values: Sequence[str]) -> list[str]:
    """Stripped, de-duplicated (case-insensitively, first spelling wins) list items."""
    out: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(values, 1):
        item = (raw or "").strip()
        if not item:
            raise InvalidInput(f"{field} item {i} is empty: remove it or write the constraint.")
        if len(item) > MAX_ITEM:
            raise InvalidInput(f"{field} item {i} is {len(item)} characters: keep each to {MAX_ITEM}.")
        if item.casefold() not in seen:
            seen.add(item.casefold())
            out.append(item)
    if len(out) > MAX_ITEMS:
        raise InvalidInput(f"{field} has {len(out)} items: keep it to {MAX_ITEMS}.")
    return out


def no_contradiction(must: Sequence[str], must_not: Sequence[str]) -> None:
    clash = sorted({m.casefold() for m in must} & {m.casefold() for m in must_not})
    if clash:
        raise InvalidInput(
            f"The brief would both require and forbid {', '.join(repr(c) for c in clash)}: "
            "keep each constraint in only one of must and must_not."
        )


def scene_name(scene: str) -> str:
    scene = (scene or "").strip()
    if not SCENE_NAME.match(scene):
        raise InvalidInput(
            f"Scene {scene!r} is not a valid scene name: use 1-32 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (e.g. '3' or '12a')."
        )
    return scene


def shot_specs(scene: str, raw: Sequence[dict[str, Any] | ShotSpec]) -> list[ShotSpec]:
    """Validate a whole shot list; raises one InvalidInput listing every problem."""
    if not raw:
        raise InvalidInput(
            f"Scene {scene!r} has no shots: pass at least one shot, e.g. "
            "[{'number': 1, 'description': 'Wide of the harbour at dusk', 'duration_s': 8}]."
        )
    if len(raw) > MAX_SHOTS:
        raise InvalidInput(f"Scene {scene!r} has {len(raw)} shots: split it into scenes of at most {MAX_SHOTS}.")
    problems: list[str] = []
    specs: list[ShotSpec] = []
    for index, item in enumerate(raw):
        if isinstance(item, ShotSpec):
            specs.append(item)
            continue
        label = _label(index, item)
        if not isinstance(item, dict):
            problems.append(f"{label}: is not an object; pass each shot as an object with number and description")
            continue
        unknown = sorted(set(item) - SHOT_FIELDS)
        if unknown:
            problems.append(
                f"{label}: unknown field(s) {', '.join(unknown)}; valid fields: {', '.join(sorted(SHOT_FIELDS))}"
            )
        try:
            specs.append(ShotSpec.model_validate({k: v for k, v in item.items() if k in SHOT_FIELDS}))
        except ValidationError as exc:
            problems.extend(f"{label}: {_explain(error)}" for error in exc.errors())
    # Counted on the raw numbers too, so a duplicate is reported even beside another problem.
    numbers = [_number(item) for item in raw]
    duplicates = sorted(n for n, count in Counter(numbers).items() if count > 1 and isinstance(n, int))
    if duplicates:
        problems.append(
            f"shot number(s) {', '.join(map(str, duplicates))} appear more than once; "
            "number the shots 1, 2, 3... with each number once"
        )
    if problems:
        raise InvalidInput(f"Scene {scene!r}: the shot list was not saved: " + "; ".join(problems) + ".")
    return sorted(specs, key=lambda s: s.number)


def _number(item: Any) -> Any:
    if isinstance(item, ShotSpec):
        return item.number
    return item.get("number") if isinstance(item, dict) else None


def _label(index: int, item: Any) -> str:
    number = item.get("number") if isinstance(item, dict) else None
    return f"shot {number} (item {index + 1})" if number is not None else f"item {index + 1}"


def _explain(error: Any) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "shot"
    if field == "duration_s" and error["type"] in {"greater_than", "less_than_equal"}:
        return (
            f"duration_s={error['input']} is impossible; use more than 0 and at most 60 seconds "
            "(Veo renders 4-8 s per clip)"
        )
    if field == "number" and error["type"] in {"greater_than_equal", "less_than_equal"}:
        return f"number={error['input']} is out of range; number shots from 1 to 999"
    if error["type"] == "missing":
        return f"{field} is missing; add it"
    return f"{field}: {error['msg']}"


def natural_key(scene: str) -> list[tuple[int, int | str]]:
    """Orders scenes as people do: '2' < '10' < '10a' < 'b'."""
    return [(0, int(part)) if part.isdigit() else (1, part.lower()) for part in re.findall(r"\d+|\D+", scene)]
