"""What the google-genai clients are built from: the SDK's own variables plus our timeouts and retries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, SecretStr

TUNABLE_FIELDS = (
    "timeout_s",
    "max_retries",
    "retry_initial_delay_s",
    "retry_max_delay_s",
    "retry_jitter_s",
    "transport",
)


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
    max_retries: int = 4  # retries after the first attempt: 408/429/5xx, but only 429 for a paid call
    retry_initial_delay_s: float = 1.0
    retry_max_delay_s: float = 30.0
    retry_jitter_s: float = 1.0
    # The SDK's async HTTP transport: "auto" lets it choose (aiohttp when installed, else httpx).
    transport: Literal["auto", "httpx"] = "auto"

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
                for field in TUNABLE_FIELDS
                if environ.get(f"STUDIO_GENAI_{field.upper()}")
            },
        }
        return cls.model_validate({**values, **overrides})

    def secrets(self) -> list[str]:
        """The configured secret values, for scrubbing."""
        keys = [self.api_key, self.vertex_api_key]
        return [k.get_secret_value() for k in keys if k is not None and k.get_secret_value()]
