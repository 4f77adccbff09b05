"""`studio-mcp demo`: one shot's whole journey, narrated, through a real MCP client talking to a real
server process over stdio, on the embedded defaults and offline.

Generation goes to Vertex when its credentials are set (and the user says `--vertex`), else to the
local generation stand-in (STUDIO_GENERATION=standin), which returns a rendered test clip, free,
and says so on every job and asset. Every step is an ordinary tool call a user's agent could make.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, TextContent

SAMPLE_KIT = Path(__file__).resolve().parent / "sample_kit"
KIT = "night-ferry-demo"
SHOTS = [
    {
        "number": 1,
        "description": "Mara lights the bow lantern on the ferry deck, her red wool coat wet with spray.",
        "characters": ["Mara"],
        "props": ["lantern"],
        "location": "ferry deck",
        "framing": "medium",
        "duration_s": 4,
    },
    {
        "number": 2,
        # The planted violation: the ledger says her coat is red wool.
        "description": "Mara, in a yellow raincoat, coils the mooring rope at the rail.",
        "characters": ["Mara"],
        "location": "ferry deck",
        "duration_s": 4,
    },
]
FIXED = "Mara, in her red wool coat, coils the mooring rope at the rail."


class DemoFailed(Exception):
    """A step answered an error: the demo stops there and says which."""


class Narrator:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.step = 0
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        self.step += 1
        print(f"\n[{self.step:2d}] {text}", flush=True)

    @staticmethod
    def detail(text: str) -> None:
        print(f"     {text}", flush=True)

    async def call(self, tool: str, **args: Any) -> dict[str, Any]:
        result = await self.client.call_tool(tool, args)
        if result.is_error:
            raise DemoFailed(f"{tool} failed: {_text(result)}")
        return dict(result.structured_content or {})

    async def error_of(self, tool: str, **args: Any) -> str:
        result = await self.client.call_tool(tool, args)
        return _text(result) if result.is_error else ""


def _text(result: CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))


async def wait_for(n: Narrator, job: dict[str, Any]) -> dict[str, Any]:
    with anyio.fail_after(900):
        while job["status"] not in ("done", "failed", "cancelled", "unknown_submission"):
            job = await n.call("video_job", job=job["id"], wait_s=10)
    if job["status"] != "done":
        raise DemoFailed(f"video job {job['id']} ended {job['status']}: {job.get('error') or job.get('message')}")
    return job


async def scenario(n: Narrator, kit_dir: Path) -> None:
    n.say("Ingest the sample style kit (character sheets, a style bible, a palette, a treatment PDF).")
    ingest = await n.call("style_ingest", kit=KIT, paths=[str(kit_dir)])
    n.detail(f"{ingest['chunks_added']} passages from {len(ingest['sources'])} files")

    n.say("Search it the way a prompt will: how must Mara look?")
    hits = (await n.call("style_search", query="Mara's face, scar and coat", kit=KIT, k=2))["hits"]
    for hit in hits:
        n.detail(f"{hit['score']:.2f} {hit['source'].split('/')[-1]}: {hit['text'][:90]}…")

    n.say("Create the production with its brief.")
    pid = (
        await n.call(
            "production_create",
            name="Night Ferry Demo",
            kit=KIT,
            logline="On the last night crossing, a young deckhand keeps the lanterns lit.",
            tone="quiet, cold, tender",
            must=["lantern light is the only warm accent"],
            must_not=["modern smartphones"],
            budget_usd=50,
        )
    )["id"]
    n.detail(f"production {pid}")

    n.say("Record the continuity facts the shots must keep.")
    await n.call(
        "continuity_set",
        production=pid,
        entity="Mara Vell",
        kind="character",
        attributes={"coat": "red wool coat", "scar": "left eyebrow"},
        aliases=["Mara"],
    )
    await n.call("continuity_set", production=pid, entity="1", kind="scene", attributes={"time_of_day": "night"})
    n.detail("Mara Vell: red wool coat, scar through the left eyebrow; scene 1 at night")

    n.say("Save the agent's shot list for scene 1 (shot 2 has a planted mistake).")
    await n.call("shots_save", production=pid, scene="1", shots=SHOTS)

    n.say("Build the grounded prompt for shot 1/1.")
    prompt = await n.call("prompt_build", production=pid, shot="1/1")
    kinds = sorted({i["kind"] for i in prompt["injections"]})
    n.detail(f"{len(prompt['prompt'])} characters; injected: {', '.join(kinds)}")

    n.say("Preflight shot 1/2 against the ledger before paying for it.")
    check = await n.call("continuity_check_prompt", production=pid, shot="1/2")
    errors = [f for f in check["findings"] if f["severity"] == "error"]
    for finding in errors:
        n.detail(f"caught: {finding['message']}")
    if not errors:
        raise DemoFailed("the preflight missed the planted yellow raincoat")

    n.say("Fix the shot and check again.")
    fixed = [SHOTS[0], {**SHOTS[1], "description": FIXED}]
    await n.call("shots_save", production=pid, scene="1", shots=fixed)
    again = await n.call("continuity_check_prompt", production=pid, shot="1/2")
    n.detail(f"errors now: {again['errors']}")

    n.say("Generate shot 1/1.")
    job = await wait_for(n, await n.call("video_generate", production=pid, shot="1/1"))
    first = job["asset"]["id"]
    label = "stand-in test clip (no cost)" if job.get("stand_in") else f"Veo, ${job['estimate_usd']:.2f}"
    n.detail(f"job {job['id']} done: asset {first}, {label}")

    n.say("Check the clip: breaks, palette, references, faces.")
    media = await n.call("continuity_check_media", production=pid, asset=first)
    n.detail(f"{len(media['analysis']['breaks'])} breaks; {len(media['findings'])} open findings")

    n.say("Send it to review; the director rejects it with a note that becomes a ledger fact.")
    await n.call("review_submit", asset=first)
    note = "The bow lantern must already be lit in the first frame."
    await n.call(
        "review_decide",
        asset=first,
        decision="reject",
        notes=note,
        reviewer="director",
        fact_entity="lantern",
        fact_kind="prop",
        fact_attributes={"state": "lit from the first frame"},
    )
    n.detail(f"rejected: {note}")

    n.say("The next prompt for shot 1/1 shows what the review changed.")
    prompt = await n.call("prompt_build", production=pid, shot="1/1")
    for injection in prompt["injections"]:
        if injection["kind"] == "review" or (injection["kind"] == "ledger" and "lantern" in injection["ref"]):
            n.detail(f"{injection['kind']}: {injection['text']}")

    n.say("Retake, review again, approve.")
    job = await wait_for(n, await n.call("video_generate", production=pid, shot="1/1"))
    second = job["asset"]["id"]
    n.detail(f"retake {second}, parent {job.get('parent_asset')}")
    await n.call("review_submit", asset=second)
    approved = await n.call("review_decide", asset=second, decision="approve", notes="Lantern lit, coat right.")
    n.detail(f"review {approved['id']}: {approved['status']}")

    n.say("The production's pipeline figures.")
    report = await n.call("pipeline_report", production=pid)
    for stage in ("preflight", "generation", "media_check", "review", "end_to_end_yield"):
        rate = report["overall"][stage]
        shown = "n/a" if rate["rate"] is None else f"{rate['rate']:.0%}"
        n.detail(f"{stage:>17}: {shown} ({rate['passed']}/{rate['total']})")
    trace = report.get("traces", {}).get("1/1")
    n.detail(f"trace of shot 1/1: {trace}" if trace else "tracing is off (set OTEL_EXPORTER_OTLP_ENDPOINT to export)")


async def run(data_dir: Path, use_vertex: bool) -> str | None:
    """Run the scenario; what stopped it, or None."""
    kit_dir = data_dir / "demo_kit"  # inside the data directory, an allowed root by default
    shutil.copytree(SAMPLE_KIT, kit_dir, dirs_exist_ok=True)
    env = {**os.environ, "STUDIO_DATA_DIR": str(data_dir)}
    env.setdefault("STUDIO_LOG_LEVEL", "WARNING")
    env.setdefault("STUDIO_VEO_POLL_INITIAL_S", "0.5")
    if not use_vertex:
        env["STUDIO_GENERATION"] = "standin"
    print(
        "studio-mcp demo: a real server process over stdio, embedded Chroma, offline embedder; generation: "
        + ("Vertex AI (paid)" if use_vertex else "the local stand-in (a test clip, no cost)"),
        flush=True,
    )
    serve = "from server.cli import main; main(['serve'])"
    params = StdioServerParameters(command=sys.executable, args=["-c", serve], env=env, cwd=data_dir)
    async with Client(params) as client:
        narrator = Narrator(client)
        print("Starting the server and loading the embedder…", flush=True)
        await client.list_tools()
        narrator.started = time.monotonic()
        try:
            await scenario(narrator, kit_dir)
        except DemoFailed as failed:
            return str(failed)
        print(f"\nDone in {time.monotonic() - narrator.started:.1f} s after start-up. Data in {data_dir}", flush=True)
    return None


def run_demo(data_dir: Path | None, *, vertex: bool = False) -> int:
    """`studio-mcp demo`: 0 when every step worked."""
    where = (data_dir or Path(tempfile.mkdtemp(prefix="studio-demo-")) / "data").resolve()
    stopped = anyio.run(run, where, vertex)
    if stopped is not None:
        print(f"\nThe demo stopped: {stopped}", file=sys.stderr)
        return 1
    return 0
