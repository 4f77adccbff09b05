"""The style family: its service (what other families use, as `kits`) and its MCP surface, four
tools and the kit resources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from pydantic import Field

from core import BackgroundTask, ClientRoots, StudioError, root_paths
from core.annotations import READ_ONLY, RECORDS, REPLACES
from core.context import StudioContext
from core.state import Migration
from tools.style.models import IngestResult, KitList, RemoveResult, SearchResult, StyleKind
from tools.style.service import MAX_K, MAX_LABELS, MIGRATIONS, StyleService

# Bounds on list arguments, in the schema: the SDK reports a list that breaks one as a single error
# instead of one per item (10,000 bad items gave a 1.5 MB error text).
MAX_PATHS = 100


class StyleFamily:
    name = "style"
    migrations: Sequence[Migration] = MIGRATIONS

    def __init__(self, context: StudioContext) -> None:
        self.kits = StyleService(context)
        # Renews this server's ingest leases and settles interrupted ingests without waiting for a call;
        # loads the offline embedder while the client is still listing tools (seconds of torch and MiniLM).
        self.background: Sequence[BackgroundTask] = (
            (self.kits.maintain_journal, self.kits.warm_embedder)
            if context.settings.warm_embedder
            else (self.kits.maintain_journal,)
        )

    def register(self, server: MCPServer[Any]) -> None:
        register_tools(server, self.kits)


def register_tools(server: MCPServer[Any], service: StyleService) -> None:

    @server.tool(annotations=RECORDS)
    async def style_ingest(
        kit: Annotated[str, Field(description="Kit name, e.g. 'lumen-moss'. Created on first ingest.")],
        offered_roots: ClientRoots,
        paths: Annotated[
            list[str],
            Field(description="Files or directories (recursive): .md .txt .pdf .json .png .jpg", max_length=MAX_PATHS),
        ] = [],  # noqa: B006
        text: Annotated[str | None, Field(description="Inline material instead of (or as well as) files.")] = None,
        title: Annotated[str | None, Field(description="Title of the inline text; required with text.")] = None,
        kind: Annotated[
            StyleKind, Field(description="What the material is; 'guide' lets the file type decide.")
        ] = "guide",
        entities: Annotated[
            list[str], Field(description="Characters, locations or props it describes.", max_length=MAX_LABELS)
        ] = [],  # noqa: B006
        tags: Annotated[
            list[str], Field(max_length=MAX_LABELS, description="Free labels stored with the passages, e.g. 'winter'.")
        ] = [],  # noqa: B006
    ) -> IngestResult:
        """Index style material (style bibles, brand kits, character sheets, references) into a kit.

        Re-ingesting an unchanged file does nothing; a changed file replaces its old chunks."""
        return await service.ingest(kit, paths, text, title, kind, entities, tags, root_paths(offered_roots))

    @server.tool(annotations=READ_ONLY)
    async def style_search(
        query: Annotated[str, Field(description="What to find, in plain words.")],
        kit: Annotated[str | None, Field(description="Only this kit; default all kits.")] = None,
        kinds: Annotated[
            list[StyleKind], Field(description="Only these kinds of material.", max_length=MAX_LABELS)
        ] = [],  # noqa: B006
        entities: Annotated[
            list[str], Field(description="Only material about any of these entities.", max_length=MAX_LABELS)
        ] = [],  # noqa: B006
        k: Annotated[int, Field(ge=1, le=MAX_K, description=f"How many passages, 1-{MAX_K}.")] = 5,
    ) -> SearchResult:
        """Semantic search over the studio's own style material, with filters."""
        return await service.search(query, kit, kinds, entities, k)

    @server.tool(annotations=READ_ONLY)
    async def style_kits() -> KitList:
        """Every kit with its embedder, chunk count and sources."""
        return await service.kits()

    @server.tool(annotations=REPLACES)
    async def style_remove(
        kit: Annotated[str, Field(description="The kit to remove from, e.g. 'lumen-moss'.")],
        source: Annotated[str | None, Field(description="Remove only this source; default the whole kit.")] = None,
    ) -> RemoveResult:
        """Remove one source from a kit, or the whole kit."""
        return await service.remove(kit, source)

    @server.resource("studio://kits", mime_type="application/json")
    async def kits_resource() -> str:
        """Every kit, as JSON."""
        return (await service.kits()).model_dump_json(indent=2)

    @server.resource("studio://kits/{kit}", mime_type="application/json")
    async def kit_resource(kit: str) -> str:
        """One kit's embedder and sources, as JSON."""
        try:
            return (await service.kit(kit)).model_dump_json(indent=2)
        except StudioError as exc:
            raise ResourceNotFoundError(str(exc)) from None
