"""What a google-genai call can go wrong with, as errors a user can act on.

`GenerationError` carries a `kind`; every message has the configured keys (and anything shaped like
a Google API key) scrubbed out. A transport failure is either `connection_error` (no connection was
made: nothing was sent) or `connection_lost` (the connection broke after the request was sent: the
API may have processed it); `may_have_been_processed` says which kinds leave a call's outcome unknown.
`map_genai_error` turns whatever the SDK or its transport raised into one; `map_operation_error` does
the same for a long-running operation that finished with an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import ValidationError

from core.errors import StudioError

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
    "connection_lost",
    "unknown",
]

# After these the request may have reached the API and been processed, though no answer says so: a
# paid call that failed this way may be billed, and must not be resent automatically.
OUTCOME_UNKNOWN_KINDS: frozenset[str] = frozenset(
    {"server_error", "timeout", "connection_lost", "malformed_response", "unknown"}
)

# Transport exceptions (by class name, so httpx, httpx2 and aiohttp all match) raised before any
# byte of the request was sent: the connection could not be made.
_NOT_CONNECTED = {
    "ClientConnectorError",  # aiohttp (and its DNS, SSL and certificate subclasses)
    "ClientProxyConnectionError",
    "ConnectionTimeoutError",  # aiohttp: timed out while connecting
    "ConnectError",  # httpx
    "ConnectTimeout",  # httpx
    "ConnectionRefusedError",
    "gaierror",
}
_CONNECTION_LOST = {
    "ServerDisconnectedError",  # aiohttp: closed before (all of) the answer
    "ClientOSError",  # aiohttp: e.g. reset by peer
    "ClientPayloadError",
    "RemoteProtocolError",  # httpx: "Server disconnected without sending a response."
    "ReadError",
    "WriteError",
    "NetworkError",
    "ConnectionError",  # the builtin, and subclasses such as ConnectionResetError
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


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret (and anything shaped like a Google API key) replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _API_KEY_PATTERN.sub("***", text)


# ---------------------------------------------------------------------------------------------
# Error mapping


def may_have_been_processed(error: GenerationError) -> bool:
    """Whether the failed call may have been processed anyway (its answer was lost, not refused)."""
    return error.kind in OUTCOME_UNKNOWN_KINDS


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
            return make("timeout", f"The API timed out ({detail}). Try again, or raise the timeout.", status_code=code)
        if code >= 500:
            return make(
                "server_error",
                f"The API failed with a server error ({detail}). Try again later.",
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

    names = {cls.__name__ for cls in type(exc).__mro__}
    where = "Check the network and any GOOGLE_GEMINI_BASE_URL / GOOGLE_VERTEX_BASE_URL setting."
    if names & _NOT_CONNECTED:
        return make(
            "connection_error",
            f"Could not connect to the API ({type(exc).__name__}: {exc}), so nothing was sent. {where}",
        )
    if isinstance(exc, TimeoutError) or names & {"TimeoutException", "ServerTimeoutError"}:
        limit = f" within {timeout_s:g} s" if timeout_s else ""
        return make("timeout", f"No answer from {what}{limit}. Try again, or raise the timeout setting.")
    if isinstance(exc, errors.UnknownApiResponseError | json.JSONDecodeError | ValidationError):
        return make("malformed_response", f"The API answered something that could not be read: {exc}")
    if names & _CONNECTION_LOST or isinstance(exc, OSError):
        return make(
            "connection_lost",
            f"The connection broke after the request was sent ({type(exc).__name__}: {exc}), so the API may "
            f"have processed it. {where}",
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
