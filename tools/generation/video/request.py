"""A video request as decided before anything is recorded: the shot, the validated settings, the
grounded prompt, the estimate and the preflight's verdict; and the digest that names it."""

from __future__ import annotations

from pydantic import BaseModel

from core import pricing
from tools.generation.models import GroundedPrompt
from tools.generation.video.limits import VideoSettings
from tools.production import digest


class VideoRequest(BaseModel):
    production: str
    shot: str
    settings: VideoSettings
    grounded: GroundedPrompt
    negative_prompt: str
    estimate: pricing.CostEstimate
    preflight_errors: list[str]
    override_preflight: bool

    @property
    def preflight_overridden(self) -> bool:
        return bool(self.preflight_errors) and self.override_preflight

    def digest(self) -> str:
        """Same production, shot, model, prompt, negative prompt and settings (seed included) -> same digest."""
        return digest(
            {
                "production": self.production,
                "shot": self.shot,
                "model": self.settings.model,
                "prompt": self.grounded.prompt,
                "negative_prompt": self.negative_prompt,
                "settings": self.settings.model_dump(),
            }
        )


def price_label(estimate: pricing.CostEstimate) -> str:
    overridden = " (overridden)" if estimate.price_overridden else ""
    return f"{estimate.price_source}, as of {estimate.price_as_of}{overridden}"
