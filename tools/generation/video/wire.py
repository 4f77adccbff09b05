"""The Vertex Veo wire, through google-genai: one submit (prepared, then sent), and one poll of an
operation.

Both map every SDK failure to a `GenerationError`; the callers decide what a failure means for
the job. Each call has a deadline beyond the SDK's own timeout, so a stuck transport cannot hold
a job (or the poller) forever. The submit is a paid call: exactly one SDK attempt, and only a 429 is
retried (see core.genai.clients); a poll is a read and keeps the client's default retries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from core.genai import GenAIClients, GenerationError, map_operation_error
from core.tracing import client_span
from tools.generation.video.limits import limits
from tools.generation.video.request import VideoRequest

if TYPE_CHECKING:
    from google.genai.client import AsyncClient
    from google.genai.types import GenerateVideosConfig, GenerateVideosOperation, GenerateVideosSource


@dataclass
class Image:
    data: bytes
    mime_type: str


@dataclass
class PollResult:
    """What one poll found: still running, failed (`error`), every video `filtered` by Responsible AI,
    or a video (its bytes, or a URI)."""

    done: bool
    error: GenerationError | None = None
    filtered: bool = False
    filtered_count: int | None = None
    filtered_reasons: list[str] = field(default_factory=list)
    video_bytes: bytes | None = None
    mime_type: str = "video/mp4"
    uri: str | None = None


def _deadline_s(clients: GenAIClients) -> float:
    return clients.settings.timeout_s * 2 + 30


@dataclass
class PreparedSubmit:
    """Everything the paid submit needs, built before its job is recorded (see `prepare_submit`)."""

    client: AsyncClient
    model: str
    source: GenerateVideosSource
    config: GenerateVideosConfig


def prepare_submit(
    clients: GenAIClients, request: VideoRequest, job_id: str, references: list[Image], first_frame: Image | None
) -> PreparedSubmit:
    """Import google.genai, build the Vertex client and the request, labelled `studio-job=<job_id>`.

    Synchronous and slow the first time (the SDK's import and the client's build take most of a
    second): run it in a worker thread, BEFORE the job is recorded, so that the window between
    recording a job and sending its submit holds nothing that could crash or stall."""
    from google.genai import types

    s = request.settings
    try:
        config = types.GenerateVideosConfig(
            http_options=clients.paid_http_options(),
            number_of_videos=1,
            duration_seconds=s.duration_s,
            aspect_ratio=s.aspect_ratio,
            resolution=s.resolution,
            seed=s.seed,
            negative_prompt=request.negative_prompt or None,
            generate_audio=s.audio if limits(s.model).audio else None,
            reference_images=[
                types.VideoGenerationReferenceImage(
                    image=types.Image(image_bytes=r.data, mime_type=r.mime_type), reference_type="ASSET"
                )
                for r in references
            ]
            or None,
            labels={"studio-job": job_id},
        )
        image = types.Image(image_bytes=first_frame.data, mime_type=first_frame.mime_type) if first_frame else None
        source = types.GenerateVideosSource(prompt=request.grounded.prompt, image=image)
        client = clients.vertex()
    except Exception as exc:
        raise clients.map_error(exc, backend="vertex", model=s.model) from exc
    return PreparedSubmit(client=client, model=s.model, source=source, config=config)


async def submit(clients: GenAIClients, prepared: PreparedSubmit) -> str:
    """Send the paid submit: one SDK attempt, retried only after a 429 (`GenAIClients.send_paid`); the
    operation's name. A GenerationError whose kind `may_have_been_processed` leaves the outcome unknown."""

    async def send() -> GenerateVideosOperation:
        return await prepared.client.models.generate_videos(
            model=prepared.model, source=prepared.source, config=prepared.config
        )

    operation = await clients.send_paid(send, backend="vertex", model=prepared.model)
    if not operation.name:
        raise GenerationError("malformed_response", "Vertex accepted the submit but named no operation.")
    return operation.name


async def poll(clients: GenAIClients, operation_name: str, model: str) -> PollResult:
    """One fetch of the operation. A finished operation with an error does not raise in the SDK: it is
    returned as `error` here."""
    from google.genai import types

    try:
        with (
            client_span("gen_ai", "operations.get", {"gen_ai.request.model": model}),
            anyio.fail_after(_deadline_s(clients)),
        ):
            operation = await clients.vertex().operations.get(
                types.GenerateVideosOperation.model_validate({"name": operation_name})
            )
    except Exception as exc:
        raise clients.map_error(exc, backend="vertex", model=model) from exc
    if not operation.done:
        return PollResult(done=False)
    if operation.error:
        return PollResult(done=True, error=map_operation_error(operation.error, secrets=clients.settings.secrets()))
    response = operation.response
    videos = [g.video for g in (response.generated_videos if response else None) or [] if g.video]
    if not videos:
        return PollResult(
            done=True,
            filtered=True,
            filtered_count=response.rai_media_filtered_count if response else None,
            filtered_reasons=list(response.rai_media_filtered_reasons or []) if response else [],
        )
    video: Any = videos[0]
    return PollResult(done=True, video_bytes=video.video_bytes, mime_type=video.mime_type or "video/mp4", uri=video.uri)
