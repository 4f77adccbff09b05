"""The google-genai boundary: settings, clients, error mapping and call helpers.

Nothing here imports google.genai at module level: the SDK loads on the first call."""

from core.genai.calls import check_blocked, generate_structured, generate_text
from core.genai.clients import DEFAULT_VERTEX_LOCATION, CredentialsReport, GenAIClients
from core.genai.errors import (
    OUTCOME_UNKNOWN_KINDS,
    Backend,
    ErrorKind,
    GenerationError,
    MissingCredentials,
    map_genai_error,
    map_operation_error,
    may_have_been_processed,
    scrub,
)
from core.genai.settings import GenAISettings

__all__ = [
    "DEFAULT_VERTEX_LOCATION",
    "OUTCOME_UNKNOWN_KINDS",
    "Backend",
    "CredentialsReport",
    "ErrorKind",
    "GenAIClients",
    "GenAISettings",
    "GenerationError",
    "MissingCredentials",
    "check_blocked",
    "generate_structured",
    "generate_text",
    "map_genai_error",
    "map_operation_error",
    "may_have_been_processed",
    "scrub",
]
