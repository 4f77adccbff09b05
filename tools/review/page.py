"""The review page: per production, the queue and each take playing with its shot, prompt, provenance
and findings, and a form to approve, reject or revise it. Server-rendered (Jinja2, Starlette):
deciding is a plain form post that works without JavaScript; a few lines of script only make
break-time links seek the player in place (without script the link reloads the page at that time).

The routes carry no authentication of their own: the server puts them behind the same layers as the
MCP endpoint (`serve --http`) or behind a per-run key (`studio-mcp review`). Form posts must come
from the page's own origin, and no page may be framed by another site (a framed page's post would be
same-origin), so a cross-site form post or click changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from core import NotFound, StudioError
from tools.production import Production, ProductionService, Shot
from tools.review.chart import pipeline_svg
from tools.review.models import Review
from tools.review.service import ReviewService

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)
MAX_FORM_BYTES = 64 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"
# Inline style and script are the page's own; nothing else loads, and no other site may frame it.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class PageError(Exception):
    """An HTTP answer other than the page: its status and the message shown to the reviewer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def review_routes(
    reviews: ReviewService,
    productions: ProductionService,
    *,
    prefix: str = "/review",
    trusted_origins: Sequence[str] = (),
) -> list[BaseRoute]:
    """The page's routes under `prefix`. `trusted_origins` are origins besides the request's own Host
    that may post the form (the public origin when a proxy rewrites Host)."""
    trusted = {origin.rstrip("/").lower() for origin in trusted_origins}

    def render(name: str, code: int = 200, **values: Any) -> HTMLResponse:
        html = TEMPLATES.get_template(name).render(prefix=prefix, **values)
        return HTMLResponse(html, status_code=code, headers=SECURITY_HEADERS)

    def problem(error: PageError) -> HTMLResponse:
        return render("problem.html", error.status, status=error.status, message=error.message)

    async def production_of(key: str) -> Production:
        try:
            return await anyio.to_thread.run_sync(productions.get, key)
        except NotFound:
            raise PageError(404, f"There is no production {key[:200]!r}: the review page lists them.") from None

    async def review_in(prod: Production, asset: str) -> Review:
        try:
            review = await reviews.get(asset)
        except NotFound:
            review = None
        if review is None or review.production != prod.id or review.asset != asset:
            raise PageError(
                404,
                f"Asset {asset[:200]!r} is not in review in production {prod.id!r}: submit it with "
                "review_submit(asset=...) first, or pick a take from the queue.",
            )
        return review

    def shot_of(prod: Production, review: Review) -> Shot | None:
        try:
            return prod.find_shot(review.shot) if review.shot else None
        except StudioError:
            return None

    async def index(request: Request) -> Response:
        return render("index.html", productions=await reviews.productions_in_review())

    async def queue(request: Request) -> Response:
        try:
            prod = await production_of(request.path_params["production"])
            status = request.query_params.get("status") or None
            try:
                found = await reviews.queue(prod.id, status)
            except StudioError as exc:
                raise PageError(400, str(exc)) from None
        except PageError as error:
            return problem(error)
        shots = {shot.ref: shot for scene in prod.scenes.values() for shot in scene}
        report = await anyio.to_thread.run_sync(productions.pipeline, prod.id)
        chart = Markup(pipeline_svg(report.overall, f"{prod.name}: pipeline"))  # escapes its own text
        return render("queue.html", production=prod, queue=found, shots=shots, chart=chart)

    async def take(request: Request) -> Response:
        try:
            prod = await production_of(request.path_params["production"])
            review = await review_in(prod, request.path_params["asset"])
        except PageError as error:
            return problem(error)
        return render(
            "review.html",
            production=prod,
            review=review,
            shot=shot_of(prod, review),
            start=_seconds(request.query_params.get("t")),
            form={},
        )

    async def decide(request: Request) -> Response:
        form: dict[str, str] = {}
        try:
            if not _same_origin(request, trusted):
                raise PageError(403, "Cross-site form posts are refused: decide from the review page itself.")
            form = await _read_form(request)
            prod = await production_of(request.path_params["production"])
            review = await review_in(prod, request.path_params["asset"])
        except PageError as error:
            return problem(error)
        try:
            decided = await reviews.decide(
                review.asset,
                form.get("decision", ""),
                form.get("notes", ""),
                form.get("reviewer") or None,
                production=prod.id,
            )
        except StudioError as exc:
            # the same page again, with the reviewer's words kept and the reason on top
            return render(
                "review.html",
                400,
                production=prod,
                review=review,
                shot=shot_of(prod, review),
                start=None,
                form=form,
                message=str(exc),
            )
        return RedirectResponse(f"{prefix}/{decided.production}/{decided.asset}", status_code=303)

    async def media(request: Request) -> Response:
        try:
            prod = await production_of(request.path_params["production"])
            review = await review_in(prod, request.path_params["asset"])
            try:
                path, mime_type = await reviews.media(review.asset)
            except NotFound as exc:
                raise PageError(404, str(exc)) from None
        except PageError as error:
            return problem(error)
        # FileResponse answers Range requests, so the player can seek without loading the whole file
        return FileResponse(path, media_type=mime_type, headers={"Cache-Control": "private, max-age=3600"})

    async def to_index(request: Request) -> Response:
        return RedirectResponse(f"{prefix}/", status_code=307)

    return [
        Route(prefix, to_index, methods=["GET"]),
        Route(f"{prefix}/", index, methods=["GET"]),
        Route(f"{prefix}/{{production}}", queue, methods=["GET"]),
        Route(f"{prefix}/{{production}}/{{asset}}", take, methods=["GET"]),
        Route(f"{prefix}/{{production}}/{{asset}}/media", media, methods=["GET"]),
        Route(f"{prefix}/{{production}}/{{asset}}/decide", decide, methods=["POST"]),
    ]


def _same_origin(request: Request, trusted: set[str]) -> bool:
    """A browser says where a form was posted from: Sec-Fetch-Site, and Origin (else Referer), which
    must be this host (or a trusted origin). A post that names no source is refused."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return False
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    if f"{parts.scheme}://{parts.netloc}".lower() in trusted:
        return True
    return bool(parts.netloc) and parts.netloc.lower() == request.headers.get("host", "").lower()


async def _read_form(request: Request) -> dict[str, str]:
    """The urlencoded form, read up to MAX_FORM_BYTES whatever Content-Length claims."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
        raise PageError(415, f"Post the review form as {FORM_TYPE} (the page's own form does).")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PageError(413, f"The form is larger than {MAX_FORM_BYTES // 1024} KiB: shorten the notes.")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise PageError(400, "The form could not be read: post it from the review page.") from None
    return {name: values[0] for name, values in fields.items() if name in ("decision", "notes", "reviewer")}


def _seconds(raw: str | None) -> str | None:
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return f"{value:.2f}" if value is not None and 0 <= value < 86_400 else None
