"""Confines every path a tool receives to the allowed roots."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlparse

import anyio
from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.resolve import ListRoots
from mcp.types import ListRootsResult
from mcp_types.version import is_version_at_least

from core.errors import StudioError, listing, shown

log = logging.getLogger(__name__)


class PathNotAllowed(StudioError):
    pass


def confine(raw: str, roots: Sequence[Path], *, must_exist: bool = True) -> Path:
    """Resolve `raw` (relative to the working directory) and refuse it unless it lies in a root.

    `..` components are refused outright, and symlinks are resolved before the check, so a
    link inside a root that points outside it is refused too. The roots are explicit (the
    working directory is not one unless configured). Errors echo `raw` cut short and name the
    roots by their last directory only: absolute server paths stay on the server.
    """
    if not raw or not raw.strip():
        raise PathNotAllowed("Empty path: pass a file or directory path inside an allowed root.")
    candidate = Path(raw).expanduser()
    if ".." in candidate.parts:
        raise PathNotAllowed(f"Path {shown(raw)} contains '..': pass a path without parent-directory steps.")
    try:
        exists = candidate.exists()
        resolved = candidate.resolve()
    except (OSError, RuntimeError) as exc:  # a name too long, a symlink loop
        raise PathNotAllowed(f"Path {shown(raw)} cannot be read ({type(exc).__name__}): pass a real path.") from None
    if must_exist and not exists:
        raise PathNotAllowed(
            f"Path {shown(raw)} does not exist. Pass an absolute path, or one relative to the server's working "
            "directory, inside an allowed root."
        )
    for root in roots:
        if resolved.is_relative_to(root.resolve()):
            return resolved
    names = listing(f"'{root.name or root}'" for root in roots)
    raise PathNotAllowed(
        f"Path {shown(raw)} resolves outside the allowed roots ({names}). Move the material inside one of them "
        "or add its directory to STUDIO_ALLOWED_ROOTS (`studio-mcp doctor` prints them in full)."
    )


def display(path: Path, roots: Sequence[Path]) -> str:
    """`path` relative to the allowed root it lies in (e.g. 'studio-data/media/x.png'), for messages."""
    for root in roots:
        resolved = root.resolve()
        if path.resolve().is_relative_to(resolved):
            return str(Path(resolved.name) / path.resolve().relative_to(resolved))
    return path.name


async def ask_client_roots(ctx: Context) -> ListRoots | ListRootsResult:
    """The MCP client's roots, when it offers any: the resolver behind `ClientRoots`.

    Handshake-era protocols (up to 2025-11-25, stdio or a stateful HTTP session) ask with a
    roots/list request mid-call (3 s at most, never fatal). From 2026-07-28 the server has no
    back-channel for that; it returns the question instead (InputRequiredResult), the client
    answers it and retries, and the SDK hands the answer here: that is why `roots/list` sent
    mid-call never took effect for those clients ("no back-channel").
    """
    caps = ctx.client_capabilities
    if caps is None or caps.roots is None:
        return ListRootsResult(roots=[])
    version = ctx.protocol_version
    if version is not None and is_version_at_least(version, "2026-07-28"):
        return ListRoots()
    if not ctx.session.can_send_request:  # stateless HTTP of the old protocol: nowhere to ask
        return ListRootsResult(roots=[])
    try:
        # Roots are deprecated from protocol 2026-07-28 but still what today's desktop clients offer.
        with anyio.fail_after(3), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return await ctx.session.list_roots()
    except Exception as exc:
        log.info("Client roots unavailable: %s", shown(str(exc)))
        return ListRootsResult(roots=[])


ClientRoots = Annotated[ListRootsResult, Resolve(ask_client_roots)]
"""A tool parameter filled with the client's roots by the SDK (never by the caller's arguments)."""


def root_paths(offered: ListRootsResult) -> list[Path]:
    """The local directories among the roots a client offered (file:// URIs only)."""
    roots = []
    for root in offered.roots:
        parsed = urlparse(str(root.uri))
        if parsed.scheme == "file":
            roots.append(Path(unquote(parsed.path)))
    return roots
