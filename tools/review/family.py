"""The review family: the human gate between a generated take and an approved shot.

Its service's `feedback(pid, shot)` gives the latest verdict on a shot, for the next prompt and retake.

No `from __future__ import annotations` here: the SDK evaluates review_ask's annotations, and its
`Resolve(ask_reviewer)` names a closure that only exists inside `register_tools`."""

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import AcceptedElicitation, Context, Elicit, ElicitationResult, Resolve
from mcp.shared.exceptions import NoBackChannelError
from mcp.types import ElicitRequest, ElicitRequestURLParams, ElicitResult, InputRequiredResult
from pydantic import BaseModel, Field

from core import BackgroundTask, StudioError
from core.annotations import APPENDS, READ_ONLY, RECORDS
from core.context import StudioContext
from core.state import Migration
from tools.continuity import FindingStore, LedgerService
from tools.production import ProductionService
from tools.review.models import Review, ReviewQueue
from tools.review.schema import MIGRATIONS
from tools.review.service import ReviewService
from tools.style import StyleService


class ReviewFamily:
    name = "review"
    migrations: Sequence[Migration] = MIGRATIONS

    def __init__(
        self,
        context: StudioContext,
        *,
        productions: ProductionService,
        ledger: LedgerService,
        kits: StyleService,
        findings: FindingStore,
    ) -> None:
        self.reviews = ReviewService(context, productions=productions, ledger=ledger, kits=kits, findings=findings)
        s = context.settings
        self.page_url = (s.review_url or f"http://{s.http_host}:{s.http_port}/review").rstrip("/")

    @property
    def background(self) -> Sequence[BackgroundTask]:
        return (self.reviews.keep_outbox_flushed,)

    def register(self, server: MCPServer[Any]) -> None:
        register_tools(server, self.reviews, self.page_url)


OPEN_PAGE = "open_review_page"  # the key of review_open's URL elicitation in an InputRequiredResult


class ReviewLink(BaseModel):
    review: str
    asset: str
    url: str = Field(description="The review page of this take (STUDIO_REVIEW_URL sets where the page lives).")
    opened: Literal["accept", "decline", "cancel"] | None = Field(
        description="The human's answer to opening it in the client (URL elicitation); None: the client cannot."
    )
    message: str


class AskedDecision(BaseModel):
    """What the client's form asks the human (flat primitives, as elicitation requires)."""

    decision: Literal["approve", "reject", "revise"] = Field(description="approve, reject or revise this take.")
    notes: str = Field("", description="What is wrong and what the next take must change (needed to reject/revise).")


