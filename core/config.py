"""Reading every setting at start-up, so a bad one is one readable line (variable, value, what it
must be, an example) instead of a traceback from wherever it is first used."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from core.errors import shown
from core.genai import GenAISettings
from core.genai.settings import TUNABLE_FIELDS
from core.settings import Settings


class SettingsError(ValueError):
    """One or more settings are invalid; `problems` has one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings and the Gemini/Vertex settings from the environment, every problem reported at once."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    settings: Settings | None = None
    try:
        settings = Settings()
    except ValidationError as exc:
        problems += [_line(error, lambda field: f"STUDIO_{field.upper()}", Settings) for error in exc.errors()]
    try:
        GenAISettings.from_env(env)
    except ValidationError as exc:
        problems += [_line(error, _genai_variable, GenAISettings) for error in exc.errors()]
    if problems or settings is None:
        raise SettingsError(problems)
    return settings


def _genai_variable(field: str) -> str:
    return f"STUDIO_GENAI_{field.upper()}" if field in TUNABLE_FIELDS else field


def _line(error: Any, variable_of: Any, model: type[BaseModel]) -> str:
    field = str(error["loc"][0]) if error.get("loc") else "?"
    variable = variable_of(field)
    info = model.model_fields.get(field)
    secret = info is not None and "Secret" in str(info.annotation)
    value = "<hidden>" if secret else shown(str(error.get("input")), 60)  # quoted, cut
    message = str(error.get("msg", "is invalid")).rstrip(".")
    example = ""
    if info is not None and not secret and info.default not in (None, [], {}) and not callable(info.default):
        example = f" (e.g. {variable}={info.default})"
    return f"{variable}={value}: {message}{example}."
