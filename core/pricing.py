"""One price table for every paid generation, with where the figures came from and when.

Video is priced per second of generated video, by model × resolution × audio; images per image.
Prices change: the table can be overridden without a release through `STUDIO_PRICES_JSON`, either a
JSON object or the path of a JSON file, shaped like

    {"source": "our contract, 2026-01", "as_of": "2026-01-15",
     "video": {"veo-3.1-generate-001": {"720p": {"audio": 0.40, "silent": 0.20}, "1080p": {...}}},
     "image": {"gemini-2.5-flash-image": 0.039}}

Entries given there replace the built-in ones for that model (other models keep theirs). The table
is in core because it is a setting: `serve` and `doctor` check it with the others, before any family loads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from core import StudioError, shown

PRICES_ENV = "STUDIO_PRICES_JSON"

SOURCE = "https://cloud.google.com/vertex-ai/generative-ai/pricing (Veo, Imagen, Gemini 2.5 Flash Image)"
AS_OF = "2025-11-15"

Rate = dict[str, float]  # "audio" / "silent" -> USD per second


def _same(audio: float, silent: float) -> dict[str, Rate]:
    rate = {"audio": audio, "silent": silent}
    return {"720p": rate, "1080p": rate}


# USD per second of video. Vertex bills Veo 3.x the same at 720p and 1080p; with audio costs more.
VIDEO_PRICES: dict[str, dict[str, Rate]] = {
    "veo-3.1-generate-001": _same(0.40, 0.20),
    "veo-3.1-fast-generate-001": _same(0.15, 0.10),
    "veo-3.0-generate-001": _same(0.40, 0.20),
    "veo-3.0-fast-generate-001": _same(0.15, 0.10),
    "veo-2.0-generate-001": {"720p": {"silent": 0.50}},
}
# USD per image.
IMAGE_PRICES: dict[str, float] = {
    "gemini-2.5-flash-image": 0.039,
    "imagen-4.0-generate-001": 0.04,
    "imagen-4.0-fast-generate-001": 0.02,
    "imagen-4.0-ultra-generate-001": 0.06,
}


class PriceTable(BaseModel):
    source: str
    as_of: str
    video: dict[str, dict[str, Rate]]
    image: dict[str, float]
    overridden: bool = False


class CostEstimate(BaseModel):
    model: str
    kind: str = Field(description="'video' (priced per second) or 'image' (per image).")
    count: int
    duration_s: float | None = None
    resolution: str | None = None
    audio: bool | None = None
    unit_price_usd: float = Field(description="USD per second of video, or per image.")
    estimate_usd: float
    price_source: str
    price_as_of: str
    price_overridden: bool = Field(description="True when STUDIO_PRICES_JSON changed the built-in table.")


class _Override(BaseModel):
    source: str | None = None
    as_of: str | None = None
    video: dict[str, dict[str, Rate]] = Field(default_factory=dict)
    image: dict[str, float] = Field(default_factory=dict)


def stand_in(estimate: CostEstimate) -> CostEstimate:
    """The same request made by the local generation stand-in: nothing is sent to Google, nothing costs."""
    return estimate.model_copy(
        update={"unit_price_usd": 0.0, "estimate_usd": 0.0, "price_source": "generation stand-in (no cost)"}
    )


def price_table(environ: Mapping[str, str] | None = None) -> PriceTable:
    """The built-in table with any override from STUDIO_PRICES_JSON applied."""
    raw = (os.environ if environ is None else environ).get(PRICES_ENV, "").strip()
    return _table(raw)


@lru_cache(maxsize=8)
def _table(raw: str) -> PriceTable:
    base = PriceTable(source=SOURCE, as_of=AS_OF, video=dict(VIDEO_PRICES), image=dict(IMAGE_PRICES))
    if not raw:
        return base
    try:
        text = raw if raw.startswith("{") else Path(raw).expanduser().read_text(encoding="utf-8")
        override = _Override.model_validate(json.loads(text))
    except (OSError, ValueError, ValidationError) as exc:
        raise StudioError(
            f"{PRICES_ENV}={shown(raw, 60)} is not a usable price table ({exc}). Set it to a JSON object "
            "(or a JSON file path) "
            'like {"source": "...", "as_of": "YYYY-MM-DD", "video": {"<model>": {"720p": {"audio": 0.4, '
            '"silent": 0.2}}}, "image": {"<model>": 0.04}}, or unset it to use the built-in table.'
        ) from None
    return PriceTable(
        source=override.source or f"{SOURCE} with overrides from {PRICES_ENV}",
        as_of=override.as_of or AS_OF,
        video={**base.video, **override.video},
        image={**base.image, **override.image},
        overridden=True,
    )


def estimate_video(
    model: str,
    duration_s: float,
    count: int = 1,
    resolution: str = "720p",
    audio: bool = True,
    table: PriceTable | None = None,
) -> CostEstimate:
    table = table or price_table()
    rates = table.video.get(model)
    if rates is None:
        raise unpriced("video", model, table.video)
    by_audio = rates.get(resolution)
    if by_audio is None:
        raise StudioError(f"{model} has no price at {resolution!r}; priced resolutions: {', '.join(sorted(rates))}.")
    key = "audio" if audio else "silent"
    if key not in by_audio:
        which = "with" if audio else "without"
        raise StudioError(f"{model} at {resolution} has no price {which} audio; pass audio={not audio}.")
    if count < 1 or duration_s <= 0:
        raise StudioError(
            f"count must be at least 1 and duration_s above 0 (got count={count}, duration_s={duration_s})."
        )
    unit = by_audio[key]
    return CostEstimate(
        model=model,
        kind="video",
        count=count,
        duration_s=duration_s,
        resolution=resolution,
        audio=audio,
        unit_price_usd=unit,
        estimate_usd=round(unit * duration_s * count, 6),
        price_source=table.source,
        price_as_of=table.as_of,
        price_overridden=table.overridden,
    )


def unpriced(kind: str, model: str, priced: Mapping[str, object]) -> StudioError:
    return StudioError(
        f"No {kind} price for model {model!r}. Priced models: {', '.join(sorted(priced))}. "
        f"Pick one of these, or add a price with {PRICES_ENV}."
    )


def estimate_image(model: str, count: int = 1, table: PriceTable | None = None) -> CostEstimate:
    table = table or price_table()
    unit = table.image.get(model)
    if unit is None:
        raise unpriced("image", model, table.image)
    if count < 1:
        raise StudioError(f"count must be at least 1 (got {count}).")
    return CostEstimate(
        model=model,
        kind="image",
        count=count,
        unit_price_usd=unit,
        estimate_usd=round(unit * count, 6),
        price_source=table.source,
        price_as_of=table.as_of,
        price_overridden=table.overridden,
    )


def estimate(
    model: str, duration_s: float = 8, count: int = 1, resolution: str = "720p", audio: bool = True
) -> CostEstimate:
    """The `cost_estimate` tool: a video model is priced per second, an image model per image."""
    table = price_table()
    if model in table.image and model not in table.video:
        return estimate_image(model, count, table)
    return estimate_video(model, duration_s, count, resolution, audio, table)