def register_tools(server: MCPServer[Any], reviews: ReviewService, page_url: str) -> None:
    @server.tool(annotations=RECORDS)
    async def review_submit(
        asset: Annotated[str, Field(description="Asset id 'a_...' (from video_job, image_generate or asset_get).")],
        note: Annotated[str | None, Field(description="What the reviewer should look at.")] = None,
    ) -> Review:
        """Put a generated take before a human: its provenance (prompt, references, brief version, job, cost)
        and its open continuity findings are attached. Submitting the same asset again returns its review."""
        return await reviews.submit(asset, note)

    @server.tool(annotations=READ_ONLY)
    async def review_queue(
        production: Annotated[str, Field(description="Production id (or name).")],
        status: Annotated[
            str | None, Field(description="in_review, approved, rejected or revise; none = every review.")
        ] = None,
    ) -> ReviewQueue:
        """The production's reviews, oldest submission first, with counts per status."""
        return await reviews.queue(production, status)

    @server.tool(annotations=READ_ONLY)
    async def review_get(
        review: Annotated[str, Field(description="Review id 'r_...' or the id of the asset in review.")],
    ) -> Review:
        """One review with its whole history: every decision, superseded ones included, and what each changed."""
        return await reviews.get(review)

    @server.tool(annotations=APPENDS)
    async def review_decide(
        asset: Annotated[str, Field(description="Asset id 'a_...' of a take in review.")],
        decision: Annotated[str, Field(description="approve, reject or revise.")],
        notes: Annotated[
            str, Field(description="Why; required to reject or revise: it reaches the kit and the next prompt.")
        ],
        reviewer: Annotated[str | None, Field(description="Who decides, e.g. 'Dana (director)'.")] = None,
        production: Annotated[
            str | None, Field(description="Optional check: refuse if the asset belongs to another production.")
        ] = None,
        fact_entity: Annotated[
            str | None, Field(description="A continuity fact the reviewer states: its entity, e.g. 'Mara'.")
        ] = None,
        fact_kind: Annotated[str | None, Field(description="Its ledger kind, e.g. 'character' or 'wardrobe'.")] = None,
        fact_attributes: Annotated[
            dict[str, str] | None, Field(description="Its attributes, e.g. {'coat': 'red wool'}.")
        ] = None,
        fact_from_scene: Annotated[str | None, Field(description="The fact holds from this scene on.")] = None,
        must: Annotated[list[str], Field(description="Constraints to add to the brief (an amendment).")] = [],  # noqa: B006
        must_not: Annotated[list[str], Field(description="Things to forbid in the brief (an amendment).")] = [],  # noqa: B006
    ) -> Review:
        """Decide on a take. Decisions are append-only: a later one supersedes. In the same transaction:
        approve makes it the shot's approved take; reject/revise record the notes. Either way the decision
        enters the kit (approved_shot / rejected_shot material), and explicit fact_* parameters add a ledger
        fact and must/must_not a brief amendment (never inferred from the notes)."""
        return await reviews.decide(
            asset,
            decision,
            notes,
            reviewer,
            production=production,
            fact_entity=fact_entity,
            fact_kind=fact_kind,
            fact_attributes=fact_attributes,
            fact_from_scene=fact_from_scene,
            must=must,
            must_not=must_not,
        )

    async def ask_reviewer(asset: str, ctx: Context) -> Elicit[AskedDecision]:
        """The question review_ask puts to the human, through the client (the SDK carries it on any protocol)."""
        caps = ctx.client_capabilities
        if caps is None or caps.elicitation is None:
            raise StudioError(
                "This client cannot answer questions (no elicitation support): decide with review_decide "
                "or on the review page."
            )
        review = await reviews.get(asset)
        message = f"Review the take {review.asset} of shot {review.shot or '(free prompt)'}"
        if review.findings:
            message += f" ({len(review.findings)} open continuity findings)"
        return Elicit(message + ": approve, reject or revise?", AskedDecision)

    @server.tool(annotations=APPENDS)
    async def review_ask(
        asset: Annotated[str, Field(description="Asset id 'a_...' of a take in review.")],
        answer: Annotated[ElicitationResult[AskedDecision], Resolve(ask_reviewer)],
        reviewer: Annotated[str | None, Field(description="Who is being asked, for the record.")] = None,
    ) -> Review:
        """Ask the human in the client (form elicitation) to approve, reject or revise a take, and record the
        answer as review_decide would. Clients without elicitation: use review_decide or the review page."""
        if not isinstance(answer, AcceptedElicitation):
            raise StudioError(f"The reviewer did not decide ({answer.action}): nothing was recorded.")
        return await reviews.decide(asset, answer.data.decision, answer.data.notes, reviewer)

    @server.tool(annotations=READ_ONLY)
    async def review_open(
        asset: Annotated[str, Field(description="Asset id 'a_...' of a take in review.")],
        ctx: Context,
    ) -> ReviewLink | InputRequiredResult:
        """The review page of a take; where the client supports URL elicitation, ask it to open the page
        for the human (the decision is then made on the page). Otherwise hand the URL to the reviewer."""
        review = await reviews.get(asset)
        url = f"{page_url}/{review.production}/{review.asset}"

        def link(opened: Literal["accept", "decline", "cancel"] | None) -> ReviewLink:
            said = {
                None: "This client cannot open links for the human: give them the URL.",
                "accept": "The human opened the review page.",
                "decline": "The human declined to open it.",
                "cancel": "The human dismissed it.",
            }
            return ReviewLink(review=review.id, asset=review.asset, url=url, opened=opened, message=said[opened])

        caps = ctx.client_capabilities
        if caps is None or caps.elicitation is None or caps.elicitation.url is None:
            return link(None)
        answered = (ctx.input_responses or {}).get(OPEN_PAGE)
        if isinstance(answered, ElicitResult):
            return link(answered.action)
        ask = ElicitRequestURLParams(
            message=f"Review the take {review.asset} of shot {review.shot or '(free prompt)'} on the review page.",
            url=url,
            elicitation_id=review.id,
        )
        try:  # a protocol with a back-channel asks at once
            return link((await ctx.elicit_url(ask.message, url, elicitation_id=review.id)).action)
        except NoBackChannelError:  # 2026-07-28: the client asks, then retries the call with the answer
            return InputRequiredResult(input_requests={OPEN_PAGE: ElicitRequest(params=ask)})
