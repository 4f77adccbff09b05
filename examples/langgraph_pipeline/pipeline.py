"""A LangGraph pipeline over studio-mcp: plan -> ground -> preflight -> generate -> media check -> human
review (LangGraph `interrupt`) -> back to ground on a rejection, until the take is approved.

Every node calls the server's tools through langchain-mcp-adapters over ONE persistent stdio session
(not a process per call). The graph's state carries the brief, the continuity facts and the review
history through every node. Planning is deterministic (a fixed shot list) unless GEMINI_API_KEY is
set and --gemini is given, then `shots_plan` plans the scene with Gemini.

    python examples/langgraph_pipeline/pipeline.py --auto-review      # scripted reviewer: reject, approve
    python examples/langgraph_pipeline/pipeline.py                    # you review at the prompt

Run it in its own environment (requirements.txt: langchain-mcp-adapters needs the MCP SDK 1.x, the
server runs on 2.x); STUDIO_MCP names the server's executable (default: `studio-mcp` on PATH), and
STUDIO_GENERATION=standin keeps generation offline and free.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
from typing import Any, TypedDict

from langchain_core.tools import BaseTool
from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.tools import load_mcp_tools
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

SHOTS = [
    {
        "number": 1,
        "description": "Mara lights the bow lantern on the ferry deck, her red wool coat wet with spray.",
        "characters": ["Mara"],
        "props": ["lantern"],
        "duration_s": 4,
    }
]


class Pipeline(TypedDict, total=False):
    production: str
    shot: str
    brief: dict[str, Any]  # the latest brief version, re-read before every prompt
    ledger: list[dict[str, Any]]  # the continuity facts of the shot's entities
    prompt: str
    preflight_errors: list[str]
    asset: str
    parent: str | None
    findings: list[str]
    reviews: list[dict[str, str]]  # every decision so far, oldest first
    log: list[str]


class Tools:
    """The server's tools by name, called through the adapters; results parsed from their JSON."""

    def __init__(self, tools: list[BaseTool]) -> None:
        self._by_name = {t.name: t for t in tools}

    async def __call__(self, tool: str, /, **args: Any) -> dict[str, Any]:
        answer = await self._by_name[tool].ainvoke(args)
        text = answer if isinstance(answer, str) else "".join(part.get("text", "") for part in answer)
        try:
            return dict(json.loads(text))
        except json.JSONDecodeError:
            raise RuntimeError(f"{tool} failed: {text}") from None


def build_graph(call: Tools, use_gemini: bool) -> Any:
    async def plan(state: Pipeline) -> Pipeline:
        pid = state["production"]
        if use_gemini:
            await call("shots_plan", production=pid, scene="1", count=1)
        else:
            await call("shots_save", production=pid, scene="1", shots=SHOTS)
        return {"shot": "1/1", "log": [*state.get("log", []), "plan: scene 1 saved"]}

    async def ground(state: Pipeline) -> Pipeline:
        pid, shot = state["production"], state["shot"]
        brief = (await call("production_get", production=pid))["brief"]
        ledger = (await call("continuity_get", production=pid, scene="1"))["entities"]
        prompt = (await call("prompt_build", production=pid, shot=shot))["prompt"]
        return {
            "brief": brief,
            "ledger": ledger,
            "prompt": prompt,
            "log": [*state["log"], f"ground: brief v{brief['version']}"],
        }

    async def preflight(state: Pipeline) -> Pipeline:
        check = await call("continuity_check_prompt", production=state["production"], shot=state["shot"])
        errors = [f["message"] for f in check["findings"] if f["severity"] == "error"]
        return {"preflight_errors": errors, "log": [*state["log"], f"preflight: {len(errors)} errors"]}

    async def generate(state: Pipeline) -> Pipeline:
        job = await call("video_generate", production=state["production"], shot=state["shot"])
        while job["status"] not in ("done", "failed", "cancelled", "unknown_submission"):
            job = await call("video_job", job=job["id"], wait_s=10)
        if job["status"] != "done":
            raise RuntimeError(f"video job {job['id']} ended {job['status']}: {job.get('error')}")
        asset = job["asset"]["id"]
        return {"asset": asset, "parent": job.get("parent_asset"), "log": [*state["log"], f"generate: {asset}"]}

    async def media_check(state: Pipeline) -> Pipeline:
        result = await call("continuity_check_media", production=state["production"], asset=state["asset"])
        findings = [f["found"] or f["rule"] for f in result["findings"]]
        await call("review_submit", asset=state["asset"])
        return {"findings": findings, "log": [*state["log"], f"media check: {len(findings)} findings"]}

    async def review(state: Pipeline) -> Pipeline:
        # The human gate: the graph stops here until someone answers (Command(resume=...)).
        verdict = interrupt({"asset": state["asset"], "prompt": state["prompt"], "findings": state["findings"]})
        args: dict[str, Any] = {"asset": state["asset"], "decision": verdict["decision"], "notes": verdict["notes"]}
        if verdict.get("fact"):
            args.update(verdict["fact"])
        decided = await call("review_decide", **args)
        entry = {"asset": state["asset"], "decision": verdict["decision"], "notes": verdict["notes"]}
        return {"reviews": [*state.get("reviews", []), entry], "log": [*state["log"], f"review: {decided['status']}"]}

    def after_review(state: Pipeline) -> str:
        return END if state["reviews"][-1]["decision"] == "approve" else "ground"

    graph = StateGraph(Pipeline)
    for name, node in [
        ("plan", plan),
        ("ground", ground),
        ("preflight", preflight),
        ("generate", generate),
        ("media_check", media_check),
        ("review", review),
    ]:
        graph.add_node(name, node)
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "ground")
    graph.add_edge("ground", "preflight")
    graph.add_conditional_edges("preflight", lambda s: END if s["preflight_errors"] else "generate")
    graph.add_edge("generate", "media_check")
    graph.add_edge("media_check", "review")
    graph.add_conditional_edges("review", after_review)
    return graph.compile(checkpointer=InMemorySaver())


