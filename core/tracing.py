"""OpenTelemetry: spans for tool calls, Google GenAI and Chroma calls, and one trace per shot.

Exported by the SDK's OTLP exporter when the standard variables ask for it
(`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_EXPORTER_OTLP_PROTOCOL`
`http/protobuf`, the default, or `grpc`; `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`). With none
set, no provider is installed: every span below is the API's no-op span, and the server does not
install its tracing middleware at all, so tracing costs nothing.

A shot's journey (prompt_build, preflight, video_generate, the submit, the polls, the media check,
the review) arrives as separate MCP calls minutes apart; each call's span stays in the caller's trace
(its W3C `traceparent` is honoured by the MCP SDK), and a step span for it is started in the shot's
own trace, whose root context is stored with the shot, with a link to the call's span.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags

TRACER = trace.get_tracer("studio-mcp")
ShotTraceIds = tuple[str, str]  # (trace id, span id) of a shot's root span, as 32 and 16 hex digits


def exporting() -> bool:
    """Whether the OTEL_* environment asks for traces to be exported."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return any(
        os.environ.get(v, "").strip() for v in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def start_exporting(service_name: str = "studio-mcp") -> Callable[[], None] | None:
    """Install the SDK's tracer provider with a batching OTLP exporter (it sends from its own thread,
    with the exporter's timeout); returns its shutdown, which flushes. None when not exporting."""
    if not exporting():
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return None  # one provider a process: an earlier server in this process installed it
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
    ).strip()
    exporter: SpanExporter
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        exporter = GrpcExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

        exporter = HttpExporter()
    named = {} if os.environ.get("OTEL_SERVICE_NAME", "").strip() else {"service.name": service_name}
    provider = TracerProvider(resource=Resource.create(named))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider.shutdown


def new_shot_trace(production: str, shot: str) -> ShotTraceIds:
    """Start and end the root span of a shot's trace (a trace of its own, linked to the current span)."""
    current = trace.get_current_span().get_span_context()
    root = TRACER.start_span(
        f"shot {production}/{shot}",
        context=Context(),
        kind=SpanKind.INTERNAL,
        links=[Link(current)] if current.is_valid else [],
        attributes={"studio.production": production, "studio.shot": shot},
    )
    root.end()
    ids = root.get_span_context()
    return f"{ids.trace_id:032x}", f"{ids.span_id:016x}"


@contextmanager
def shot_step(name: str, ids: ShotTraceIds, attributes: dict[str, Any] | None = None) -> Iterator[Span]:
    """A span in a shot's trace (a child of its root), current for the block, linked to the span that
    was current before it (the tool call's)."""
    parent = SpanContext(
        trace_id=int(ids[0], 16), span_id=int(ids[1], 16), is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED)
    )
    caller = trace.get_current_span().get_span_context()
    with TRACER.start_as_current_span(
        name,
        context=trace.set_span_in_context(NonRecordingSpan(parent)),
        links=[Link(caller)] if caller.is_valid else [],
        attributes=attributes,
    ) as span:
        yield span


@contextmanager
def client_span(system: str, operation: str, attributes: dict[str, Any] | None = None) -> Iterator[Span]:
    """A child span for a call to a backend (`gen_ai` for Google GenAI, `chroma`)."""
    with TRACER.start_as_current_span(
        f"{system} {operation}", kind=SpanKind.CLIENT, attributes={"studio.backend": system, **(attributes or {})}
    ) as span:
        yield span
