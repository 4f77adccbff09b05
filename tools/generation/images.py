"""`image_generate`: one still (storyboard frame, character sheet, reference) as a production asset.

Gemini native image output (Developer API) when a Gemini key is set, else Imagen on Vertex AI. The
estimate is committed against the budget before the call and settled (or released) after it; the
call is retried only on 429, so a lost answer is never paid for twice. Images are quick, so this is
one synchronous call, not a job.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import anyio

from core import StudioContext, StudioError
from core.genai import GenAIClients, GenerationError, MissingCredentials, check_blocked
from tools.continuity import LedgerService
from tools.generation import pricing
from tools.generation.models import GroundedPrompt, ImageResult
from tools.generation.prompting import build_prompt
from tools.production import ProductionService
from tools.style import StyleService

GEMINI_IMAGE_MODEL = "gemini-2.5-flash-image"
IMAGEN_MODEL = "imagen-4.0-generate-001"
GEMINI_ASPECTS = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]
IMAGEN_ASPECTS = ["1:1", "3:4", "4:3", "9:16", "16:9"]
MAX_REFERENCES = 3


class ImageGenerator:
    def __init__(
        self, context: StudioContext, productions: ProductionService, kits: StyleService, ledger: LedgerService
    ) -> None:
        self._context = context
        self._productions = productions
        self._kits = kits
        self._ledger = ledger

    async def generate(
        self,
        production: str,
        shot: str | None = None,
        prompt: str | None = None,
        reference_assets: list[str] | None = None,
        aspect_ratio: str = "16:9",
    ) -> ImageResult:
        service = self._productions
        prod = await anyio.to_thread.run_sync(service.get, production)
        pid = prod.id
        the_shot = prod.find_shot(shot) if shot is not None else None
        text = (prompt or "").strip()
        if not text and shot is None:
            raise StudioError(
                "Say what to draw: pass prompt='...', or shot='<scene>/<number>' to use its grounded prompt."
            )
        backend: Literal["developer", "vertex"]
        if self._context.genai.has_developer():
            backend, model, aspects = "developer", GEMINI_IMAGE_MODEL, GEMINI_ASPECTS
        elif self._context.genai.has_vertex():
            backend, model, aspects = "vertex", IMAGEN_MODEL, IMAGEN_ASPECTS
        else:
            raise StudioError(
                "No credentials for image generation. Set GEMINI_API_KEY for Gemini native images "
                f"({GEMINI_IMAGE_MODEL}), or Vertex AI for Imagen: {MissingCredentials('vertex')}"
            )
        if aspect_ratio not in aspects:
            raise StudioError(
                f"{model} does not support aspect ratio {aspect_ratio!r}: use one of {', '.join(aspects)}."
            )
        refs = list(dict.fromkeys(a.strip() for a in reference_assets or [] if a and a.strip()))
        if refs and backend == "vertex":
            raise StudioError(
                f"Reference images need Gemini native image output; {IMAGEN_MODEL} (Vertex) takes none. Set "
                "GEMINI_API_KEY, or drop reference_assets."
            )
        if len(refs) > MAX_REFERENCES:
            raise StudioError(
                f"{len(refs)} reference images given; at most {MAX_REFERENCES}: keep the ones that matter."
            )
        images = [await anyio.to_thread.run_sync(self._image_bytes, a) for a in refs]

        grounded: GroundedPrompt | None = None
        negative: str | None = None
        if not text:
            assert the_shot is not None
            grounded = await build_prompt(self._kits, prod, the_shot, await self._ledger.load(prod))
            text, negative = grounded.prompt, grounded.negative_prompt or None
        estimate = pricing.estimate_image(model, 1)
        job_id = "img_" + uuid.uuid4().hex[:16]
        await anyio.to_thread.run_sync(lambda: service.commit_spend(pid, job_id, estimate.estimate_usd))
        try:
            data, mime = await _call(self._context.genai, backend, model, text, negative, images, aspect_ratio)
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(service.release_spend, job_id)
            if isinstance(exc, GenerationError):
                raise StudioError(str(exc)) from None
            if isinstance(exc, Exception):
                raise StudioError(str(self._context.genai.map_error(exc, backend=backend, model=model))) from None
            raise

        provenance: dict[str, Any] = {
            "job": job_id,
            "production": pid,
            "shot": shot,
            "model": model,
            "backend": backend,
            "request": {
                "prompt": text,
                "negative_prompt": negative,
                "aspect_ratio": aspect_ratio,
                "reference_assets": refs,
            },
            "brief_version": grounded.brief_version if grounded else None,
            "prompt_sha256": grounded.sha256 if grounded else None,
            "style_chunks": grounded.style_chunks if grounded else [],
            "ledger_entities": grounded.ledger_entities if grounded else [],
            "injections": [{"kind": i.kind, "ref": i.ref} for i in grounded.injections] if grounded else [],
            "cost": {
                "estimate_usd": estimate.estimate_usd,
                "actual_usd": estimate.estimate_usd,
                "price_source": estimate.price_source,
                "price_as_of": estimate.price_as_of,
            },
        }

        def save() -> ImageResult:
            asset = service.save_asset(pid, shot, "image", mime, data, provenance, None)
            with self._context.state.transaction() as tx:
                service.settle_spend(job_id, estimate.estimate_usd, tx=tx)
                service.record_event(
                    pid,
                    "image_generate",
                    {"shot": shot, "prompt": prompt, "reference_assets": refs, "aspect_ratio": aspect_ratio},
                    detail={"asset": asset.id, "model": model, "estimate_usd": estimate.estimate_usd},
                    tx=tx,
                )
            return ImageResult(
                production=pid,
                shot=shot,
                asset=asset,
                model=model,
                backend=backend,
                prompt=text,
                negative_prompt=negative,
                estimate_usd=estimate.estimate_usd,
                price_source=f"{estimate.price_source}, as of {estimate.price_as_of}",
                brief_version=grounded.brief_version if grounded else None,
            )

        with anyio.CancelScope(shield=True):  # paid for: record it even if the caller has gone
            result = await anyio.to_thread.run_sync(save)
        return result

    def _image_bytes(self, asset_id: str) -> tuple[bytes, str]:
        asset = self._productions.asset(asset_id)
        if asset.kind != "image":
            raise StudioError(
                f"Asset {asset.id} is a {asset.kind} ({asset.mime_type}), not an image: reference assets must be "
                "images."
            )
        return self._productions.asset_path(asset.id).read_bytes(), asset.mime_type


async def _call(
    clients: GenAIClients,
    backend: str,
    model: str,
    prompt: str,
    negative: str | None,
    images: list[tuple[bytes, str]],
    aspect_ratio: str,
) -> tuple[bytes, str]:
    from google.genai import types

    http_options = clients.submit_http_options()
    try:
        if backend == "developer":
            text = f"{prompt}\nAvoid: {negative}" if negative else prompt
            parts: list[Any] = [types.Part.from_bytes(data=d, mime_type=m) for d, m in images]
            response = await clients.developer().models.generate_content(
                model=model,
                contents=[*parts, text],
                config=types.GenerateContentConfig(
                    response_modalities=["IMAGE"],
                    image_config=types.ImageConfig(aspect_ratio=aspect_ratio),
                    http_options=http_options,
                ),
            )
            check_blocked(response, model=model)
            for part in (
                response.candidates[0].content.parts if response.candidates and response.candidates[0].content else None
            ) or []:
                if part.inline_data and part.inline_data.data:
                    return part.inline_data.data, part.inline_data.mime_type or "image/png"
            raise GenerationError("malformed_response", f"{model} answered without an image. Try again or rephrase.")
        result = await clients.vertex().models.generate_images(
            model=model,
            prompt=prompt,
            config=types.GenerateImagesConfig(
                number_of_images=1, aspect_ratio=aspect_ratio, include_rai_reason=True, http_options=http_options
            ),
        )
        for generated in result.generated_images or []:
            if generated.image and generated.image.image_bytes:
                return generated.image.image_bytes, generated.image.mime_type or "image/png"
        reasons = [g.rai_filtered_reason for g in result.generated_images or [] if g.rai_filtered_reason]
        raise GenerationError(
            "safety_blocked",
            f"{model}'s safety filters withheld the image: {'; '.join(reasons) or 'no reason given'}. Rephrase it.",
        )
    except GenerationError:
        raise
    except Exception as exc:
        raise clients.map_error(exc, backend="developer" if backend == "developer" else "vertex", model=model) from exc