SCRIPTED = [
    {
        "decision": "reject",
        "notes": "The bow lantern must already be lit in the first frame.",
        "fact": {
            "fact_entity": "lantern",
            "fact_kind": "prop",
            "fact_attributes": {"state": "lit from the first frame"},
        },
    },
    {"decision": "approve", "notes": "Lantern lit, coat right."},
]


def ask_human(question: dict[str, Any]) -> dict[str, Any]:
    print(f"\nReview {question['asset']} ({len(question['findings'])} findings). Prompt:\n{question['prompt']}\n")
    decision = input("approve / reject / revise? ").strip()
    notes = input("notes: ").strip()
    return {"decision": decision, "notes": notes}


async def main(auto_review: bool, use_gemini: bool) -> None:
    server = os.environ.get("STUDIO_MCP") or shutil.which("studio-mcp") or "studio-mcp"
    client = MultiServerMCPClient(
        {"studio": {"transport": "stdio", "command": server, "args": ["serve"], "env": dict(os.environ)}}
    )
    async with client.session("studio") as session:  # one session for the whole graph
        call = Tools(await load_mcp_tools(session))
        created = await call(
            "production_create",
            name="LangGraph Ferry",
            kit="langgraph-ferry-kit",
            logline="On the last night crossing, a young deckhand keeps the lanterns lit.",
            tone="quiet, cold",
        )
        await call(
            "continuity_set",
            production=created["id"],
            entity="Mara",
            kind="character",
            attributes={"coat": "red wool coat"},
        )
        graph = build_graph(call, use_gemini)
        config = {"configurable": {"thread_id": created["id"]}}
        step: Any = {"production": created["id"], "log": []}
        answers = iter(SCRIPTED)
        while True:
            result = await graph.ainvoke(step, config)
            pending = result.get("__interrupt__")
            if not pending:
                break
            question = pending[0].value
            step = Command(resume=next(answers) if auto_review else ask_human(question))
        for line in result["log"]:
            print(line)
        print(f"approved {result['asset']} (parent {result['parent']}) after {len(result['reviews'])} reviews")
        print(f"final prompt carries the review: {'lit in the first frame' in result['prompt']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--auto-review", action="store_true", help="A scripted reviewer: reject once, then approve.")
    parser.add_argument("--gemini", action="store_true", help="Plan with shots_plan (needs GEMINI_API_KEY).")
    options = parser.parse_args()
    asyncio.run(main(options.auto_review, options.gemini))
