"""The one place that builds google-genai clients from settings, and turns their failures into
errors a user can act on.

Two async clients, built lazily (importing google.genai costs start-up time):
- `developer()`: Gemini Developer API (an API key): text, structured output, Gemini native
  images, embeddings.
- `vertex()`: Vertex AI, with a project (+ Application Default Credentials) or an express-mode API
  key: Veo and Imagen live only here, and text works here too.

Both retry 408/429/5xx with exponential backoff and jitter and stop waiting after `timeout_s`.
Every message this module produces has the configured keys scrubbed out. `GenerationError` is not
an MCP type, so this module works without the server; the tool layer turns it into a ToolError.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

from server.errors import StudioError

if TYPE_CHECKING:
    from google.genai.client import AsyncClient, Client
    from google.genai.types import (
        GenerateContentConfig,
        GenerateContentResponse,
        HttpOptions,
        HttpRetryOptions,
    )

Backend = Literal["developer", "vertex"]
ErrorKind = Literal[
    "no_credentials",
    "auth_refused",
    "quota_exhausted",
    "safety_blocked",
    "model_not_found",
    "timeout",
    "server_error",
    "malformed_response",
    "invalid_request",
    "connection_error",
    "unknown",
]

RETRY_STATUS_CODES = [408, 429, 500, 502, 503, 504]
DEFAULT_VERTEX_LOCATION = "us-central1"  # Veo is served there; the SDK's "global" default is not enough
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
# A Google API key has this shape; scrubbed even when it is not one we were configured with.
_API_KEY_PATTERN = re.compile(r"AIza[0-9A-Za-z_\-]{35}")

_DEVELOPER_HELP = (
    "Set GEMINI_API_KEY (or GOOGLE_API_KEY) to a Gemini API key from https://aistudio.google.com/apikey, "
    "or use Vertex AI instead: GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT "
    "(and GOOGLE_CLOUD_LOCATION, default us-central1) plus Application Default Credentials."
)
_VERTEX_HELP = (
    "Veo and Imagen need Vertex AI: set GOOGLE_GENAI_USE_VERTEXAI=true and GOOGLE_CLOUD_PROJECT "
    "(and GOOGLE_CLOUD_LOCATION, default us-central1), then provide Application Default Credentials "
    "(`gcloud auth application-default login`, or GOOGLE_APPLICATION_CREDENTIALS=/path/to/key.json); "
    "or use a Vertex AI express-mode API key (GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_API_KEY, "
    "no project)."
)


class GenerationError(StudioError):
    """A generation call failed in a way the caller can act on; `kind` says which way."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status_code: int | None = None,
        retry_after_s: float | None = None,
        finish_reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status_code = status_code
        self.retry_after_s = retry_after_s
        self.finish_reason = finish_reason

    def __str__(self) -> str:
        return self.message


class MissingCredentials(GenerationError):
    """No credentials for the backend that was asked for; the message says what to set."""

    def __init__(self, backend: Backend) -> None:
        help_text = _DEVELOPER_HELP if backend == "developer" else _VERTEX_HELP
        what = "the Gemini Developer API" if backend == "developer" else "Vertex AI"
        super().__init__("no_credentials", f"No credentials for {what}. {help_text}")
        self.backend: Backend = backend


_TUNABLE_FIELDS = ("timeout_s", "max_retries", "retry_initial_delay_s", "retry_max_delay_s", "retry_jitter_s")


class GenAISettings(BaseModel):
    """What the clients are built from. The server's settings object holds these fields."""

    api_key: SecretStr | None = None  # Gemini Developer API key
    use_vertex: bool | None = None  # True: text and structured output go to Vertex too
    project: str | None = None
    location: str | None = None
    vertex_api_key: SecretStr | None = None  # Vertex AI express mode
    gemini_base_url: str | None = None
    vertex_base_url: str | None = None
    timeout_s: float = 120.0
    max_retries: int = 4  # retries after the first attempt, for 408/429/5xx
    retry_initial_delay_s: float = 1.0
    retry_max_delay_s: float = 30.0
    retry_jitter_s: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> GenAISettings:
        """Read the SDK's own variables. Like the SDK, GOOGLE_API_KEY wins over GEMINI_API_KEY, and in
        Vertex mode without a project the same key is taken as an express-mode key."""
        key = environ.get("GOOGLE_API_KEY") or environ.get("GEMINI_API_KEY") or None
        flag = environ.get("GOOGLE_GENAI_USE_VERTEXAI")
        use_vertex = None if flag is None else flag.strip().lower() in ("1", "true", "yes")
        project = environ.get("GOOGLE_CLOUD_PROJECT") or None
        values: dict[str, Any] = {
            "api_key": key,
            "use_vertex": use_vertex,
            "project": project,
            "location": environ.get("GOOGLE_CLOUD_LOCATION") or None,
            "vertex_api_key": key if use_vertex and not project else None,
            "gemini_base_url": environ.get("GOOGLE_GEMINI_BASE_URL") or None,
            "vertex_base_url": environ.get("GOOGLE_VERTEX_BASE_URL") or None,
            # Ours, not the SDK's: how long to wait and how hard to retry.
            **{
                field: environ[f"STUDIO_GENAI_{field.upper()}"]
                for field in _TUNABLE_FIELDS
                if environ.get(f"STUDIO_GENAI_{field.upper()}")
            },
        }
        return cls.model_validate({**values, **overrides})

    def secrets(self) -> list[str]:
        """The configured secret values, for scrubbing."""
        keys = [self.api_key, self.vertex_api_key]
        return [k.get_secret_value() for k in keys if k is not None and k.get_secret_value()]


