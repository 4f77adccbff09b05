"""What the google-genai clients are built from: the SDK's own variables plus our timeouts and retries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr

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
    # The tunables (TUNABLE_FIELDS), read from STUDIO_GENAI_<FIELD>; their descriptions are the README's rows.
    timeout_s: float = Field(120.0, description="Timeout of one Gemini/Vertex call.")
    max_retries: int = Field(
        4,
        description="Retries (backoff with jitter) on 408/429/5xx; a paid call (Veo submit, image generation) makes "
        "one SDK attempt and retries only 429.",
    )
    retry_initial_delay_s: float = Field(1.0, description="First retry delay; it doubles per retry.")
    retry_max_delay_s: float = Field(30.0, description="Longest retry delay.")
    retry_jitter_s: float = Field(1.0, description="Up to this much random delay added to each retry.")
    transport: Literal["auto", "httpx"] = Field(
        "auto",
        description="The SDK's async HTTP transport: `auto` lets it choose (aiohttp when installed, else httpx); "
        "`httpx` makes google-genai use httpx instead of aiohttp.",
    )

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
