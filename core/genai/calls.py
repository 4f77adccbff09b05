"""Call helpers over the clients: a checked text answer, and structured output parsed into a model.

Both refuse an answer that was withheld (`check_blocked`) and map every SDK failure to a
`GenerationError` with a remedy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from core.genai.clients import GenAIClients
from core.genai.errors import GenerationError, scrub
from core.tracing import client_span

if TYPE_CHECKING:
    from google.genai.types import GenerateContentConfig, GenerateContentResponse

# Finish reasons that mean the answer was withheld, not merely cut short.
BLOCKING_FINISH_REASONS = {
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
}

ModelT = TypeVar("ModelT", bound=BaseModel)


def check_blocked(response: GenerateContentResponse, *, model: str | None = None) -> None:
    """Raise safety_blocked when the prompt or the answer was withheld."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        reason = str(getattr(feedback.block_reason, "value", feedback.block_reason))
        extra = f" ({feedback.block_reason_message})" if feedback.block_reason_message else ""
        raise GenerationError(
            "safety_blocked",
            f"The prompt was blocked (blockReason {reason}){extra}. Rephrase the request to avoid the flagged content.",
            finish_reason=reason,
        )
    candidates = response.candidates or []
    if not candidates:
        raise GenerationError("malformed_response", f"{model or 'The model'} returned no candidates.")
    finish = candidates[0].finish_reason
    finish_name = str(getattr(finish, "value", finish)) if finish is not None else None
    if finish_name in BLOCKING_FINISH_REASONS:
        raise GenerationError(
            "safety_blocked",
            f"The answer was withheld (finishReason {finish_name}). Rephrase the request to avoid the flagged content.",
            finish_reason=finish_name,
        )


async def _generate(
    clients: GenAIClients, model: str, contents: Any, config: GenerateContentConfig
) -> GenerateContentResponse:
    backend, client = clients.for_text()
    try:
        with client_span("gen_ai", "generate_content", {"gen_ai.request.model": model}):
            return await client.models.generate_content(model=model, contents=contents, config=config)
    except Exception as exc:
        raise clients.map_error(exc, backend=backend, model=model) from exc


async def generate_text(
    clients: GenAIClients,
    model: str,
    prompt: str,
    *,
    system_instruction: str | None = None,
    temperature: float | None = None,
) -> str:
    from google.genai import types

    config = types.GenerateContentConfig(system_instruction=system_instruction, temperature=temperature)
    response = await _generate(clients, model, prompt, config)
    check_blocked(response, model=model)
    text = response.text
    if not text:
        raise GenerationError("malformed_response", f"{model} returned no text.")
    return text


async def generate_structured(
    clients: GenAIClients,
    model: str,
    prompt: str,
    schema: type[ModelT],
    *,
    system_instruction: str | None = None,
    temperature: float | None = None,
    media: Sequence[tuple[bytes, str]] = (),
) -> ModelT:
    """Gemini structured output parsed into `schema`; malformed_response when it does not validate.

    `media` (bytes, mime type) parts go before the prompt, as Gemini advises for a single video."""
    from google.genai import types

    config = types.GenerateContentConfig(
        system_instruction=system_instruction,
        temperature=temperature,
        response_mime_type="application/json",
        response_schema=schema,
    )
    contents: Any = prompt
    if media:
        parts = [types.Part.from_bytes(data=data, mime_type=mime) for data, mime in media]
        contents = types.Content(role="user", parts=[*parts, types.Part.from_text(text=prompt)])
    response = await _generate(clients, model, contents, config)
    check_blocked(response, model=model)
    if isinstance(response.parsed, schema):
        return response.parsed
    # The SDK leaves parsed None without saying why; validate again for a useful message.
    text = response.text or ""
    reason: str = "it was empty"
    if text:
        try:
            schema.model_validate_json(text)
        except ValidationError as exc:
            reason = f"{exc.error_count()} problem(s), first: {exc.errors()[0]['msg']}"
    finish = response.candidates[0].finish_reason if response.candidates else None
    if finish is not None and str(getattr(finish, "value", finish)) == "MAX_TOKENS":
        reason += " (the answer was cut off at the output token limit)"
    raise GenerationError(
        "malformed_response",
        scrub(
            f"{model} returned JSON that does not match {schema.__name__}: {reason}.",
            clients.settings.secrets(),
        ),
    )
