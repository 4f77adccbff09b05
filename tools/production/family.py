"""The production family: its service (handed to other families as `productions`) and its MCP
surface, five tools and the production and asset resources."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import CallToolResult, TextContent
from pydantic import Field

from core import BackgroundTask, NotFound, StudioError
from core.annotations import APPENDS, READ_ONLY, REPLACES
from core.context import StudioContext
from core.state import Migration
from tools.production.assets import ASSET_URI, asset_link
from tools.production.models import Asset, PipelineReport, Production, SceneSaved, ShotSpec
from tools.production.schema import MIGRATIONS
from tools.production.service import ProductionService
from tools.style import StyleService

log = logging.getLogger(__name__)
T = TypeVar("T")

# The shot record inlined (no $ref/$defs: some clients reject them); validated by ShotSpec inside.
SHOT_ITEMS_SCHEMA: dict[str, Any] = {
    k: v for k, v in ShotSpec.model_json_schema().items() if k not in {"title", "description"}
}
assert "$defs" not in SHOT_ITEMS_SCHEMA, "ShotSpec must stay flat to be inlined in the shots_save schema"


class ProductionFamily:
    name = "production"
    migrations: Sequence[Migration] = MIGRATIONS
    background: Sequence[BackgroundTask] = ()

    def __init__(self, context: StudioContext, *, kits: StyleService) -> None:
        self.productions = ProductionService(context)
        self._kits = kits

    def register(self, server: MCPServer[Any]) -> None:
        register_tools(server, self.productions, self._kits)


def register_tools(server: MCPServer[Any], service: ProductionService, kits: StyleService) -> None:

    async def logged(tool: str, production: str | None, inputs: dict[str, Any], fn: Callable[[], T]) -> T:
        """Run a change in a worker thread; a refused change is still logged on its production."""
        try:
            return await anyio.to_thread.run_sync(fn)
        except StudioError as exc:
            await anyio.to_thread.run_sync(partial(service.record_failure, production, tool, inputs, exc))
            raise

    @server.tool(annotations=APPENDS)
    async def production_create(
        name: Annotated[
            str,
            Field(description="Production name; its id is the slug, e.g. 'Lantern Ferry' -> 'lantern-ferry'."),
        ],
        kit: Annotated[
            str, Field(description="The style kit it draws on (style_kits lists them); may be filled later.")
        ],
        logline: Annotated[str, Field(description="One or two sentences: what the film is.")],
        tone: Annotated[str, Field(description="The feel, e.g. 'quiet, warm, melancholic'.")],
        must: Annotated[list[str], Field(description="Constraints every shot must honour.")] = [],  # noqa: B006
        must_not: Annotated[list[str], Field(description="Things no shot may contain (go to negative prompts).")] = [],  # noqa: B006
        budget_usd: Annotated[
            float | None, Field(description="Spend limit for paid generation; none = no limit.")
        ] = None,
    ) -> Production:
        """Start a production with its brief (version 1). Briefs are never edited: amend with brief_amend."""
        warnings = await kit_warnings(kits, kit)
        inputs = {
            "name": name,
            "kit": kit,
            "logline": logline,
            "tone": tone,
            "must": must,
            "must_not": must_not,
            "budget_usd": budget_usd,
        }
        return await logged(
            "production_create",
            name,
            inputs,
            lambda: service.create(name, kit, logline, tone, must, must_not, budget_usd, warnings=warnings),
        )

    @server.tool(annotations=READ_ONLY)
    async def production_get(
        production: Annotated[str, Field(description="Production id (or name).")],
    ) -> Production:
        """A production: latest brief and every earlier version, shots by scene, spend, recent events and
        its pipeline figures."""

        def read() -> Production:
            found = service.get(production)
            return found.model_copy(update={"pipeline": service.pipeline(found.id).overall})

        return await anyio.to_thread.run_sync(read)

    @server.tool(annotations=READ_ONLY)
    async def pipeline_report(
        production: Annotated[str, Field(description="Production id (or name).")],
    ) -> PipelineReport:
        """How the production's pipeline performs, per scene and overall, from its event log: preflight
        pass rate, generation success, media-check pass rate, review approval, retakes per approved
        shot, spend per approved second and the end-to-end yield, each with its counts."""
        return await anyio.to_thread.run_sync(service.pipeline, production)

    @server.tool(annotations=APPENDS)
    async def brief_amend(
        production: Annotated[str, Field(description="Production id (or name).")],
        note: Annotated[str, Field(description="What changed and why (required).")],
        must: Annotated[list[str], Field(description="Constraints to add to must.")] = [],  # noqa: B006
        must_not: Annotated[list[str], Field(description="Constraints to add to must_not.")] = [],  # noqa: B006
        budget_usd: Annotated[float | None, Field(description="A new budget; omit to keep the current one.")] = None,
    ) -> Production:
        """Append a brief version (the latest plus these additions); earlier versions stay as they were."""
        inputs = {
            "production": production,
            "note": note,
            "must": must,
            "must_not": must_not,
            "budget_usd": budget_usd,
        }
        return await logged(
            "brief_amend",
            production,
            inputs,
            lambda: service.amend(production, note, must, must_not, budget_usd),
        )

    @server.tool(annotations=REPLACES)
    async def shots_save(
        production: Annotated[str, Field(description="Production id (or name).")],
        scene: Annotated[str, Field(description="Scene name, e.g. '3' or '12a'.")],
        shots: Annotated[
            list[dict[str, Any]],
            Field(
                description="The scene's complete shot list; replaces any earlier list for the scene. "
                "Each needs "
                "number (unique, from 1) and description; duration_s is 0-60 s (default 8).",
                json_schema_extra={"items": SHOT_ITEMS_SCHEMA},
            ),
        ] = [],  # noqa: B006
    ) -> SceneSaved:
        """Save your own shot list for a scene (no Gemini needed). Changed shots go back to 'planned'."""
        inputs = {"production": production, "scene": scene, "shots": shots}
        return await logged(
            "shots_save",
            production,
            inputs,
            lambda: service.save_scene(production, scene, shots, "agent", inputs=inputs),
        )

    @server.tool(annotations=READ_ONLY)
    async def asset_get(
        asset: Annotated[str, Field(description="Asset id ('a_' + 20 hex digits) or its studio://assets/ URI.")],
    ) -> Annotated[CallToolResult, Asset]:
        """An asset's record and provenance, with a resource link that returns the file."""
        found = await anyio.to_thread.run_sync(lambda: service.asset(asset))
        return CallToolResult(
            content=[TextContent(type="text", text=found.model_dump_json(indent=2)), asset_link(found)],
            structured_content=found.model_dump(mode="json"),
        )

    @server.resource("studio://productions/{production}", mime_type="application/json")
    async def production_resource(production: str) -> str:
        """A production (brief history, shots, spend, recent events), as JSON."""
        try:
            found = await anyio.to_thread.run_sync(lambda: service.get(production))
        except NotFound as exc:
            raise ResourceNotFoundError(str(exc)) from None
        return found.model_dump_json(indent=2)

    # The template's mime type is fixed, so reads say octet-stream; asset_get and the resource
    # links carry each asset's real type.
    @server.resource(ASSET_URI, mime_type="application/octet-stream")
    async def asset_resource(asset: str) -> bytes:
        """An asset's file (video or image bytes)."""
        try:
            path = await anyio.to_thread.run_sync(lambda: service.asset_path(asset))
            return await anyio.to_thread.run_sync(path.read_bytes)
        except NotFound as exc:
            raise ResourceNotFoundError(str(exc)) from None
        except OSError as exc:
            raise ResourceError(f"Asset {asset}'s file could not be read: {exc.strerror}.") from None


async def kit_warnings(kits: StyleService, kit: str) -> list[str]:
    """A note when the kit has no material yet (allowed: it can be ingested later); never fails."""
    try:
        known = await kits.has_kit(kit)
    except StudioError:
        return []
    except Exception as exc:  # retrieval being down must not block creating a production
        log.warning("Could not list style kits: %s", exc)
        return [f"Could not check whether kit {kit!r} exists ({type(exc).__name__})."]
    if known:
        return []
    return [f"Kit {kit!r} has no style material yet: add some with style_ingest(kit={kit!r}, paths=[...])."]
