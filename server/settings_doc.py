"""The README's settings table, rendered from the settings models so it cannot drift from them.

`studio-mcp settings --markdown` prints it; the README holds it between the markers below, and
tests/server/test_readme_settings.py checks that the two are the same.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic.fields import FieldInfo

from core import Settings
from core.genai import GenAISettings
from core.genai.settings import TUNABLE_FIELDS

START = "<!-- settings-table:start -->"
END = "<!-- settings-table:end -->"
COMMAND = "studio-mcp settings --markdown"

HEADER = ("| variable | default | meaning |", "|---|---|---|")

# Variables read outside the two models: the price table (tools.generation's pricing) and the
# OpenTelemetry and google-genai SDKs' own variables.
OTHER_ROWS: tuple[tuple[str, str, str], ...] = (
    (
        "`STUDIO_PRICES_JSON`",
        "built-in",
        "JSON object or file path overriding the price table (`source`, `as_of`, `video`, `image`).",
    ),
    (
        "`OTEL_EXPORTER_OTLP_ENDPOINT` (`_TRACES_ENDPOINT`, `_PROTOCOL`, `_HEADERS`), `OTEL_SERVICE_NAME`",
        "—",
        "Export traces by OTLP (`http/protobuf` by default, or `grpc`); unset, nothing is exported or installed.",
    ),
    (
        "`GEMINI_API_KEY` / `GOOGLE_API_KEY`",
        "—",
        "Gemini Developer API: `shots_plan`, Gemini images, gemini embeddings.",
    ),
    (
        "`GOOGLE_GENAI_USE_VERTEXAI`, `GOOGLE_CLOUD_PROJECT`, `GOOGLE_CLOUD_LOCATION`",
        "—",
        "Vertex AI with ADC (or an express-mode key in `GOOGLE_API_KEY`): Veo, Imagen.",
    ),
    (
        "`GOOGLE_GEMINI_BASE_URL` / `GOOGLE_VERTEX_BASE_URL`",
        "—",
        "Point the SDK elsewhere (the tests use a local fake).",
    ),
)


def settings_table() -> str:
    """The Markdown table: one row per Settings field and STUDIO_GENAI_* tunable, then OTHER_ROWS."""
    rows: list[tuple[str, str, str]] = []
    rows += [_row(f"STUDIO_{name.upper()}", info) for name, info in Settings.model_fields.items()]
    rows += [_row(f"STUDIO_GENAI_{name.upper()}", GenAISettings.model_fields[name]) for name in TUNABLE_FIELDS]
    rows += OTHER_ROWS
    return "\n".join([*HEADER, *(f"| {variable} | {default} | {meaning} |" for variable, default, meaning in rows)])


def readme_table(readme: str) -> str:
    """The table between the README's markers (without them), or "" when the markers are missing."""
    if START not in readme or END not in readme:
        return ""
    return readme.split(START, 1)[1].split(END, 1)[0].strip("\n")


def _row(variable: str, info: FieldInfo) -> tuple[str, str, str]:
    if not info.description:
        raise ValueError(f"{variable} has no description: give its field one")
    return f"`{variable}`", _default(info), _cell(info.description)


def _default(info: FieldInfo) -> str:
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "—"
    if "Secret" in str(info.annotation) and value not in ([], {}, ""):
        return "(hidden)"  # a secret's value is never rendered, not even a default
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, Path):
        text = str(value)
    elif isinstance(value, list | dict):
        text = json.dumps(value, default=str)
    else:
        text = str(value)
    return f"`{_cell(text)}`"


def _cell(text: str) -> str:
    """One table cell: a pipe would end it, a newline the row."""
    return " ".join(text.split()).replace("|", "\\|")
