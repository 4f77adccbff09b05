"""shots_plan and the plan_scene prompt over a real MCP client, against the fake Gemini API.

A server process of this module's own has GEMINI_API_KEY and GOOGLE_GEMINI_BASE_URL pointing at
the fake (in a thread of this process); the fake records what the server sent and scripts answers
and faults. After every failure the scene's shots are as they were and the server keeps serving.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from mcp import Client

from tests.conftest import RunningServer, make_workdir, start_http_server, stop
from tests.fake_gemini import FakeGemini
from tests.helpers import call, error_text, make_production
from tools.generation.models import PlannedShot
from tools.production.models import ShotSpec

MODEL = "gemini-2.5-flash"
KIT = "gen-plan-kit"
LOGLINE = "A young deckhand keeps the lanterns lit on the last night ferry."
MUST = ["Mara's scar stays over her LEFT eyebrow"]
MUST_NOT = ["modern smartphones"]
# Short timeouts and retry delays (read by GenAISettings.from_env) keep the fault tests fast.
FAST_RETRIES = {
    "STUDIO_GENAI_TIMEOUT_S": "3",
    "STUDIO_GENAI_MAX_RETRIES": "2",
    "STUDIO_GENAI_RETRY_INITIAL_DELAY_S": "0.01",
    "STUDIO_GENAI_RETRY_MAX_DELAY_S": "0.05",
    "STUDIO_GENAI_RETRY_JITTER_S": "0.01",
}
_ingested: set[str] = set()
_names = itertools.count(1)


def plan(count: int, **extra: Any) -> dict[str, Any]:
    return {
        "shots": [
            {
                "number": n,
                "description": f"Shot {n}: Mara tends the bow lantern in the rain.",
                "characters": ["Mara"],
                "location": "Ferry Deck",
                "time_of_day": "dusk",
                "int_ext": "EXT",
                "framing": "medium",
                "lens": "35mm",
                "camera_move": "static",
                "duration_s": 6,
                **extra,
            }
            for n in range(1, count + 1)
        ]
    }


@pytest.fixture(scope="module")
def gemini_server(tmp_path_factory: pytest.TempPathFactory, fake: FakeGemini) -> Iterator[RunningServer]:
    workdir = make_workdir(tmp_path_factory.mktemp("gen-plan"))
    server = start_http_server(workdir, GEMINI_API_KEY="test-key", GOOGLE_GEMINI_BASE_URL=fake.url, **FAST_RETRIES)
    yield server
    stop(server.proc)


@pytest.fixture(autouse=True)
def _clean(fake: FakeGemini) -> None:
    fake.reset()


async def ferry_production(client: Client, name: str, kit: str = KIT) -> str:
    if kit == KIT and KIT not in _ingested:
        await call(client, "style_ingest", {"kit": KIT, "paths": ["sample_kit"]})
        _ingested.add(KIT)
    return await make_production(
        client,
        name,
        kit=kit,
        logline=LOGLINE,
        tone="hushed wonder with an ache underneath",
        must=MUST,
        must_not=MUST_NOT,
    )


async def scene_shots(client: Client, pid: str, scene: str) -> list[dict[str, Any]]:
    production = await call(client, "production_get", {"production": pid})
    return list(production["scenes"].get(scene, []))


def sent_prompt(request: dict[str, Any]) -> str:
    return "\n".join(p.get("text", "") for c in request["body"]["contents"] for p in c["parts"])


def test_response_schema_mirrors_shot_spec() -> None:
    # PlannedShot exists only because Gemini's Schema rejects ShotSpec's exclusiveMinimum; keep them in step.
    assert list(PlannedShot.model_fields) == list(ShotSpec.model_fields)


async def test_plan_a_scene_grounded_in_brief_kit_and_ledger(gemini_server: RunningServer, fake: FakeGemini) -> None:
    async with gemini_server.client() as client:
        pid = await ferry_production(client, "Gen Plan Grounded")
        await call(
            client,
            "continuity_set",
            {"production": pid, "entity": "Mara", "kind": "character", "attributes": {"coat": "red wool, buttoned"}},
        )
        fake.script_json(MODEL, plan(3))
        result = await call(
            client, "shots_plan", {"production": pid, "scene": "4", "count": 3, "guidance": "end on the lantern"}
        )

        assert result["attempts"] == 1 and result["rejected"] == [] and result["model"] == MODEL
        assert [s["ref"] for s in result["shots"]] == ["4/1", "4/2", "4/3"] and result["added"] == ["4/1", "4/2", "4/3"]
        saved = await scene_shots(client, pid, "4")
        assert [(s["number"], s["source"], s["status"]) for s in saved] == [(n, "gemini", "planned") for n in (1, 2, 3)]
        assert saved[0]["description"] == plan(3)["shots"][0]["description"] and saved[0]["lens"] == "35mm"

        [request] = fake.requests_to(":generateContent")
        config = request["body"]["generationConfig"]
        assert config["responseMimeType"] == "application/json" and "shots" in config["responseSchema"]["properties"]
        text = sent_prompt(request)
        assert LOGLINE in text and all(m in text for m in MUST) and all(m in text for m in MUST_NOT)
        assert "end on the lantern" in text and "exactly 3 shots" in text
        # At least one of the style passages it says it used is in the request, verbatim.
        hits = await call(client, "style_search", {"query": "look, light, characters", "kit": KIT, "k": 50})
        texts = {h["id"]: " ".join(h["text"].split()) for h in hits["hits"]}
        assert result["style_chunks"]
        assert any(texts[i] in text for i in result["style_chunks"] if i in texts)
        assert "Mara" in result["ledger_entities"] and "coat: red wool, buttoned" in text

        # The plan feeds prompt_build directly.
        grounded = await call(client, "prompt_build", {"production": pid, "shot": "4/2"})
        assert grounded["prompt"].startswith("Shot 2:") and MUST_NOT[0] in grounded["negative_prompt"]

        # Re-planning the scene replaces its list.
        fake.script_json(MODEL, plan(2))
        again = await call(client, "shots_plan", {"production": pid, "scene": "4", "count": 2})
        assert again["removed"] == ["4/3"] and [s["ref"] for s in await scene_shots(client, pid, "4")] == ["4/1", "4/2"]
        assert "The scene's current shots" in sent_prompt(fake.requests_to(":generateContent")[-1])


async def test_an_invalid_answer_is_refused_and_asked_again(gemini_server: RunningServer, fake: FakeGemini) -> None:
    async with gemini_server.client() as client:
        pid = await ferry_production(client, "Gen Plan Retry Once")
        duplicate = plan(2)
        duplicate["shots"][1]["number"] = 1
        fake.script_json(MODEL, duplicate)
        fake.script_json(MODEL, plan(2))
        result = await call(client, "shots_plan", {"production": pid, "scene": "2", "count": 2})
        assert result["attempts"] == 2 and "more than once" in result["rejected"][0]
        first, second = fake.requests_to(":generateContent")
        assert "refused" not in sent_prompt(first) and "previous answer was refused" in sent_prompt(second)
        assert [s["ref"] for s in await scene_shots(client, pid, "2")] == ["2/1", "2/2"]


async def _with_saved_scene(client: Client, name: str) -> tuple[str, list[dict[str, Any]]]:
    pid = await ferry_production(client, name, kit="gen-no-kit")
    await call(
        client,
        "shots_save",
        {
            "production": pid,
            "scene": "5",
            "shots": [{"number": 1, "description": "The agent's own shot, which must survive.", "duration_s": 6}],
        },
    )
    return pid, await scene_shots(client, pid, "5")


FAULT = "fault:invalid_json"
INVALID_TWICE = [
    pytest.param([FAULT, FAULT], ["does not match", "Invalid JSON"], id="invalid-json-twice"),
    pytest.param([plan(2), plan(4)], ["it has 2 shots, 3 were asked for", "it has 4 shots"], id="wrong-count"),
    pytest.param([plan(3, duration_s=30), plan(3, duration_s=30)], ["durations outside 2-8 s"], id="durations"),
    pytest.param(
        [plan(3, description="ok"), '{"shots": [1, 2'],
        ["description", "does not match"],
        id="short-description-then-broken-json",
    ),
]


@pytest.mark.parametrize(("answers", "expected"), INVALID_TWICE)
async def test_two_invalid_answers_save_nothing(
    gemini_server: RunningServer,
    fake: FakeGemini,
    answers: list[Any],
    expected: list[str],
) -> None:
    async with gemini_server.client() as client:
        pid, before = await _with_saved_scene(client, f"Gen Plan Invalid {next(_names)}")
        for answer in answers:
            if answer == FAULT:  # the fake's own invalid-JSON fault (it ignores scripts, so used alone)
                fake.add_fault(":generateContent", kind="invalid_json")
            elif isinstance(answer, str):
                fake.script(MODEL, answer)
            else:
                fake.script_json(MODEL, answer)
        text = error_text(await client.call_tool("shots_plan", {"production": pid, "scene": "5", "count": 3}))
        assert "did not validate twice" in text and "nothing was saved" in text and "shots_save" in text
        assert all(e in text for e in expected), text
        assert len(fake.requests_to(":generateContent")) == 2
        assert await scene_shots(client, pid, "5") == before
        events = (await call(client, "production_get", {"production": pid}))["events"]
        assert events[-1]["tool"] == "shots_plan" and events[-1]["outcome"].startswith("error")


RETRIED = [
    pytest.param({"status": 429, "retry_delay_s": 0.01}, id="429-then-ok"),
    pytest.param({"status": 500}, id="500-then-ok"),
    pytest.param({"status": 503}, id="503-then-ok"),
]


@pytest.mark.parametrize("fault", RETRIED)
async def test_transient_faults_are_retried(
    gemini_server: RunningServer,
    fake: FakeGemini,
    fault: dict[str, Any],
) -> None:
    async with gemini_server.client() as client:
        pid = await ferry_production(client, f"Gen Plan Transient {next(_names)}", kit="gen-no-kit")
        fake.add_fault(":generateContent", **fault)
        fake.script_json(MODEL, plan(2))
        result = await call(client, "shots_plan", {"production": pid, "scene": "1", "count": 2})
        assert result["attempts"] == 1 and len(result["shots"]) == 2
        assert len(fake.requests_to(":generateContent")) == 2  # the fault, then the retry that succeeded


FAILURES = [
    pytest.param(
        {"status": 429, "retry_delay_s": 7, "times": None}, ["Quota exhausted", "Retry after 7 s"], id="429-exhausted"
    ),
    pytest.param(
        {"kind": "safety", "finish_reason": "SAFETY"}, ["withheld", "finishReason SAFETY", "Rephrase"], id="safety"
    ),
    pytest.param(
        {"kind": "prompt_blocked", "block_reason": "PROHIBITED_CONTENT"},
        ["blockReason PROHIBITED_CONTENT"],
        id="prompt-blocked",
    ),
    pytest.param({"status": 404}, ["Not found", MODEL, "model name"], id="model-not-found"),
    pytest.param({"status": 403}, ["refused the credentials", "GEMINI_API_KEY"], id="auth-refused"),
]


@pytest.mark.parametrize(("fault", "expected"), FAILURES)
async def test_gemini_failures_are_actionable_and_change_nothing(
    gemini_server: RunningServer,
    fake: FakeGemini,
    fault: dict[str, Any],
    expected: list[str],
) -> None:
    async with gemini_server.client() as client:
        pid, before = await _with_saved_scene(client, f"Gen Plan Fail {next(_names)}")
        fake.add_fault(":generateContent", **fault)
        text = error_text(await client.call_tool("shots_plan", {"production": pid, "scene": "5", "count": 2}))
        assert all(e in text for e in expected), text
        assert "Nothing was saved" in text and "test-key" not in text
        assert await scene_shots(client, pid, "5") == before
        fake.clear_faults()
        fake.script_json(MODEL, plan(2))  # the server keeps serving
        assert len((await call(client, "shots_plan", {"production": pid, "scene": "5", "count": 2}))["shots"]) == 2


async def test_timeout_is_an_error_and_changes_nothing(gemini_server: RunningServer, fake: FakeGemini) -> None:
    async with gemini_server.client() as client:
        pid, before = await _with_saved_scene(client, "Gen Plan Timeout")
        fake.add_fault(":generateContent", kind="delay", delay_s=10, times=None)
        text = error_text(await client.call_tool("shots_plan", {"production": pid, "scene": "5", "count": 2}))
        assert "No answer" in text and "timeout" in text
        assert await scene_shots(client, pid, "5") == before


async def test_bad_input_is_refused_before_calling_gemini(gemini_server: RunningServer, fake: FakeGemini) -> None:
    async with gemini_server.client() as client:
        pid, before = await _with_saved_scene(client, "Gen Plan Bad Input")
        cases: list[tuple[dict[str, Any], list[str]]] = [
            ({"production": "gen-no-such-film", "scene": "1"}, ["gen-no-such-film", "production_create"]),
            ({"production": pid, "scene": "bad scene!"}, ["not a valid scene name"]),
            ({"production": pid, "scene": "5", "count": 0}, ["`count` must be an integer from 1 to 30, got 0"]),
            ({"production": pid, "scene": "5", "count": 31}, ["`count` must be an integer from 1 to 30, got 31"]),
            ({"production": pid, "scene": "5", "guidance": "x" * 2001}, ["guidance", "2000"]),
        ]
        for args, expected in cases:
            text = error_text(await client.call_tool("shots_plan", args))
            assert all(e in text for e in expected), (args, text)
        assert fake.requests_to(":generateContent") == []
        assert await scene_shots(client, pid, "5") == before


async def test_no_credentials_names_the_variables(embedded_server: RunningServer) -> None:
    # The session server runs with no Gemini or Vertex variables at all.
    async with embedded_server.client() as client:
        created = await call(
            client,
            "production_create",
            {"name": "Gen Plan No Credentials", "kit": "gen-no-kit", "logline": LOGLINE, "tone": "quiet"},
        )
        text = error_text(await client.call_tool("shots_plan", {"production": created["id"], "scene": "1"}))
        assert "GEMINI_API_KEY" in text and "GOOGLE_CLOUD_PROJECT" in text and "shots_save" in text
        assert await scene_shots(client, created["id"], "1") == []


async def test_plan_scene_prompt_walks_the_whole_path(gemini_server: RunningServer) -> None:
    async with gemini_server.client() as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert {a.name for a in prompts["plan_scene"].arguments or []} == {"production", "scene"}
        result = await client.get_prompt("plan_scene", {"production": "night-ferry", "scene": "3"})
        text = result.messages[0].content.text  # type: ignore[union-attr]
        steps = ["production_get", "style_search", "continuity_get", "shots_plan", "shots_save", "prompt_build"]
        positions = [text.index(step) for step in steps[:4]] + [text.index("prompt_build")]
        assert positions == sorted(positions) and all(s in text for s in steps)
        assert 'production="night-ferry"' in text and 'scene="3"' in text and "3/<number>" in text
