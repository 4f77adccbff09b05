"""Tool-call tracing middleware (installed only when OTEL_* asks for export, see core/tracing.py).

The MCP SDK already wraps each call in a span (honouring the client's `traceparent`); this adds what a
studio needs to read it: the production, shot, asset, job, outcome and cost, and a step span in the
shot's own trace so a shot's whole journey reads as one trace."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import CallToolResult, TextContent
from opentelemetry import trace
from opentelemetry.trace import Span, StatusCode

from core import StudioError, shown, tracing
from tools.production import ProductionService, parse_shot_ref, shot_ref


class ToolCallTracing:
    def __init__(self, productions: ProductionService, video_job: Callable[[str], Mapping[str, Any]]) -> None:
        self._productions = productions
        self._video_job = video_job  # a job id -> its row (production, shot)

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = ctx.params if isinstance(ctx.params, Mapping) else {}
        name = params.get("name")
        if ctx.method != "tools/call" or not isinstance(name, str):
            return await call_next(ctx)
        args = params.get("arguments")
        where = await anyio.to_thread.run_sync(self._where, args if isinstance(args, Mapping) else {})
        call_span = trace.get_current_span()
        call_span.set_attributes(where)
        pid, shot = where.get("studio.production"), where.get("studio.shot")
        if pid is None or shot is None:
            result = await call_next(ctx)
        else:
            ids = await anyio.to_thread.run_sync(self._productions.shot_trace, pid, shot)
            with tracing.shot_step(f"{name} {shot}", ids, {"studio.tool": name, **where}) as step:
                result = await call_next(ctx)
                _outcome(step, result)
        _outcome(call_span, result)
        return result

    def _where(self, args: Mapping[str, Any]) -> dict[str, str]:
        """What the call is about, as far as its arguments say; a bad argument is the tool's to report."""
        found: dict[str, str] = {}
        try:
            if isinstance(args.get("asset"), str):
                asset = self._productions.asset(args["asset"])
                found["studio.asset"] = asset.id
                found["studio.production"] = asset.production
                if asset.shot:
                    found["studio.shot"] = asset.shot
            if isinstance(args.get("job"), str) and args["job"].startswith("vj_"):
                row = self._video_job(args["job"])
                found.update(
                    {"studio.job": row["id"], "studio.production": row["production"], "studio.shot": row["shot"]}
                )
            if isinstance(args.get("production"), str):
                found["studio.production"] = self._productions.resolve(args["production"])
            if isinstance(args.get("shot"), str) and "studio.production" in found:
                found["studio.shot"] = shot_ref(*parse_shot_ref(args["shot"]))
        except (StudioError, ValueError):
            pass
        return found


def _outcome(span: Span, result: HandlerResult) -> None:
    if isinstance(result, CallToolResult):
        is_error, structured = result.is_error, result.structured_content or {}
        text = next((c.text for c in result.content if isinstance(c, TextContent)), "")
    elif isinstance(result, Mapping):
        is_error, structured, text = bool(result.get("isError")), result.get("structuredContent") or {}, ""
    else:
        return
    span.set_attribute("studio.outcome", "error" if is_error else "ok")
    if is_error:
        span.set_attribute("studio.error", shown(text))
        span.set_status(StatusCode.ERROR)
        return
    for key, attribute in (("estimate_usd", "studio.cost_usd"), ("status", "studio.status")):
        value = structured.get(key)
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            span.set_attribute(attribute, value)
    job = structured.get("id") or structured.get("job")
    if isinstance(job, str) and job.startswith(("vj_", "img_")):
        span.set_attribute("studio.job", job)
