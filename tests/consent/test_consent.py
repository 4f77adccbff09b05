"""Performer consent over a real MCP client: recording, amending and withdrawing consent, and the
guard refusing paid generation before the fake API receives anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa
from mcp import Client

from tests.fake_gemini import FakeGemini
from tests.helpers import build_app, call, error_text, make_production

SHOTS = [
    {"number": 1, "description": "Mara steps onto the quay.", "characters": ["Mara"], "duration_s": 4},
    {"number": 2, "description": "The empty quay at dawn, gulls overhead.", "duration_s": 4},
]


pytestmark = pytest.mark.usefixtures("vertex_fake_env")


async def refused(client: Client, tool: str, args: dict[str, Any], *needles: str) -> str:
    text = error_text(await client.call_tool(tool, args))
    for needle in needles:
        assert needle in text, text
    return text


async def test_consent_is_recorded_amended_and_withdrawn_with_its_history(tmp_path: Path) -> None:
    app = build_app(tmp_path / "data")
    async with Client(app.server) as client:
        pid = await make_production(client, "Consent Show", shots={"1": SHOTS})
        ada = await call(client, "performer_register", name="Ada Obi", aliases=["A. Obi"])
        assert ada["consent"] is None and ada["aliases"] == ["A. Obi"]
        cast = await call(client, "performer_cast", performer="A. Obi", production=pid, character="Mara")
        assert cast["roles"] == [{"production": pid, "character": "Mara"}]

        granted = await call(
            client,
            "performer_consent",
            performer=ada["id"],
            likeness=True,
            scope=[pid],
            expires="2099-12-31",
            document="release form RF-0192",
            recorded_by="casting",
        )
        assert granted["consent"]["likeness"] and not granted["consent"]["voice"]
        withdrawn = await call(client, "performer_consent", performer="Ada Obi", withdraw=True, recorded_by="agent")
        assert [r["action"] for r in withdrawn["history"]] == ["grant", "withdraw"]
        assert withdrawn["consent"]["action"] == "withdraw"

        report = await call(client, "consent_report", production=pid)
        assert report["performers"][0]["characters"] == ["Mara"] and not report["performers"][0]["likeness"]

        await refused(client, "performer_consent", {"performer": "Nobody", "likeness": True}, "No performer", "Ada Obi")
        await refused(
            client, "performer_consent", {"performer": "Ada Obi", "likeness": True, "scope": [pid]}, "document"
        )
        await refused(
            client,
            "performer_consent",
            {"performer": "Ada Obi", "likeness": True, "scope": [pid], "document": "x", "expires": "2001-01-01"},
            "in the past",
        )
        await refused(client, "performer_register", {"name": "ada obi"}, "already belongs")
        after = await call(client, "performer_get", performer="Ada Obi")
        assert len(after["history"]) == 2

        # The database itself refuses to rewrite the history (on SQLite and PostgreSQL alike).
        for sql in ("DELETE FROM consents", "UPDATE consents SET likeness = 1"):

            def run(sql: str = sql) -> None:
                with app.context.state.transaction() as tx:
                    tx.execute(sa.text(sql))

            with pytest.raises(sa.exc.IntegrityError, match="append-only"):
                await anyio.to_thread.run_sync(run)
        assert len((await call(client, "performer_get", performer="Ada Obi"))["history"]) == 2


async def test_generation_is_refused_before_any_request_until_consent_covers_it(
    tmp_path: Path, fake: FakeGemini
) -> None:
    app = build_app(tmp_path / "data")
    async with Client(app.server) as client:
        pid = await make_production(client, "Guarded", shots={"1": SHOTS})
        performer = await call(client, "performer_register", name="Ada Obi")
        await call(client, "performer_cast", performer="Ada Obi", production=pid, character="Mara")
        spend_before = (await call(client, "production_get", production=pid))["spend"]

        text = await refused(
            client, "video_generate", {"production": pid, "shot": "1/1"}, "Ada Obi", "performer_consent", "Mara"
        )
        assert "nothing was charged" in text
        await refused(client, "image_generate", {"production": pid, "prompt": "A portrait of Ada Obi"}, "Ada Obi")
        assert fake.requests() == [], "the guard must refuse before anything reaches the API"
        assert (await call(client, "production_get", production=pid))["spend"] == spend_before

        # Likeness alone does not cover a take with generated audio.
        await call(
            client,
            "performer_consent",
            performer=performer["id"],
            likeness=True,
            scope=[pid],
            document="release form RF-0192",
        )
        await refused(client, "video_generate", {"production": pid, "shot": "1/1"}, "voice")
        job = await call(client, "video_generate", production=pid, shot="1/1", audio=False)
        with anyio.fail_after(30):
            while job["status"] not in ("done", "failed"):
                job = await call(client, "video_job", job=job["id"], wait_s=2)
        assert job["status"] == "done"
        # A shot without the character needs no consent at all.
        await call(client, "video_generate", production=pid, shot="1/2", dry_run=True)

        report = await call(client, "consent_report", production=pid)
        assert [r["tool"] for r in report["refusals"]] == ["video_generate", "image_generate", "video_generate"]
        # production_get shows the cast, the consent and every refusal in its event log.
        events = (await call(client, "production_get", production=pid))["events"]
        refused_events = [e for e in events if e["outcome"] == "refused: consent"]
        assert [e["tool"] for e in refused_events] == ["video_generate", "image_generate", "video_generate"]
        assert all(e["detail"]["name"] == "Ada Obi" for e in refused_events)
        assert any(e["tool"] == "performer_cast" and e["detail"]["character"] == "Mara" for e in events)
        assert any(e["tool"] == "performer_consent" and e["detail"]["covers_this_production"] for e in events)
