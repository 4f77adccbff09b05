"""Generation family: grounded prompts, Gemini shot plans, Veo jobs, images and cost.

It is the last family in the pipeline: it uses the others, and none uses it."""

from tools.generation.family import GenerationFamily
from tools.generation.models import GroundedPrompt, Injection, PlanResult, ShotPlan, Span

__all__ = ["GenerationFamily", "GroundedPrompt", "Injection", "PlanResult", "ShotPlan", "Span"]
