"""Veo model limits, and the check every video request passes before anything is paid for.

Figures from the Vertex AI Veo model pages (Nov 2025): veo-3.1-generate-001 and
veo-3.1-fast-generate-001 make 1-4 videos of 4, 6 or 8 s at 720p or 1080p, 16:9 or 9:16, with audio,
and accept up to 3 ASSET reference images, only for 8 s 16:9 videos; veo-2.0-generate-001 makes
5-8 s silent 720p videos.
"""

from __future__ import annotations

from pydantic import BaseModel

from core import StudioError

DEFAULT_MODEL = "veo-3.1-fast-generate-001"


class VeoLimits(BaseModel):
    model: str
    durations: list[int]
    resolutions: list[str]
    aspect_ratios: list[str]
    max_videos: int
    audio: bool
    max_reference_images: int  # ASSET references; 0 = not supported
    reference_duration: int | None = None  # references only with this duration...
    reference_aspect_ratio: str | None = None  # ...and this aspect ratio
    first_frame: bool = True  # image-to-video


_VEO_31 = {
    "durations": [4, 6, 8],
    "resolutions": ["720p", "1080p"],
    "aspect_ratios": ["16:9", "9:16"],
    "max_videos": 4,
    "audio": True,
    "max_reference_images": 3,
    "reference_duration": 8,
    "reference_aspect_ratio": "16:9",
}
MODELS: dict[str, VeoLimits] = {
    "veo-3.1-generate-001": VeoLimits(model="veo-3.1-generate-001", **_VEO_31),
    "veo-3.1-fast-generate-001": VeoLimits(model="veo-3.1-fast-generate-001", **_VEO_31),
    "veo-2.0-generate-001": VeoLimits(
        model="veo-2.0-generate-001",
        durations=[5, 6, 7, 8],
        resolutions=["720p"],
        aspect_ratios=["16:9", "9:16"],
        max_videos=4,
        audio=False,
        max_reference_images=0,
    ),
}


class VideoSettings(BaseModel):
    """A request that fits its model: what is submitted, and part of the idempotency key."""

    model: str
    duration_s: int
    aspect_ratio: str
    resolution: str
    audio: bool
    seed: int | None
    reference_assets: list[str]
    first_frame_asset: str | None


def limits(model: str) -> VeoLimits:
    found = MODELS.get(model)
    if found is None:
        raise StudioError(f"Unknown video model {model!r}. Use one of: {', '.join(MODELS)} (default {DEFAULT_MODEL}).")
    return found


def default_duration(model: VeoLimits, shot_duration_s: float, with_references: bool) -> int:
    """The supported duration nearest the shot's (the longer on a tie); 8 s when references need it."""
    if with_references and model.reference_duration is not None:
        return model.reference_duration
    return min(model.durations, key=lambda d: (abs(d - shot_duration_s), -d))


def validate(
    model_name: str | None,
    duration_s: int | float | None,
    aspect_ratio: str,
    resolution: str,
    audio: bool,
    seed: int | None,
    reference_assets: list[str],
    first_frame_asset: str | None,
    shot_duration_s: float,
) -> VideoSettings:
    """Check a request against its model's limits; raise StudioError naming the problem and the fix."""
    model = limits(model_name or DEFAULT_MODEL)
    refs = list(dict.fromkeys(a.strip() for a in reference_assets if a and a.strip()))
    if duration_s is None:
        duration = default_duration(model, shot_duration_s, bool(refs))
    else:
        if float(duration_s) not in [float(d) for d in model.durations]:
            raise StudioError(
                f"{model.model} cannot make a {duration_s:g} s video: pass duration_s as one of "
                f"{', '.join(str(d) for d in model.durations)}."
            )
        duration = int(duration_s)
    if resolution not in model.resolutions:
        raise StudioError(
            f"{model.model} does not support resolution {resolution!r}: use {' or '.join(model.resolutions)}."
        )
    if aspect_ratio not in model.aspect_ratios:
        raise StudioError(
            f"{model.model} does not support aspect ratio {aspect_ratio!r}: use {' or '.join(model.aspect_ratios)}."
        )
    if audio and not model.audio:
        raise StudioError(f"{model.model} does not generate audio: pass audio=false, or use a Veo 3.1 model.")
    if seed is not None and not 0 <= seed <= 4_294_967_295:
        raise StudioError(f"seed {seed} is out of range: pass an integer from 0 to 4294967295.")
    if refs:
        if model.max_reference_images == 0:
            raise StudioError(
                f"{model.model} does not take reference images: use veo-3.1-generate-001 or "
                "veo-3.1-fast-generate-001, or drop reference_assets."
            )
        if len(refs) > model.max_reference_images:
            raise StudioError(
                f"{len(refs)} reference images given; {model.model} takes at most {model.max_reference_images}: "
                "keep the ones that matter most."
            )
        if model.reference_duration is not None and duration != model.reference_duration:
            raise StudioError(
                f"Reference images work only with {model.reference_duration} s videos on {model.model}: "
                f"pass duration_s={model.reference_duration} (or drop reference_assets)."
            )
        if model.reference_aspect_ratio is not None and aspect_ratio != model.reference_aspect_ratio:
            raise StudioError(
                f"Reference images work only with aspect ratio {model.reference_aspect_ratio} on {model.model}: "
                f"pass aspect_ratio='{model.reference_aspect_ratio}' (or drop reference_assets)."
            )
        if first_frame_asset:
            raise StudioError(
                "Pass either reference_assets (ASSET references) or first_frame_asset (image-to-video), not both."
            )
    if first_frame_asset and not model.first_frame:
        raise StudioError(f"{model.model} does not take a first-frame image: drop first_frame_asset.")
    return VideoSettings(
        model=model.model,
        duration_s=duration,
        aspect_ratio=aspect_ratio,
        resolution=resolution,
        audio=audio,
        seed=seed,
        reference_assets=refs,
        first_frame_asset=(first_frame_asset or "").strip() or None,
    )
