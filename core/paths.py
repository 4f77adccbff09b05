"""Confines every path a tool receives to the allowed roots."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

import anyio
from mcp.server.mcpserver import Context

from core.errors import StudioError

log = logging.getLogger(__name__)


class PathNotAllowed(StudioError):
    pass


def confine(raw: str, roots: Sequence[Path], *, must_exist: bool = True) -> Path:
    """Resolve `raw` (relative to the working directory) and refuse it unless it lies in a root.

    `..` components are refused outright, and symlinks are resolved before the check, so a
    link inside a root that points outside it is refused too.
    """
    if not raw or not raw.strip():
        raise PathNotAllowed("Empty path: pass a file or directory path inside an allowed root.")
    candidate = Path(raw).expanduser()
    if ".." in candidate.parts:
        raise PathNotAllowed(f"Path {raw!r} contains '..': pass a path without parent-directory steps.")
    if must_exist and not candidate.exists():
        raise PathNotAllowed(f"Path {raw!r} does not exist (relative paths start at {Path.cwd()}).")
    resolved = candidate.resolve()
    for root in roots:
        if resolved.is_relative_to(root.resolve()):
            return resolved
    listed = ", ".join(str(r) for r in roots)
    raise PathNotAllowed(
        f"Path {raw!r} resolves outside the allowed roots ({listed}). Move the material inside one of them "
        "or add its directory to STUDIO_ALLOWED_ROOTS."
    )


async def client_roots(ctx: Context) -> list[Path]:
    """Directories the MCP client offers as roots, when it offers any (best effort, never fatal)."""
    caps = ctx.client_capabilities
    if caps is None or caps.roots is None:
        return []
    try:
        # Roots are deprecated from protocol 2026-07-28 but still what today's desktop clients offer.
        with anyio.fail_after(3), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = await ctx.session.list_roots()
    except Exception as exc:
        log.info("Client roots unavailable: %s", exc)
        return []
    roots = []
    for root in result.roots:
        parsed = urlparse(str(root.uri))
        if parsed.scheme == "file":
            roots.append(Path(unquote(parsed.path)))
    return roots
