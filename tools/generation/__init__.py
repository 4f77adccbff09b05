"""Generation family: the google-genai clients, grounded prompts, Gemini shot plans (and Veo, images, cost).

Other families use the names below, nothing else."""

from tools.generation.models import GroundedPrompt, Injection, PlanResult, ShotPlan, Span
from tools.generation.prompting import build_prompt
from tools.generation.register import register

__all__ = ["GroundedPrompt", "Injection", "PlanResult", "ShotPlan", "Span", "build_prompt", "register"]
