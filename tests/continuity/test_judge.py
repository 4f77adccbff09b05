"""The optional Gemini judgments of continuity (judge=true) over a real MCP client, against the fake Gemini.

A server process of this module's own has GEMINI_API_KEY and GOOGLE_GEMINI_BASE_URL pointing at the fake
(in a thread of this process); the fake records what the server sent and scripts answers and faults.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mcp import Client
from PIL import Image

from bench.synthetic_clips import make_clip
from tests.conftest import RunningServer, make_workdir, start_http_server, stop
from tests.fake_gemini import FakeGemini
from tests.helpers import call, error_text, make_production
from tools.continuity.judge import MAX_INLINE_BYTES
from tools.production import asset_id

MODEL = "gemini-judge-test"  # set through STUDIO_JUDGE_MODEL: the requests must go to it
FAST_RETRIES = {
    "STUDIO_GENAI_TIMEOUT_S": "3",
    "STUDIO_GENAI_MAX_RETRIES": "2",
    "STUDIO_GENAI_RETRY_INITIAL_DELAY_S": "0.01",
    "STUDIO_GENAI_RETRY_MAX_DELAY_S": "0.05",
    "STUDIO_GENAI_RETRY_JITTER_S": "0.01",
}
_names = itertools.count(1)

BLUE_SHOT = "Mara, in a blue jacket, lights the lantern at the rail."
PROMPT_JUDGMENT = {
    "findings": [
        # Repeats the rules' attribute_mismatch for Mara: left out.
        {
            "severity": "error",
            "rule": "attribute_mismatch",
            "entity": "mara",
            "expected": "red wool",
            "found": "blue",
            "evidence": "blue jacket",
            "suggestion": "red wool jacket",
            "explanation": "The jacket is red wool.",
        },
        {
            "severity": "warning",
            "rule": "other",
            "entity": "Mara",
            "expected": "the lantern is lit only from scene 4",
            "found": "lights the lantern",
            "evidence": "LIGHTS the lantern",
            "suggestion": "reaches for the lantern",
            "explanation": "The lantern is lit only from scene 4.",
        },
        {
            "severity": "warning",
            "rule": "screen_direction_flip",
            "entity": "3",
            "expected": "left-to-right",
            "found": "right-to-left",
            "evidence": "walks right to left",
            "suggestion": None,
            "explanation": "Shot 1 moves left to right.",
        },
    ]
}
CLIP_JUDGMENT = {
    "entities": [
        {
            "entity": "mara",
            "wardrobe": "inconsistent",
            "hair": "consistent",
            "face": "consistent",
            "props": "not_visible",
            "notes": "the jacket changes colour",
        }
    ],
    "issues": [
        {
            "severity": "error",
            "aspect": "wardrobe",
            "entity": "mara",
            "expected": "red wool jacket",
            "found": "the jacket turns another colour",
            "time_s": 1.8,
            "explanation": "The jacket changes at 1.8 s.",
        },
        {
            "severity": "warning",
            "aspect": "hair",
            "entity": "Mara",
            "expected": "short dark hair",
            "found": "longer hair",
            "time_s": 99.0,
            "explanation": "Hair looks longer.",
        },
    ],
}


@pytest.fixture(scope="module")
def judge_server(tmp_path_factory: pytest.TempPathFactory, fake: FakeGemini) -> Iterator[RunningServer]:
    workdir = make_workdir(tmp_path_factory.mktemp("judge"))
    (workdir / "clips").mkdir()
    server = start_http_server(
        workdir, GEMINI_API_KEY="test-key", GOOGLE_GEMINI_BASE_URL=fake.url, STUDIO_JUDGE_MODEL=MODEL, **FAST_RETRIES
    )
    yield server
    stop(server.proc)


@pytest.fixture(autouse=True)
def _clean(fake: FakeGemini) -> None:
    fake.reset()


async def setup_production(client: Client, prefix: str, second_shot: str = BLUE_SHOT) -> str:
    name = f"judge-{prefix}-{next(_names)}"
    shots = [
        {
            "number": 1,
            "description": "Mara coils rope on the deck, walking left to right.",
            "characters": ["Mara"],
            "duration_s": 4,
        },
        {"number": 2, "description": second_shot, "characters": ["Mara"], "duration_s": 4},
    ]
    pid = await make_production(
        client,
        name,
        logline="A deckhand's last night crossing.",
        tone="quiet, cold",
        must=["Mara's scar stays over her LEFT eyebrow"],
        must_not=["modern smartphones"],
        shots={"3": shots},
    )
    await call(
        client,
        "continuity_set",
        {
            "production": pid,
            "entity": "Mara",
            "kind": "character",
            "attributes": {"jacket": "red wool", "hair": "short, dark"},
        },
    )
    await call(
        client,
        "continuity_set",
        {
            "production": pid,
            "entity": "3",
            "kind": "scene",
            "attributes": {"time_of_day": "night", "weather": "light rain"},
        },
    )
    return str(pid)


def clip(server: RunningServer, kind: str, seed: int) -> str:
    """A synthetic clip of its own (an asset belongs to one production, and assets are named by content)."""
    path = server.workdir / "clips" / f"{kind}-{seed}.mp4"
    if not path.exists():
        make_clip(kind, path, seed=seed, duration_s=3.5)
    return f"clips/{path.name}"


def sent_text(request: dict[str, Any]) -> str:
    return "\n".join(p.get("text", "") for c in request["body"]["contents"] for p in c["parts"])


def mime(inline: dict[str, Any]) -> Any:
    # The SDK writes the part's MIME type in snake case; the API accepts both spellings.
    return inline.get("mimeType", inline.get("mime_type"))


def gemini_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["source"] == "gemini"]


# -- prompts -------------------------------------------------------------------------------------------


async def test_prompt_judgment_adds_gemini_findings_to_the_check_and_report(
    judge_server: RunningServer, fake: FakeGemini
) -> None:
    async with judge_server.client() as client:
        pid = await setup_production(client, "prompt")
        fake.script_json(MODEL, PROMPT_JUDGMENT)
        check = await call(client, "continuity_check_prompt", {"production": pid, "shot": "3/2", "judge": True})

        rules = [f for f in check["findings"] if f["source"] == "rules"]
        gemini = [f for f in check["findings"] if f["source"] == "gemini"]
        assert any(f["rule"] == "attribute_mismatch" and f["entity"] == "Mara" for f in rules)
        # The repeat of a rules finding (same rule + entity) is left out; the other two are kept.
        assert [(f["rule"], f["entity"]) for f in gemini] == [("other", "Mara"), ("screen_direction_flip", "3")]
        other, flip = gemini
        start = BLUE_SHOT.index("lights the lantern")
        assert other["evidence"] == {
            "field": "description",
            "text": "lights the lantern",
            "start": start,
            "end": start + len("lights the lantern"),
        }
        assert other["suggestion"] == "reaches for the lantern" and other["severity"] == "warning"
        assert flip["evidence"] is None and "not in the text" in flip["message"]
        assert check["recorded"] is True and check["errors"] + check["warnings"] == len(check["findings"])
        assert any("Gemini" in n and "2 finding(s)" in n for n in check["notes"])
        assert any("repeated a rules finding" in n for n in check["notes"])

        # The request carries the text, the ledger facts as of scene 3, the brief and the neighbouring shot.
        [request] = fake.requests_to(":generateContent")
        assert MODEL in request["path"]
        text = sent_text(request)
        assert BLUE_SHOT in text and "jacket: red wool" in text and "time_of_day: night" in text
        assert "Mara's scar stays over her LEFT eyebrow" in text and "modern smartphones" in text
        assert "Mara coils rope on the deck" in text and "attribute_mismatch" in text
        config = request["body"]["generationConfig"]
        assert config["responseMimeType"] == "application/json"
        assert "findings" in (config.get("responseSchema") or config.get("responseJsonSchema"))["properties"]

        report = await call(client, "continuity_report", {"production": pid})
        stored = gemini_findings(report)
        assert sorted((f["rule"], f["entity"], f["shot"], f["resolved"]) for f in stored) == [
            ("other", "Mara", "3/2", False),
            ("screen_direction_flip", "3", "3/2", False),
        ]
        assert any(f["source"] == "preflight" and f["rule"] == "attribute_mismatch" for f in report["findings"])

        # Judging again with the same answer keeps one open finding each, not two.
        fake.script_json(MODEL, PROMPT_JUDGMENT)
        await call(client, "continuity_check_prompt", {"production": pid, "shot": "3/2", "judge": True})
        again = gemini_findings(await call(client, "continuity_report", {"production": pid}))
        assert [f["id"] for f in again] == [f["id"] for f in stored]


async def test_judge_false_sends_nothing_and_leaves_gemini_findings_alone(
    judge_server: RunningServer, fake: FakeGemini
) -> None:
    async with judge_server.client() as client:
        pid = await setup_production(client, "off")
        fake.script_json(MODEL, PROMPT_JUDGMENT)
        await call(client, "continuity_check_prompt", {"production": pid, "shot": "3/2", "judge": True})
        fake.reset()

        check = await call(client, "continuity_check_prompt", {"production": pid, "shot": "3/2"})
        assert all(f["source"] == "rules" for f in check["findings"]) and check["findings"]
        assert any("judge=true" in n for n in check["notes"])
        media = await call(
            client, "continuity_check_media", {"production": pid, "path": clip(judge_server, "pan", 21), "shot": "3/1"}
        )
        assert media["judgment"] is None
        assert fake.requests_to(":generateContent") == []
        # A rules-only run does not resolve what Gemini found earlier.
        report = await call(client, "continuity_report", {"production": pid})
        assert len([f for f in gemini_findings(report) if not f["resolved"]]) == 2


async def test_a_raw_prompt_is_judged_without_storing(judge_server: RunningServer, fake: FakeGemini) -> None:
    async with judge_server.client() as client:
        pid = await setup_production(client, "raw")
        fake.script_json(
            MODEL,
            {
                "findings": [
                    {
                        "severity": "error",
                        "rule": "must_not_present",
                        "entity": None,
                        "expected": "never: modern smartphones",
                        "found": "phone",
                        "evidence": "checks her phone",
                        "suggestion": "checks her pocket watch",
                        "explanation": "A smartphone is forbidden.",
                    }
                ]
            },
        )
        prompt = "Mara checks her phone by the rail."
        check = await call(
            client, "continuity_check_prompt", {"production": pid, "prompt": prompt, "scene": "3", "judge": True}
        )
        [gemini] = [f for f in check["findings"] if f["source"] == "gemini"]
        assert gemini["evidence"]["field"] == "prompt" and gemini["evidence"]["text"] == "checks her phone"
        assert check["has_errors"] is True and check["recorded"] is False
        assert any("not stored (no shot)" in n for n in check["notes"])
        assert prompt in sent_text(fake.requests_to(":generateContent")[0])
        assert gemini_findings(await call(client, "continuity_report", {"production": pid})) == []


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ({"kind": "status", "status": 503, "times": None}, "server_error"),
        ({"kind": "status", "status": 429, "times": None}, "quota_exhausted"),
        ({"kind": "safety"}, "safety_blocked"),
        ({"kind": "invalid_json"}, "malformed_response"),
    ],
)
async def test_a_gemini_failure_keeps_the_rules_findings_and_stores_nothing(
    judge_server: RunningServer, fake: FakeGemini, fault: dict[str, Any], kind: str
) -> None:
    async with judge_server.client() as client:
        pid = await setup_production(client, f"fault-{kind}")
        fake.add_fault(":generateContent", **fault)
        check = await call(client, "continuity_check_prompt", {"production": pid, "shot": "3/2", "judge": True})
        assert check["findings"] and all(f["source"] == "rules" for f in check["findings"])
        assert check["has_errors"] is True and check["recorded"] is True
        [note] = [n for n in check["notes"] if "judgment" in n]
        assert f"failed ({kind})" in note and "no Gemini findings were stored" in note
        if fault.get("times", 1) is None:
            assert len(fake.requests_to(":generateContent")) == 3  # retried 2 times, then gave up
        report = await call(client, "continuity_report", {"production": pid})
        assert gemini_findings(report) == []
        assert any(f["source"] == "preflight" for f in report["findings"])


async def test_a_failure_after_a_judgment_does_not_resolve_its_findings(
    judge_server: RunningServer, fake: FakeGemini
) -> None:
    async with judge_server.client() as client:
        pid = await setup_production(client, "keep")
        fake.script_json(MODEL, PROMPT_JUDGMENT)
        await call(client, "continuity_check_prompt", {"production": pid, "shot": "3/2", "judge": True})
        fake.add_fault(":generateContent", kind="status", status=503, times=None)
        check = await call(client, "continuity_check_prompt", {"production": pid, "shot": "3/2", "judge": True})
        assert any("failed (server_error)" in n for n in check["notes"])
        report = await call(client, "continuity_report", {"production": pid})
        assert [f["resolved"] for f in gemini_findings(report)] == [False, False]


async def test_a_malformed_judgment_is_reported_not_saved(judge_server: RunningServer, fake: FakeGemini) -> None:
    async with judge_server.client() as client:
        pid = await setup_production(client, "malformed")
        fake.script_json(MODEL, {"findings": [{"severity": "catastrophic", "rule": "attribute_mismatch"}]})
        check = await call(client, "continuity_check_prompt", {"production": pid, "shot": "3/2", "judge": True})
        [note] = [n for n in check["notes"] if "judgment" in n]
        assert "failed (malformed_response)" in note and "PromptJudgment" in note
        assert all(f["source"] == "rules" for f in check["findings"])
        assert gemini_findings(await call(client, "continuity_report", {"production": pid})) == []

        fake.script_json(MODEL, {"entities": "not a list", "issues": []})
        media = await call(
            client,
            "continuity_check_media",
            {"production": pid, "path": clip(judge_server, "pan", 22), "shot": "3/1", "judge": True},
        )
        assert media["judgment"]["status"] == "failed" and "malformed_response" in media["judgment"]["error"]
        assert media["judgment"]["findings"] == []
        assert gemini_findings(await call(client, "continuity_report", {"production": pid})) == []


# -- media ------------------------------------------------------------------------------------------------


async def test_media_judgment_sends_the_clip_inline_and_stores_timed_findings(
    judge_server: RunningServer, fake: FakeGemini
) -> None:
    async with judge_server.client() as client:
        pid = await setup_production(client, "media", second_shot="Mara looks up at the lighthouse.")
        fake.script_json(MODEL, CLIP_JUDGMENT)
        path = clip(judge_server, "jacket", 3)
        result = await call(
            client, "continuity_check_media", {"production": pid, "path": path, "shot": "3/2", "judge": True}
        )
        judgment = result["judgment"]
        assert judgment["status"] == "ok" and judgment["model"] == MODEL and judgment["error"] is None
        assert judgment["entities"] == ["Mara", "3"]
        assert judgment["verdicts"][0]["wardrobe"] == "inconsistent"
        found = {f["rule"]: f for f in judgment["findings"]}
        assert set(found) == {"gemini.wardrobe", "gemini.hair"}  # the verdict is covered by the wardrobe issue
        assert found["gemini.wardrobe"]["time_s"] == pytest.approx(1.8) and found["gemini.wardrobe"]["entity"] == "Mara"
        assert found["gemini.wardrobe"]["severity"] == "error" and found["gemini.wardrobe"]["source"] == "gemini"
        assert found["gemini.hair"]["time_s"] is None  # 99 s is past the 3.5 s clip
        assert any("99 s" in d for d in judgment["dropped"])
        # The weight-free analysis and its findings are all still there.
        assert result["analysis"]["breaks"] and all(f["source"] == "media" for f in result["findings"])

        [request] = fake.requests_to(":generateContent")
        parts = request["body"]["contents"][0]["parts"]
        inline = parts[0]["inlineData"]
        data = (judge_server.workdir / "clips" / "jacket-3.mp4").read_bytes()
        # The SDK base64-encodes bytes URL-safe; the clip arrives whole.
        assert mime(inline) == "video/mp4" and base64.urlsafe_b64decode(inline["data"]) == data
        text = sent_text(request)
        assert "jacket: red wool" in text and "hair: short, dark" in text and "weather: light rain" in text
        assert "Mara looks up at the lighthouse." in text and "3.50 s" in text
        assert "ClipJudgment" not in text and "wardrobe" in text

        report = await call(client, "continuity_report", {"production": pid})
        stored = gemini_findings(report)
        assert {(f["rule"], f["asset"], f["shot"]) for f in stored} == {
            ("gemini.wardrobe", result["asset"], "3/2"),
            ("gemini.hair", result["asset"], "3/2"),
        }
        assert any(f["source"] == "media" and f["asset"] == result["asset"] for f in report["findings"])


async def test_media_judgment_of_an_image(judge_server: RunningServer, fake: FakeGemini) -> None:
    async with judge_server.client() as client:
        pid = await setup_production(client, "image")
        fake.script_json(MODEL, CLIP_JUDGMENT)
        result = await call(
            client,
            "continuity_check_media",
            {"production": pid, "path": "sample_kit/refs/red_coat_silhouette.png", "shot": "3/1", "judge": True},
        )
        judgment = result["judgment"]
        assert judgment["status"] == "ok"
        # A still image has no time: both findings are kept without one.
        assert {f["time_s"] for f in judgment["findings"]} == {None}
        inline = fake.requests_to(":generateContent")[0]["body"]["contents"][0]["parts"][0]["inlineData"]
        assert mime(inline) == "image/png"
        assert "still image" in sent_text(fake.requests_to(":generateContent")[0])


async def test_media_judgment_failure_keeps_the_media_findings(judge_server: RunningServer, fake: FakeGemini) -> None:
    async with judge_server.client() as client:
        pid = await setup_production(client, "media-fault")
        fake.add_fault(":generateContent", kind="status", status=503, times=None)
        path = clip(judge_server, "jacket", 4)
        result = await call(
            client, "continuity_check_media", {"production": pid, "path": path, "shot": "3/2", "judge": True}
        )
        assert result["judgment"]["status"] == "failed" and "server_error" in result["judgment"]["error"]
        assert result["findings"] and result["analysis"]["breaks"]
        assert any("No Gemini findings were stored" in n and "media findings above stand" in n for n in result["notes"])
        report = await call(client, "continuity_report", {"production": pid})
        assert gemini_findings(report) == [] and any(f["source"] == "media" for f in report["findings"])

        fake.clear_faults()
        fake.add_fault(":generateContent", kind="safety")
        again = await call(
            client, "continuity_check_media", {"production": pid, "asset": result["asset"], "judge": True}
        )
        assert again["judgment"]["status"] == "failed" and "safety_blocked" in again["judgment"]["error"]


async def test_a_file_over_the_inline_limit_is_not_sent(judge_server: RunningServer, fake: FakeGemini) -> None:
    big = judge_server.workdir / "clips" / "huge_noise.png"
    if not big.exists():
        rng = np.random.default_rng(7)
        Image.fromarray(rng.integers(0, 256, (2800, 2800, 3), dtype=np.uint8)).save(big, compress_level=0)
    assert big.stat().st_size > MAX_INLINE_BYTES
    async with judge_server.client() as client:
        pid = await setup_production(client, "huge")
        result = await call(
            client, "continuity_check_media", {"production": pid, "path": "clips/huge_noise.png", "judge": True}
        )
        judgment = result["judgment"]
        assert judgment["status"] == "skipped" and "at most 20 MB" in judgment["error"]
        assert any("Nothing was sent" in n for n in result["notes"])
        assert fake.requests_to(":generateContent") == []


# -- no credentials ---------------------------------------------------------------------------------


async def test_judge_without_credentials_is_a_clear_error_and_changes_nothing(
    embedded_server: RunningServer, tmp_path: Path
) -> None:
    clip = embedded_server.workdir / "judge-nocreds.mp4"
    if not clip.exists():
        make_clip("pan", clip, seed=11, duration_s=3.5)
    async with embedded_server.client() as client:
        pid = await setup_production(client, "nocreds")
        before = await call(client, "continuity_report", {"production": pid})

        result = await client.call_tool("continuity_check_prompt", {"production": pid, "shot": "3/2", "judge": True})
        assert result.is_error
        message = error_text(result)
        assert "GEMINI_API_KEY" in message and "GOOGLE_CLOUD_PROJECT" in message and "judge=false" in message

        result = await client.call_tool(
            "continuity_check_media", {"production": pid, "path": clip.name, "shot": "3/2", "judge": True}
        )
        assert result.is_error and "GEMINI_API_KEY" in error_text(result)
        # Nothing was imported or recorded, and the server keeps serving.
        never_imported = asset_id(pid, hashlib.sha256(clip.read_bytes()).hexdigest())
        assert (await client.call_tool("asset_get", {"asset": never_imported})).is_error
        assert await call(client, "continuity_report", {"production": pid}) == before
        check = await call(client, "continuity_check_prompt", {"production": pid, "shot": "3/2"})
        assert check["findings"] and check["recorded"]