class CredentialsReport(BaseModel):
    """Which credentials are configured (never their values), for `doctor`."""

    developer_api_key: bool
    vertex_api_key: bool
    vertex_project: bool
    vertex_location: str | None
    vertex_auth: Literal["express_api_key", "adc", "none"]
    use_vertex: bool | None
    developer_ready: bool
    vertex_ready: bool
    text_backend: Backend | None
    gemini_base_url: str | None
    vertex_base_url: str | None


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret (and anything shaped like a Google API key) replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _API_KEY_PATTERN.sub("***", text)


class GenAIClients:
    """Lazily built async clients for the Developer API and Vertex AI, sharing one configuration."""

    def __init__(self, settings: GenAISettings, *, vertex_credentials: Any = None) -> None:
        """`vertex_credentials`: google.auth credentials to use instead of ADC (rarely needed)."""
        self.settings = settings
        self._vertex_credentials = vertex_credentials
        self._lock = threading.Lock()
        self._clients: dict[Backend, Client] = {}

    # -- which backends are usable

    def has_developer(self) -> bool:
        return bool(self.settings.api_key and self.settings.api_key.get_secret_value())

    def has_vertex(self) -> bool:
        key = self.settings.vertex_api_key
        return bool((key and key.get_secret_value()) or self.settings.project)

    def text_backend(self) -> Backend | None:
        """Where text and structured output go: Vertex when asked for, else the Developer API, else
        Vertex if that is all there is."""
        if self.settings.use_vertex and self.has_vertex():
            return "vertex"
        if self.has_developer():
            return "developer"
        if self.has_vertex():
            return "vertex"
        return None

    def describe(self) -> CredentialsReport:
        s = self.settings
        express = bool(s.vertex_api_key and s.vertex_api_key.get_secret_value())
        return CredentialsReport(
            developer_api_key=self.has_developer(),
            vertex_api_key=express,
            vertex_project=bool(s.project),
            vertex_location=(s.location or DEFAULT_VERTEX_LOCATION) if s.project else s.location,
            vertex_auth="express_api_key" if express else ("adc" if s.project else "none"),
            use_vertex=s.use_vertex,
            developer_ready=self.has_developer(),
            vertex_ready=self.has_vertex(),
            text_backend=self.text_backend(),
            gemini_base_url=s.gemini_base_url,
            vertex_base_url=s.vertex_base_url,
        )

    # -- the clients

    def developer(self) -> AsyncClient:
        if not self.has_developer():
            raise MissingCredentials("developer")
        return self._client("developer").aio

    def vertex(self) -> AsyncClient:
        if not self.has_vertex():
            raise MissingCredentials("vertex")
        return self._client("vertex").aio

    def for_text(self) -> tuple[Backend, AsyncClient]:
        backend = self.text_backend()
        if backend is None:
            raise MissingCredentials("developer")
        return backend, (self.developer() if backend == "developer" else self.vertex())

    def _client(self, backend: Backend) -> Client:
        with self._lock:
            client = self._clients.get(backend)
            if client is None:
                client = self._build(backend)
                self._clients[backend] = client
            return client

    def _build(self, backend: Backend) -> Client:
        from google import genai  # lazy: a cold import costs about a second
        from google.genai import types

        s = self.settings
        retry = self._retry_options(RETRY_STATUS_CODES)
        base_url = s.gemini_base_url if backend == "developer" else s.vertex_base_url
        http_options = types.HttpOptions(
            base_url=base_url, timeout=max(int(s.timeout_s * 1000), 1), retry_options=retry
        )
        if backend == "developer":
            assert s.api_key is not None
            return genai.Client(
                vertexai=False, api_key=s.api_key.get_secret_value(), http_options=http_options
            )
        express = s.vertex_api_key.get_secret_value() if s.vertex_api_key else None
        if express:
            return genai.Client(vertexai=True, api_key=express, http_options=http_options)
        # Always pass a location: with a custom base URL and none, the SDK would post to the bare URL.
        return genai.Client(
            vertexai=True,
            project=s.project,
            location=s.location or DEFAULT_VERTEX_LOCATION,
            credentials=self._vertex_credentials,
            http_options=http_options,
        )

    def _retry_options(self, status_codes: list[int]) -> HttpRetryOptions:
        from google.genai import types

        s = self.settings
        return types.HttpRetryOptions(
            attempts=max(s.max_retries, 0) + 1,
            initial_delay=s.retry_initial_delay_s,
            max_delay=s.retry_max_delay_s,
            exp_base=2.0,
            jitter=s.retry_jitter_s,
            http_status_codes=status_codes,
        )

    def submit_http_options(self) -> HttpOptions:
        """Per-request `HttpOptions` for a paid, non-idempotent submit (Veo `generate_videos`): retry
        only 429, which means the request was refused, never 5xx or 408, after which the job may exist
        already. Pass it as `GenerateVideosConfig(http_options=...)`."""
        from google.genai import types

        s = self.settings
        retry = self._retry_options([429])
        return types.HttpOptions(timeout=max(int(s.timeout_s * 1000), 1), retry_options=retry)

    async def aclose(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            await client.aio.aclose()
            client.close()

    # -- errors

    def map_error(
        self, exc: BaseException, *, backend: Backend | None = None, model: str | None = None
    ) -> GenerationError:
        return map_genai_error(
            exc,
            secrets=self.settings.secrets(),
            backend=backend,
            model=model,
            timeout_s=self.settings.timeout_s,
        )


# ---------------------------------------------------------------------------------------------
# Error mapping


def _parse_duration(value: Any) -> float | None:
    """'2s' / '1.5s' (google.protobuf.Duration JSON) or a number of seconds."""
    try:
        return float(str(value).strip().removesuffix("s"))
    except ValueError:
        return None


def _retry_after(exc: Any) -> float | None:
    details = exc.details if isinstance(getattr(exc, "details", None), dict) else {}
    for detail in (details.get("error", details) or {}).get("details", []) or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            seconds = _parse_duration(detail.get("retryDelay"))
            if seconds is not None:
                return seconds
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is not None:
        header = headers.get("Retry-After")
        if header is not None:
            return _parse_duration(header)
    return None


def _is_invalid_key(exc: Any) -> bool:
    # The Developer API answers a bad key with 400 INVALID_ARGUMENT, reason API_KEY_INVALID.
    text = json.dumps(getattr(exc, "details", None), default=str)
    return "API_KEY_INVALID" in text or "API key not valid" in text or "API key expired" in text


def _credential_hint(backend: Backend | None) -> str:
    if backend == "vertex":
        return (
            "Check the Vertex AI credentials: the project (GOOGLE_CLOUD_PROJECT) must have the Vertex AI API "
            "enabled and the ADC account needs the Vertex AI User role; an express-mode key must be valid."
        )
    return "Check that GEMINI_API_KEY (or GOOGLE_API_KEY) is a valid, unrestricted Gemini API key."


def map_genai_error(
    exc: BaseException,
    *,
    secrets: Iterable[str] = (),
    backend: Backend | None = None,
    model: str | None = None,
    timeout_s: float | None = None,
) -> GenerationError:
    """Turn anything the SDK (or its transport) raised into a GenerationError with a remedy."""
    if isinstance(exc, GenerationError):
        return exc
    secrets = list(secrets)

    def make(kind: ErrorKind, message: str, **extra: Any) -> GenerationError:
        error = GenerationError(kind, scrub(message, secrets), **extra)
        error.__cause__ = exc
        return error

    from google.genai import errors  # the SDK is already loaded if it raised

    what = f"model {model!r}" if model else "the model"
    if isinstance(exc, errors.APIError):
        code = int(exc.code or 0)
        detail = f"{code} {exc.status or ''}: {exc.message or ''}".strip()
        if code in (401, 403) or (code == 400 and _is_invalid_key(exc)):
            return make(
                "auth_refused",
                f"The API refused the credentials ({detail}). {_credential_hint(backend)}",
                status_code=code,
            )
        if code == 404:
            return make(
                "model_not_found",
                f"Not found: {what} ({detail}). Check the model name (for example gemini-2.5-flash, "
                "veo-3.1-generate-001) and that it is available to your project and region.",
                status_code=code,
            )
        if code == 429:
            wait = _retry_after(exc)
            when = f"Retry after {wait:g} s." if wait is not None else "Retry later."
            return make(
                "quota_exhausted",
                f"Quota exhausted for {what} ({detail}). {when} If it persists, check the quota and billing "
                "of the project or key.",
                status_code=code,
                retry_after_s=wait,
            )
        if code in (408, 504):
            return make(
                "timeout", f"The API timed out ({detail}). Try again, or raise the timeout.", status_code=code
            )
        if code >= 500:
            return make(
                "server_error",
                f"The API failed with a server error after retries ({detail}). Try again later.",
                status_code=code,
            )
        return make("invalid_request", f"The API rejected the request ({detail}).", status_code=code)

    try:
        from google.auth import exceptions as auth_exceptions

        if isinstance(exc, auth_exceptions.DefaultCredentialsError):
            return make("no_credentials", f"No Application Default Credentials were found. {_VERTEX_HELP}")
        if isinstance(exc, auth_exceptions.TransportError):
            return make(
                "connection_error",
                f"Could not reach the Google token endpoint to refresh credentials ({exc}).",
            )
        if isinstance(exc, auth_exceptions.RefreshError | auth_exceptions.OAuthError):
            return make(
                "auth_refused",
                f"Refreshing the Google credentials failed ({exc}). "
                "Run `gcloud auth application-default login` again or check GOOGLE_APPLICATION_CREDENTIALS.",
            )
    except ImportError:  # pragma: no cover - google-auth ships with google-genai
        pass

    if isinstance(exc, TimeoutError) or type(exc).__name__ in (
        "TimeoutException",
        "ReadTimeout",
        "ServerTimeoutError",
    ):
        limit = f" within {timeout_s:g} s" if timeout_s else ""
        return make("timeout", f"No answer from {what}{limit}. Try again, or raise the timeout setting.")
    if isinstance(exc, errors.UnknownApiResponseError | json.JSONDecodeError | ValidationError):
        return make("malformed_response", f"The API answered something that could not be read: {exc}")
    if isinstance(exc, ConnectionError | OSError) or type(exc).__name__ in (
        "ConnectError",
        "ClientConnectorError",
    ):
        return make(
            "connection_error",
            f"Could not reach the API ({type(exc).__name__}: {exc}). "
            "Check the network and any GOOGLE_GEMINI_BASE_URL / GOOGLE_VERTEX_BASE_URL setting.",
        )
    if isinstance(exc, ValueError) and "only supported in" in str(exc):
        return make("invalid_request", f"{exc} {_VERTEX_HELP}")
    return make("unknown", f"Generation failed ({type(exc).__name__}: {exc}).")


_RPC_KIND: dict[int, ErrorKind] = {
    3: "invalid_request",
    4: "timeout",
    5: "model_not_found",
    7: "auth_refused",
    8: "quota_exhausted",
    13: "server_error",
    14: "server_error",
    16: "auth_refused",
}


def map_operation_error(error: Mapping[str, Any], *, secrets: Iterable[str] = ()) -> GenerationError:
    """A long-running operation that finished with `error: {code, message}` (google.rpc.Status).
    The SDK does not raise for these: the caller checks `operation.error`."""
    code = int(error.get("code") or 0)
    message = str(error.get("message") or "no message")
    kind = _RPC_KIND.get(code, "unknown")
    if code == 3 and ("safety" in message.lower() or "responsible ai" in message.lower()):
        kind = "safety_blocked"
    return GenerationError(kind, scrub(f"The operation failed (code {code}): {message}", secrets))


# ---------------------------------------------------------------------------------------------
# Calls

ModelT = TypeVar("ModelT", bound=BaseModel)


def check_blocked(response: GenerateContentResponse, *, model: str | None = None) -> None:
    """Raise safety_blocked when the prompt or the answer was withheld."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        reason = str(getattr(feedback.block_reason, "value", feedback.block_reason))
        extra = f" ({feedback.block_reason_message})" if feedback.block_reason_message else ""
        raise GenerationError(
            "safety_blocked",
            f"The prompt was blocked (blockReason {reason}){extra}. Rephrase the request to avoid the "
            "flagged content.",
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
            f"The answer was withheld (finishReason {finish_name}). Rephrase the request to avoid the "
            "flagged content.",
            finish_reason=finish_name,
        )


async def _generate(
    clients: GenAIClients, model: str, prompt: str, config: GenerateContentConfig
) -> GenerateContentResponse:
    backend, client = clients.for_text()
    try:
        return await client.models.generate_content(model=model, contents=prompt, config=config)
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
) -> ModelT:
    """Gemini structured output parsed into `schema`; malformed_response when it does not validate."""
    from google.genai import types

    config = types.GenerateContentConfig(
        system_instruction=system_instruction,
        temperature=temperature,
        response_mime_type="application/json",
        response_schema=schema,
    )
    response = await _generate(clients, model, prompt, config)
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
