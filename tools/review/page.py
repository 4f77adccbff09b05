"""The review page: the queue and each take with its findings, prompt and provenance, and a form to
approve, reject or revise it. Server-rendered (Jinja2, Starlette): deciding works without JavaScript;
a few lines of script only make break-time links seek the player in place.

The routes carry no authentication of their own: the HTTP server puts them behind the same layers as
the MCP endpoint. Form posts must come from the page's own origin (cross-site posts are refused)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from core import NotFound, StudioError
from tools.review.service import ReviewService

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)
MAX_FORM_BYTES = 64 * 1024


def review_routes(reviews: ReviewService, prefix: str = "/review") -> list[Route]:
    def page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = TEMPLATES.get_template(name).render(prefix=prefix, **values)
        return HTMLResponse(html, status_code=status)

    def problem(status: int, message: str) -> HTMLResponse:
        return HTMLResponse(
            TEMPLATES.from_string(
                '{% extends "base.html" %}{% block body %}<h1>{{ title }}</h1><p class="banner">{{ message }}</p>'
                "{% endblock %}"
            ).render(prefix=prefix, title=f"{status}", message=message),
            status_code=status,
        )

    async def index(request: Request) -> Response:
        return page("index.html", productions=await reviews.productions_in_review())

    async def queue(request: Request) -> Response:
        status = request.query_params.get("status") or None
        try:
            found = await reviews.queue(request.path_params["production"], status)
        except NotFound as exc:
            return problem(404, str(exc))
        except StudioError as exc:
            return problem(400, str(exc))
        return page("queue.html", queue=found)

    async def take(request: Request) -> Response:
        try:
            review = await reviews.get(request.path_params["asset"])
        except NotFound as exc:
            return problem(404, str(exc))
        if review.production != request.path_params["production"]:
            return problem(404, f"Asset {review.asset} is not in production {request.path_params['production']!r}.")
        start = _seconds(request.query_params.get("t"))
        return page("review.html", review=review, start=start, message=request.query_params.get("message"))

    async def decide(request: Request) -> Response:
        if not _same_origin(request):
            return problem(403, "Cross-site form posts are refused: decide from the review page itself.")
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return problem(413, f"The form is larger than {MAX_FORM_BYTES // 1024} KiB.")
        form = await request.form()
        production, asset = request.path_params["production"], request.path_params["asset"]
        try:
            review = await reviews.decide(
                asset,
                str(form.get("decision") or ""),
                str(form.get("notes") or ""),
                str(form.get("reviewer") or "") or None,
                production=production,
            )
        except NotFound as exc:
            return problem(404, str(exc))
        except StudioError as exc:
            return problem(400, str(exc))
        return RedirectResponse(f"{prefix}/{review.production}/{review.asset}", status_code=303)

    async def media(request: Request) -> Response:
        try:
            path, mime_type = await reviews.media(request.path_params["asset"])
        except NotFound as exc:
            return problem(404, str(exc))
        return FileResponse(path, media_type=mime_type)  # answers Range requests, so the player can seek

    return [
        Route(f"{prefix}/", index, methods=["GET"]),
        Route(f"{prefix}/media/{{asset}}", media, methods=["GET"]),
        Route(f"{prefix}/{{production}}", queue, methods=["GET"]),
        Route(f"{prefix}/{{production}}/{{asset}}", take, methods=["GET"]),
        Route(f"{prefix}/{{production}}/{{asset}}/decide", decide, methods=["POST"]),
    ]


def _same_origin(request: Request) -> bool:
    """A browser names the page a form was posted from (Origin, else Referer): it must be this host."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return False
    return urlsplit(source).netloc == request.headers.get("host", "")


def _seconds(raw: str | None) -> str | None:
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return f"{value:.2f}" if value is not None and value >= 0 else None
