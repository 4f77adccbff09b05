"""The error a style reader or the chunker raises for input the caller can fix.

It is a ValueError (bad input, not a server fault) and deliberately not an MCP type, so this
library stays usable without the server; the tool layer maps it to a ToolError. Every message
says what is wrong and how to fix it.
"""

from __future__ import annotations


class StyleInputError(ValueError):
    """Style material that cannot be read: the message names the problem and the remedy."""
