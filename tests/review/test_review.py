"""Review gates over a real MCP client: takes generated against the fake Vertex server are submitted,
decided, and each decision lands in state, the ledger, the brief, the kit and the next prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa
from mcp import Client, types

from tests.helpers import build_app, call, error_text, make_production

SHOTS = [
    {
        "number": 1,
        "description": "Mara steps onto the quay in her coat, lantern in hand.",
        "characters": ["Mara"],
        "duration_s": 4,
    },
    {"number": 2, "description": "Close on the lantern swinging in the wind.", "duration_s": 4},
]
REJECTION = "The coat reads orange under the sodium lights; it must stay deep red wool in every take."


pytestmark = pytest.mark.usefixtures("vertex_fake_env")


async def take(client: Client, pid: str, shot: str) -> str:
    """Generate a take of a shot against the fake Vertex server; its asset id."""
    job = await call(client, "video_generate", production=pid, shot=shot)
    with anyio.fail_after(30):
        while job["status"] not in ("done", "failed", "cancelled", "unknown_submission"):
            job = await call(client, "video_job", job=job["id"], wait_s=2)
    assert job["status"] == "done", job
    return str(job["asset"]["id"] if isinstance(job.get("asset"), dict) else job["asset"])


async def setup(client: Client, name: str) -> str:
    pid = await make_production(client, name, shots={"1": SHOTS})
    await call(client, "continuity_set", production=pid, entity="Mara", kind="character", attributes={"coat": "red"})
    return pid


async def shot_of(client: Client, pid: str, ref: str) -> dict[str, Any]:
    production = await call(client, "production_get", production=pid)
    scene, number = ref.split("/")
    return next(s for s in production["scenes"][scene] if s["number"] == int(number))


async def test_a_rejection_feeds_the_ledger_the_brief_the_kit_and_the_next_take(tmp_path: Path) -> None:
    app = build_app(tmp_path / "data")
    async with Client(app.server) as client:
        pid = await setup(client, "Review Loop")
        first = await take(client, pid, "1/1")

        submitted = await call(client, "review_submit", asset=first, note="check the coat")
        assert submitted["status"] == "in_review" and submitted["shot"] == "1/1"
        assert "Mara" in submitted["provenance"]["prompt"] and submitted["provenance"]["job"]
        assert (await shot_of(client, pid, "1/1"))["status"] == "in_review"
        again = await call(client, "review_submit", asset=first)
        assert again["id"] == submitted["id"] and again["already_submitted"] is True

        decided = await call(
            client,
            "review_decide",
            asset=first,
            decision="reject",
            notes=REJECTION,
            reviewer="Dana (director)",
            fact_entity="Mara",
            fact_kind="character",
            fact_attributes={"coat": "deep red wool"},
            must_not=["orange coats"],
        )
        assert decided["status"] == "rejected"
        record = decided["decisions"][-1]
        assert record["reviewer"] == "Dana (director)" and record["ledger"]["fact_ids"]
        assert record["brief"]["brief_version"] == 2
        assert record["kit_material"]["status"] == "written"

        shot = await shot_of(client, pid, "1/1")
        assert shot["status"] == "rejected" and shot["take"] == first
        production = await call(client, "production_get", production=pid)
        assert "orange coats" in production["brief"]["must_not"]
        assert submitted["id"] in production["brief"]["note"]
        mara = await call(client, "continuity_get", production=pid, entity="Mara", history=True)
        assert mara["entities"][0]["attributes"]["coat"] == "deep red wool"
        assert submitted["id"] in mara["history"][0]["facts"][-1]["note"]

        found = await call(
            client,
            "style_search",
            query="coat looks orange under sodium light",
            kit=production["kit"],
            kinds=["rejected_shot"],
        )
        assert any("deep red wool" in hit["text"] and "Reviewer notes" in hit["text"] for hit in found["hits"])

        prompt = await call(client, "prompt_build", production=pid, shot="1/1")
        assert "deep red wool" in prompt["prompt"] and "orange coats" in prompt["negative_prompt"]
        review_lines = [i for i in prompt["injections"] if i["kind"] == "review"]
        assert review_lines and submitted["id"] in review_lines[0]["sources"]
        assert REJECTION in prompt["prompt"]

        second = await take(client, pid, "1/1")
        assert second != first
        asset = await call(client, "asset_get", asset=second)
        assert asset["parent"] == first

        await call(client, "review_submit", asset=second)
        approved = await call(client, "review_decide", asset=second, decision="approve", notes="")
        assert approved["status"] == "approved"
        assert approved["decisions"][-1]["kit_material"]["kind"] == "approved_shot"
        shot = await shot_of(client, pid, "1/1")
        assert shot["status"] == "approved" and shot["take"] == second

        queue = await call(client, "review_queue", production=pid)
        assert [r["asset"] for r in queue["reviews"]] == [first, second]
        assert queue["counts"]["rejected"] == 1 and queue["counts"]["approved"] == 1
        rejected_only = await call(client, "review_queue", production=pid, status="rejected")
        assert [r["asset"] for r in rejected_only["reviews"]] == [first]


async def test_a_later_decision_supersedes_and_the_history_keeps_both(tmp_path: Path) -> None:
    app = build_app(tmp_path / "data")
    async with Client(app.server) as client:
        pid = await setup(client, "Supersede")
        asset = await take(client, pid, "1/1")
        submitted: list[dict[str, Any]] = []

        async def submit() -> None:
            submitted.append(await call(client, "review_submit", asset=asset))

        async with anyio.create_task_group() as tg:  # the same take submitted twice at once: one review
            for _ in range(3):
                tg.start_soon(submit)
        assert len({r["id"] for r in submitted}) == 1
        assert sorted(bool(r.get("already_submitted")) for r in submitted) == [False, True, True]
        await call(client, "review_decide", asset=asset, decision="revise", notes="Hold the end frame a beat longer.")
        final = await call(client, "review_decide", asset=asset, decision="approve", notes="On reflection it works.")
        assert [d["decision"] for d in final["decisions"]] == ["revise", "approve"]
        assert [d["superseded"] for d in final["decisions"]] == [True, False]
        assert final["status"] == "approved"
        assert (await shot_of(client, pid, "1/1"))["status"] == "approved"
        by_id = await call(client, "review_get", review=final["id"])
        assert by_id["decisions"] == final["decisions"]

        # The database itself refuses to rewrite a decision or a submission (on SQLite and PostgreSQL alike).
        for sql, needle in (
            ("UPDATE review_decisions SET decision = 'reject'", "decisions are append-only"),
            ("DELETE FROM review_decisions", "decisions are append-only"),
            ("UPDATE reviews SET note = 'rewritten'", "a review submission is immutable"),
            ("DELETE FROM reviews", "a review submission cannot be deleted"),
        ):

            def run(sql: str = sql) -> None:
                with app.context.state.transaction() as tx:
                    tx.execute(sa.text(sql))

            with pytest.raises(sa.exc.IntegrityError, match=needle):
                await anyio.to_thread.run_sync(run)
        again = await call(client, "review_get", review=final["id"])
        assert again["decisions"] == final["decisions"] and again["status"] == "approved"


async def test_bad_decisions_are_refused_and_change_nothing(tmp_path: Path) -> None:
    app = build_app(tmp_path / "data")
    async with Client(app.server) as client:
        pid = await setup(client, "Bad Input")
        other = await make_production(client, "Other Show", shots={"1": SHOTS})
        asset = await take(client, pid, "1/1")

        async def refused(args: dict[str, Any], *needles: str) -> None:
            result = await client.call_tool("review_decide", args)
            text = error_text(result)
            for needle in needles:
                assert needle in text, text

        await refused({"asset": asset, "decision": "reject", "notes": "no"}, "not in review", "review_submit")
        await call(client, "review_submit", asset=asset)
        before = await call(client, "production_get", production=pid)
        await refused({"asset": asset, "decision": "maybe", "notes": "x"}, "approve, reject, revise")
        await refused({"asset": asset, "decision": "reject", "notes": "  "}, "needs notes")
        await refused({"asset": asset, "decision": "approve", "notes": "", "production": other}, other, pid)
        await refused({"asset": asset, "decision": "reject", "notes": "x", "fact_entity": "Mara"}, "fact_kind")
        # Mara is a character: a fact that calls her a prop fails inside the decision's transaction,
        # so the brief amendment asked for in the same call must not land either.
        await refused(
            {
                "asset": asset,
                "decision": "reject",
                "notes": "wrong",
                "fact_entity": "Mara",
                "fact_kind": "prop",
                "fact_attributes": {"coat": "blue"},
                "must_not": ["blue coats"],
            },
            "character",
        )
        await refused({"asset": "a_00000000000000000000", "decision": "approve", "notes": ""}, "a_00000000000000000000")

        after = await call(client, "production_get", production=pid)
        assert after["brief"]["version"] == before["brief"]["version"]
        assert (await shot_of(client, pid, "1/1"))["status"] == "in_review"
        review = await call(client, "review_get", review=asset)
        assert review["decisions"] == [] and review["status"] == "in_review"
        assert error_text(await client.call_tool("review_queue", {"production": pid, "status": "done"}))
        assert error_text(await client.call_tool("review_get", {"review": "r_nope"}))


async def test_review_ask_records_what_the_human_answers_in_the_client(tmp_path: Path) -> None:
    asked: list[str] = []

    async def human(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"decision": "revise", "notes": "Hold the last beat."})

    app = build_app(tmp_path / "data")
    async with Client(app.server, elicitation_callback=human) as client:
        pid = await setup(client, "Ask Human")
        asset = await take(client, pid, "1/1")
        await call(client, "review_submit", asset=asset)
        review = await call(client, "review_ask", asset=asset, reviewer="Dana")
        assert asked and asset in asked[0]
        assert review["status"] == "revise" and review["decisions"][-1]["notes"] == "Hold the last beat."
        assert (await shot_of(client, pid, "1/1"))["status"] == "revise"

    async with Client(app.server) as plain:  # a client without elicitation gets told what to use instead
        text = error_text(await plain.call_tool("review_ask", {"asset": asset}))
        assert "review_decide" in text


async def test_review_open_asks_the_client_to_open_the_take_on_the_review_page(tmp_path: Path) -> None:
    opened: list[tuple[str, str | None]] = []

    async def human(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        opened.append((params.mode, getattr(params, "url", None)))
        return types.ElicitResult(action="accept")

    app = build_app(tmp_path / "data")
    async with Client(app.server, elicitation_callback=human) as client:
        pid = await setup(client, "Open Page")
        asset = await take(client, pid, "1/1")
        await call(client, "review_submit", asset=asset)
        link = await call(client, "review_open", asset=asset)
        assert link["url"] == f"http://127.0.0.1:8765/review/{pid}/{asset}" and link["opened"] == "accept"
        assert opened == [("url", link["url"])]

    async with Client(app.server) as plain:  # no elicitation: the URL to hand on
        link = await call(plain, "review_open", asset=asset)
        assert link["opened"] is None and link["url"].endswith(f"/review/{pid}/{asset}")
        assert "review_submit" in error_text(await plain.call_tool("review_open", {"asset": "a_not_in_review"}))
