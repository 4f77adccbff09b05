"""The one exception type a tool raises for a failure the caller can fix, and the helpers that keep
its message short.

It subclasses the SDK's ToolError so its message reaches the client verbatim (any other
exception reaches it only as "Error executing tool X"). Messages say what was wrong and
how to fix it, and never carry a secret. A caller's value is echoed through `shown` (a 1 MB
argument must not come back as a 1 MB error, nor fill the log), lists of what exists through
`listing`, and every message is capped as a last resort, keeping its start (what was wrong) and
its end (how to fix it).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from mcp.server.mcpserver.exceptions import ToolError

ECHO_LIMIT = 200
"""Characters of a caller's value an error or log line repeats."""

MESSAGE_LIMIT = 2000
"""Characters of an error message at most."""

LIST_LIMIT = 10
"""Names an error lists at most."""


def shown(value: object, limit: int = ECHO_LIMIT) -> str:
    """`repr(value)`, cut to `limit` characters with a note of the full length when longer."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters in all)"


# A quoted run longer than ECHO_LIMIT inside a message: almost always a caller's value echoed by `!r`.
_LONG_QUOTED = re.compile(r"""(['"])([^'"\n]{""" + str(ECHO_LIMIT) + r""",})\1""")


def _cut_quoted(match: re.Match[str]) -> str:
    quote, text = match.group(1), match.group(2)
    return f"{quote}{text[:ECHO_LIMIT]}…{quote} ({len(text) + 2:,} characters in all)"


def capped(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """`message` with long quoted values cut to ECHO_LIMIT; if still longer than `limit`, its start
    and end around a note of what was left out."""
    message = _LONG_QUOTED.sub(_cut_quoted, message)
    if len(message) <= limit:
        return message
    head, tail = limit * 2 // 3, limit // 3
    return f"{message[:head]} …[{len(message) - head - tail:,} characters omitted]… {message[-tail:]}"


def listing(names: Iterable[str], *, like: str | None = None, limit: int = LIST_LIMIT, empty: str = "none") -> str:
    """Up to `limit` names, comma-separated, then "and N more"; with `like`, the closest names first."""
    every = list(dict.fromkeys(names))
    if not every:
        return empty
    if like is not None:
        close = difflib.get_close_matches(like[:ECHO_LIMIT], every, n=limit, cutoff=0.5)
        every = close + [name for name in every if name not in close]
    first = ", ".join(shown(name) if len(name) > ECHO_LIMIT else name for name in every[:limit])
    rest = len(every) - limit
    return f"{first} and {rest} more" if rest > 0 else first


class StudioError(ToolError):
    """A failure the caller can act on."""

    def __init__(self, message: str = "", *args: object) -> None:
        super().__init__(capped(str(message)), *args)


class NotFound(StudioError):
    """A named thing (kit, production, shot, asset, job) does not exist."""
