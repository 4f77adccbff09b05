"""The consent family: performers, their likeness and voice consent, and the guard. Its service is
handed to generation (which refuses before spending) and continuity (which compares faces in takes
with performers' references) as `consent`."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Annotated, Any

import anyio
from mcp.server import MCPServer
from pydantic import Field

from core import BackgroundTask
from core.annotations import APPENDS, READ_ONLY
from core.context import StudioContext
from core.state import Migration
from tools.consent.models import ConsentReport, Performer
from tools.consent.schema import MIGRATIONS
from tools.consent.service import ConsentService
from tools.production import ProductionService

Scope = Annotated[
    list[str], Field(description="Production ids the consent covers; ['*'] = every production. Required to grant.")
]
Expires = Annotated[str | None, Field(description="Last day it holds, 'YYYY-MM-DD' (or an ISO date-time).")]
Document = Annotated[
    str | None, Field(description="Where the signed consent is filed, e.g. 'release form RF-0192'. Required to grant.")
]
RecordedBy = Annotated[str | None, Field(description="Who records it, for the history.")]


class ConsentFamily:
    name = "consent"
    migrations: Sequence[Migration] = MIGRATIONS
    background: Sequence[BackgroundTask] = ()

    def __init__(self, context: StudioContext, *, productions: ProductionService) -> None:
        self.consent = ConsentService(context, productions=productions)

    def register(self, server: MCPServer[Any]) -> None:
        register_tools(server, self.consent)


def register_tools(server: MCPServer[Any], consent: ConsentService) -> None:
    async def run(fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))

    @server.tool(annotations=APPENDS)
    async def performer_register(
        name: Annotated[str, Field(description="The performer's name as credited, e.g. 'Ada Obi'.")],
        aliases: Annotated[list[str], Field(description="Other names prompts may use, e.g. a stage name.")] = [],  # noqa: B006
        references: Annotated[
            list[str], Field(description="Asset ids of reference images of the performer's face.")
        ] = [],  # noqa: B006
        likeness: Annotated[bool, Field(description="Grant consent to use their likeness now.")] = False,
        voice: Annotated[bool, Field(description="Grant consent to use their voice now.")] = False,
        scope: Scope = [],  # noqa: B006
        expires: Expires = None,
        document: Document = None,
        recorded_by: RecordedBy = None,
    ) -> Performer:
        """Register a performer, optionally with their first consent (documented, scoped, maybe expiring).
        Generation refuses any request that names them, a character they play, or their reference images
        until a consent covering it is recorded."""
        return await run(
            consent.register,
            name,
            aliases,
            references,
            likeness=likeness,
            voice=voice,
            scope=scope,
            expires=expires,
            document=document,
            recorded_by=recorded_by,
        )

    @server.tool(annotations=APPENDS)
    async def performer_consent(
        performer: Annotated[str, Field(description="Performer id 'pf_...', name or alias.")],
        likeness: Annotated[bool, Field(description="Consent covers their face and body.")] = False,
        voice: Annotated[bool, Field(description="Consent covers their voice (generated audio).")] = False,
        scope: Scope = [],  # noqa: B006
        expires: Expires = None,
        document: Document = None,
        recorded_by: RecordedBy = None,
        withdraw: Annotated[bool, Field(description="Withdraw consent (from now on nothing is covered).")] = False,
    ) -> Performer:
        """Record, amend or withdraw a performer's consent. Records are append-only: the latest one holds,
        and the history keeps who recorded what and when."""
        return await run(
            consent.consent,
            performer,
            likeness=likeness,
            voice=voice,
            scope=scope,
            expires=expires,
            document=document,
            recorded_by=recorded_by,
            withdraw=withdraw,
        )

    @server.tool(annotations=APPENDS)
    async def performer_cast(
        performer: Annotated[str, Field(description="Performer id 'pf_...', name or alias.")],
        production: Annotated[str, Field(description="Production id (or name).")],
        character: Annotated[str, Field(description="The character they play, as the ledger and shots name it.")],
        references: Annotated[list[str], Field(description="More reference image asset ids.")] = [],  # noqa: B006
    ) -> Performer:
        """Link a performer to a character they play in a production: requests for the character then need
        the performer's consent."""
        return await run(consent.cast, performer, production, character, references)

    @server.tool(annotations=READ_ONLY)
    async def performer_get(
        performer: Annotated[str, Field(description="Performer id 'pf_...', name or alias.")],
    ) -> Performer:
        """A performer with their roles, references, current consent and its whole history."""
        return await run(consent.get, performer)

    @server.tool(annotations=READ_ONLY)
    async def consent_report(
        production: Annotated[str, Field(description="Production id (or name).")],
    ) -> ConsentReport:
        """Which performers appear in a production, under which consent, and every refused generation."""
        return await run(consent.report, production)
