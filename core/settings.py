"""Settings, read from `STUDIO_*` environment variables (and the SDK's own Gemini/Vertex variables)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

EmbedderName = Literal["minilm", "chroma-onnx", "gemini"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STUDIO_", extra="ignore")

    data_dir: Path = Field(Path("studio-data"), description="Where state, Chroma (embedded) and media live.")
    allowed_roots: list[Path] = Field(
        default_factory=list,
        description="Directories that tool paths may point into; the working directory and data_dir always count.",
    )

    chroma_mode: Literal["embedded", "http"] = Field("embedded", description="embedded = PersistentClient.")
    chroma_host: str = "localhost"
    chroma_port: int = 8000
    chroma_ssl: bool = False
    chroma_token: SecretStr | None = Field(None, description="Sent as x-chroma-token (Chroma Cloud).")
    chroma_headers: dict[str, SecretStr] = Field(default_factory=dict, description="Extra HTTP headers.")
    chroma_tenant: str | None = None
    chroma_database: str | None = None

    embedder: EmbedderName = Field("minilm", description="minilm (offline, default), chroma-onnx or gemini.")
    gemini_embedding_model: str = "gemini-embedding-001"

    max_files_per_ingest: int = Field(500, ge=1, description="A directory with more files is refused.")
    max_file_mb: float = Field(20.0, gt=0)
    ingest_write_batch: int = Field(1000, ge=1, description="Chunks per Chroma write during ingest.")

    plan_model: str = Field("gemini-2.5-flash", description="Gemini model for shots_plan.")
    judge_model: str = Field("gemini-2.5-flash", description="Gemini model for continuity judgments (judge=true).")
    veo_job_deadline_s: float = Field(900.0, gt=0, description="A Veo job unfinished this long after recording fails.")
    veo_poll_initial_s: float = Field(5.0, gt=0, description="First poll delay; doubles per poll, with jitter.")
    veo_poll_max_s: float = Field(30.0, gt=0, description="Longest poll delay.")
    veo_poll_concurrency: int = Field(16, ge=1, description="Polls in flight at once.")
    veo_expected_s: float = Field(90.0, gt=0, description="Typical Veo generation time, for progress estimates.")

    http_host: str = "127.0.0.1"
    http_port: int = 8765
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def state_path(self) -> Path:
        return self.data_dir / "state.sqlite3"

    def roots(self, cwd: Path | None = None) -> list[Path]:
        """Resolved allowed roots: configured ones plus the working directory and the data directory."""
        base = [*self.allowed_roots, cwd or Path.cwd(), self.data_dir]
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
            else:
                out[name] = str(value) if isinstance(value, Path) else value
        return out
