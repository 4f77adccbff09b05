"""`image_generate`: one still (storyboard frame, character sheet, reference) as a production asset.

Gemini native image output (Developer API) when a Gemini key is set, else Imagen on Vertex AI. The
estimate is committed against the budget before the call and settled (or released) after it. The
call is paid: one SDK attempt, retried only on 429, so a lost answer is never paid for twice; after a
lost answer (connection dropped or reset, timeout, 5xx) the estimate stays committed, because the
image may have been billed, and the error says so. Images are quick, so this is one synchronous
call, not a job.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import anyio

from core import StudioError, pricing, shown
from core.context import StudioContext
from core.genai import GenAIClients, GenerationError, MissingCredentials, check_blocked, may_have_been_processed
from tools.consent import ConsentService
from tools.generation.models import GroundedPrompt, ImageResult, ImageSettlement
from tools.generation.prompting import PromptBuilder
from tools.production import ProductionService

if TYPE_CHECKING:
    from google.genai.client import AsyncClient
    from google.genai.types import GenerateContentConfig, GenerateImagesConfig

GEMINI_IMAGE_MODEL = "gemini-2.5-flash-image"
IMAGEN_MODEL = "imagen-4.0-generate-001"
GEMINI_ASPECTS = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]
IMAGEN_ASPECTS = ["1:1", "3:4", "4:3", "9:16", "16:9"]
MAX_REFERENCES = 3


class ImageGenerator:
    def __init__(
        self, context: StudioContext, productions: ProductionService, prompts: PromptBuilder, consent: ConsentService
    ) -> None:
        self._context = context
        self._productions = productions
        self._prompts = prompts
        self._consent = consent

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
            grounded = await self._prompts.build(prod, the_shot)
            text, negative = grounded.prompt, grounded.negative_prompt or None
        shas = [hashlib.sha256(data).hexdigest() for data, _ in images]
        await anyio.to_thread.run_sync(
            functools.partial(self._consent.check, prod, the_shot, text, shas, audio=False, tool="image_generate")
        )
        estimate = pricing.estimate_image(model, 1)
        made_by: Literal["developer", "vertex", "standin"] = backend
        if self._context.genai.standin:
            made_by, estimate = "standin", pricing.stand_in(estimate)
        job_id = "img_" + uuid.uuid4().hex[:16]
        clients = self._context.genai
        # Built before the estimate is committed, so nothing slow sits between committing and sending.
        request = await anyio.to_thread.run_sync(
            functools.partial(_prepare, clients, backend, model, text, negative, images, aspect_ratio, job_id)
        )
        await anyio.to_thread.run_sync(lambda: service.commit_spend(pid, job_id, estimate.estimate_usd))
        inputs = {"shot": shot, "prompt": prompt, "reference_assets": refs, "aspect_ratio": aspect_ratio}
        answer: Any = None
        with anyio.CancelScope(shield=True):  # paid: a caller that gives up must not orphan the call
            try:
                answer = await _send(clients, request)
                data, mime = _image_of(request, answer)  # the answer is known from here on
            except GenerationError as error:
                # Only a failure to get an answer may hide a processed (billed) call.
                lost = answer is None and may_have_been_processed(error)
                await anyio.to_thread.run_sync(self._failed, pid, job_id, inputs, estimate.estimate_usd, error, lost)
                raise StudioError(_failure_message(job_id, estimate.estimate_usd, error, lost)) from None

        provenance: dict[str, Any] = {
            "job": job_id,
            "production": pid,
            "shot": shot,
            "model": model,
            "backend": made_by,
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
                backend=made_by,
                prompt=text,
                negative_prompt=negative,
                estimate_usd=estimate.estimate_usd,
                price_source=f"{estimate.price_source}, as of {estimate.price_as_of}",
                brief_version=grounded.brief_version if grounded else None,
            )

        with anyio.CancelScope(shield=True):  # paid for: record it even if the caller has gone
            result = await anyio.to_thread.run_sync(save)
        return result

    def settle_lost(self, production: str, job: str, billed: bool) -> ImageSettlement:
        """Settle an image call whose answer was lost, once the billing export says whether it was
        billed (its `studio-job` label on Vertex): billed -> spent, not billed -> released. Sync."""
        service = self._productions
        key = (job or "").strip()
        with self._context.state.transaction() as tx:
            pid = service.resolve(production, tx)
            held = service.held_estimate(pid, key, tx=tx) if key.startswith("img_") else None
            if held is None:
                raise StudioError(
                    f"{shown(key)} is not an image call of production {pid!r} with a held estimate: only an "
                    "image_generate whose answer was lost (its error names the img_... job) can be settled."
                )
            if billed:
                service.settle_spend(key, tx=tx)
            else:
                service.release_spend(key, tx=tx)
            service.record_event(
                pid,
                "image_settle",
                {"job": key, "billed": billed},
                detail={"job": key, "estimate_usd": held, "billed": billed},
                tx=tx,
            )
            spend = service.spend(pid, tx=tx)
        verb = "counted as spent" if billed else "released"
        return ImageSettlement(
            production=pid,
            job=key,
            billed=billed,
            estimate_usd=held,
            spend=spend,
            message=f"The ${held:.2f} estimate of {key} was {verb}.",
        )

    def _failed(
        self, pid: str, job_id: str, inputs: dict[str, Any], estimate_usd: float, error: GenerationError, lost: bool
    ) -> None:
        """A failed image call: its estimate released, or kept committed when the call may have been
        processed (it may be billed), recorded as an event either way."""
        service = self._productions
        with self._context.state.transaction() as tx:
            if not lost:
                service.release_spend(job_id, tx=tx)
            service.record_event(
                pid,
                "image_generate",
                inputs,
                outcome="unknown_submission" if lost else f"error:{error.kind}",
                detail={"job": job_id, "estimate_usd": estimate_usd, "error_kind": error.kind, "estimate_held": lost},
                tx=tx,
            )

    def _image_bytes(self, asset_id: str) -> tuple[bytes, str]:
        asset = self._productions.asset(asset_id)
        if asset.kind != "image":
            raise StudioError(
                f"Asset {asset.id} is a {asset.kind} ({asset.mime_type}), not an image: reference assets must be "
                "images."
            )
        return self._productions.asset_path(asset.id).read_bytes(), asset.mime_type


@dataclass
class _ImageRequest:
    """One image call, built before its estimate is committed (see `_prepare`)."""

    backend: Literal["developer", "vertex"]
    model: str
    client: AsyncClient
    prompt: str
    contents: list[Any]
    content_config: GenerateContentConfig | None
    images_config: GenerateImagesConfig | None


def _prepare(
    clients: GenAIClients,
    backend: Literal["developer", "vertex"],
    model: str,
    prompt: str,
    negative: str | None,
    images: list[tuple[bytes, str]],
    aspect_ratio: str,
    job_id: str,
) -> _ImageRequest:
    """Import google.genai and build the client and the request (slow the first time: run it in a
    worker thread). The request makes one SDK attempt (`paid_http_options`)."""
    from google.genai import types

    http_options = clients.paid_http_options()
    try:
        if backend == "developer":
            text = f"{prompt}\nAvoid: {negative}" if negative else prompt
            parts: list[Any] = [types.Part.from_bytes(data=d, mime_type=m) for d, m in images]
            config = types.GenerateContentConfig(
                response_modalities=["IMAGE"],
                image_config=types.ImageConfig(aspect_ratio=aspect_ratio),
                http_options=http_options,
            )
            return _ImageRequest(backend, model, clients.developer(), prompt, [*parts, text], config, None)
        imagen = types.GenerateImagesConfig(
            number_of_images=1,
            aspect_ratio=aspect_ratio,
            include_rai_reason=True,
            http_options=http_options,
            labels={"studio-job": job_id},  # Vertex billing labels: the billing export can find it
        )
        return _ImageRequest(backend, model, clients.vertex(), prompt, [], None, imagen)
    except Exception as exc:
        raise clients.map_error(exc, backend=backend, model=model) from exc


async def _send(clients: GenAIClients, request: _ImageRequest) -> Any:
    """The paid call: one SDK attempt, retried only after a 429 (`GenAIClients.send_paid`)."""

    async def send() -> Any:
        if request.content_config is not None:
            return await request.client.models.generate_content(
                model=request.model, contents=request.contents, config=request.content_config
            )
        return await request.client.models.generate_images(
            model=request.model, prompt=request.prompt, config=request.images_config
        )

    return await clients.send_paid(send, backend=request.backend, model=request.model)


def _image_of(request: _ImageRequest, answer: Any) -> tuple[bytes, str]:
    """The image bytes and type of an answer, or why there are none (the answer is known: not paid twice)."""
    model = request.model
    if request.content_config is not None:
        check_blocked(answer, model=model)
        for part in (
            answer.candidates[0].content.parts if answer.candidates and answer.candidates[0].content else None
        ) or []:
            if part.inline_data and part.inline_data.data:
                return part.inline_data.data, part.inline_data.mime_type or "image/png"
        raise GenerationError("malformed_response", f"{model} answered without an image. Try again or rephrase.")
    for generated in answer.generated_images or []:
        if generated.image and generated.image.image_bytes:
            return generated.image.image_bytes, generated.image.mime_type or "image/png"
    reasons = [g.rai_filtered_reason for g in answer.generated_images or [] if g.rai_filtered_reason]
    raise GenerationError(
        "safety_blocked",
        f"{model}'s safety filters withheld the image: {'; '.join(reasons) or 'no reason given'}. Rephrase it.",
    )


def _failure_message(job_id: str, estimate_usd: float, error: GenerationError, lost: bool) -> str:
    if lost:
        return (
            f"The image request {job_id} was sent once but its answer was lost ({error}), so the image may have "
            f"been generated and billed. It was not resent, so it cannot be billed twice; its ${estimate_usd:.2f} "
            "estimate stays committed against the budget until you settle it: image_settle with this job id and "
            "billed=true or false, once the billing export shows whether it was charged. Calling "
            "image_generate again is a new request, billed separately."
        )
    if error.kind == "connection_error":
        return f"Nothing was sent, so nothing was billed ({error}); the estimate was released. Try again."
    return f"{error} The estimate was released."
