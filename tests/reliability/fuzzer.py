"""A schema-driven fuzzer of every tool, over a real MCP client session.

Inputs come from each tool's own `inputSchema` (hypothesis-jsonschema's `from_schema`), mixed with
hostile values (huge strings, control characters, NUL bytes, path traversal, deep nesting, wrong
types, unicode oddities) and with real ids of the world the campaign set up first (productions,
shots, jobs, assets, kits, paths), so calls get past the first lookup and reach the code behind it.

Every call is checked for what the contract promises whatever the input: an answer (a result or an
error) within a deadline, an error text that is bounded and carries no traceback, no secret
anywhere in the answer, and a result that matches the tool's output schema. The test
(tests/reliability/test_fuzz.py) runs a few hundred calls; bench/bench_fuzz.py runs ten thousand.
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from mcp import Client
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, Tool

from tests.conftest import stdio_params
from tests.fake_gemini import FakeGeminiControl
from tests.reliability.conftest import OUTSIDE_MARKER, SECRET_VALUES, genai_env, hostile_workdir
from tests.reliability.integrity import all_problems

# The contract bounds what an agent has to read: an error is a few sentences, not an echo of its input.
MAX_ERROR_CHARS = 4000
TRACEBACK_MARKS = ("Traceback (most recent call last)", 'File "/')
# A tool error that says only this did not say what was wrong or how to fix it (an unmapped exception).
UNEXPLAINED = re.compile(r"Error executing tool \S+")

HUGE = 200_000
HOSTILE_STRINGS: list[str] = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x00" * 64,
    "".join(chr(c) for c in range(32)),  # every C0 control character
    "\x7f\x1b[31mred\x1b[0m\r\n",
    "../../../../etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "/etc/passwd",
    "/etc/shadow",
    "~/.ssh/id_rsa",
    "file:///etc/passwd",
    "studio://assets/../../state.sqlite3",
    "studio-data/state.sqlite3",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "escape-link/passwd",  # a symlink in the working directory pointing outside it
    "\u202eevil\u202c",  # right-to-left override
    "\u200b\u200d\ufeff",  # zero-width characters, BOM
    "e\u0301" * 50,  # combining marks
    "\U0001f3ac" * 100,  # astral-plane emoji
    "Ω≈ç√∫˜µ≤≥÷",
    "\ufffd\ufffe\uffff",
    "𝕿𝖍𝖊 𝖋𝖊𝖗𝖗𝖞",
    "' OR 1=1; DROP TABLE productions; --",
    '"; rm -rf / #',
    "${HOME} $(id) `id`",
    "{{7*7}} {0.__class__}",
    "<script>alert(1)</script>",
    "null",
    "NaN",
    "-1",
    "1e999",
    "0x41",
    "vj_0000000000000000",
    "a_00000000000000000000",
    "3/2",
    "0/0",
    "-1/-1",
    "1/99999999999999999999",
    "A" * 10_000,
    "é" * HUGE,
    "x/" * 5_000,
]
HOSTILE_NUMBERS: list[Any] = [
    0,
    -1,
    -0.0,
    1e-320,
    1e308,
    -1e308,
    2**31,
    2**63,
    2**64 + 1,
    -(2**63) - 1,
    10**40,
    math.pi,
    True,
    False,
]


def _nested(depth: int, leaf: Any = 1) -> Any:
    value: Any = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


HOSTILE_SHAPES: list[Any] = [
    None,
    [],
    {},
    [None],
    [""] * 1000,
    ["a"] * 10_000,
    {"": ""},
    {"\x00": "\x00"},
    {"__proto__": {"polluted": True}},
    {"constructor": {"prototype": {}}},
    _nested(50),
    _nested(500),
    _nested(5000),
    [[[[[[[[[["deep"]]]]]]]]]],
    {f"k{i}": i for i in range(2000)},
]


def hostile_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(HOSTILE_STRINGS),
        st.sampled_from(HOSTILE_NUMBERS),
        st.sampled_from(HOSTILE_SHAPES),
        st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
        st.lists(st.sampled_from(HOSTILE_STRINGS[:30]), max_size=5),
    )


# Argument names whose values the campaign knows real examples of (see Pool). performer_cast's
# `character` stays ungrounded on purpose: casting a performer without consent as a character of the
# seeded shots makes every later generation of them refuse (rightly), and the campaign would stop
# reaching generation at all.
KNOWN_KEYS = {
    "production": "productions",
    "shot": "shots",
    "scene": "scenes",
    "from_scene": "scenes",
    "job": "jobs",
    "asset": "assets",
    "first_frame_asset": "assets",
    "kit": "kits",
    "path": "paths",
    "source": "sources",
    "entity": "entities",
    "model": "models",
    "review": "reviews",
    "kind": "kinds",
    "fact_kind": "kinds",
    "fact_entity": "entities",
    "decision": "decisions",
    "performer": "performers",
}
KNOWN_LISTS = {
    "reference_assets": "assets",
    "references": "assets",
    "against": "assets",
    "paths": "paths",
    "entities": "entities",
    "characters": "entities",
}


@dataclass
class Pool:
    """Real values of the world under test, by kind; grows as the campaign creates things."""

    values: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, value: Any) -> None:
        if isinstance(value, str) and value:
            known = self.values.setdefault(kind, [])
            if value not in known:
                known.append(value)

    def strategy(self, kind: str) -> st.SearchStrategy[str]:
        # Drawn by index at call time, so values added after the strategy was built are reachable.
        def pick(i: int) -> str:
            known = self.values.get(kind) or ["none-known"]
            return known[i % len(known)]

        return st.integers(0, 1 << 16).map(pick)

    def learn(self, tool: str, data: dict[str, Any]) -> None:
        """Remember the ids a successful call created."""
        if tool == "production_create":
            self.add("productions", data.get("id"))
        elif tool == "video_generate":
            self.add("jobs", data.get("id"))
        elif tool in ("image_generate",):
            self.add("assets", (data.get("asset") or {}).get("id"))
        elif tool == "style_ingest":
            self.add("kits", data.get("kit"))
            for source in data.get("sources") or []:
                self.add("sources", source.get("source"))
        elif tool == "review_submit":
            self.add("reviews", data.get("id"))
        elif tool == "performer_register":
            self.add("performers", data.get("id"))


def by_schema(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    """Values valid by a JSON schema: hypothesis-jsonschema for the leaves, objects built here.

    hypothesis-jsonschema 0.23.1's object strategy calls a hypothesis internal (`many.more`) that
    hypothesis 6.170 no longer has, so `from_schema` fails on any schema with an object in it."""
    defs = defs if defs is not None else {**schema.get("$defs", {}), **schema.get("definitions", {})}
    if "$ref" in schema:
        return by_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return st.one_of([by_schema(option, defs) for option in schema[key]])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        fixed = st.fixed_dictionaries(
            {name: by_schema(sub, defs) for name, sub in props.items() if name in required},
            optional={name: by_schema(sub, defs) for name, sub in props.items() if name not in required},
        )
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            more = st.dictionaries(st.text(max_size=20), by_schema(extra, defs), max_size=5)
            return st.tuples(fixed, more).map(lambda pair: {**pair[1], **pair[0]})
        return fixed
    if kind == "array":
        items = schema.get("items")
        low = int(schema.get("minItems", 0))
        high = min(int(schema.get("maxItems", low + 6)), low + 6)
        return st.lists(by_schema(items, defs) if isinstance(items, dict) else st.none(), min_size=low, max_size=high)
    return from_schema({k: v for k, v in schema.items() if k not in ("title", "description", "default")})


def arguments(tool: Tool, pool: Pool) -> st.SearchStrategy[Arguments]:
    """Arguments for one tool: valid by its schema, grounded in real ids, or hostile."""
    schema = dict(tool.input_schema)
    props: dict[str, Any] = dict(schema.get("properties") or {})
    valid = by_schema(schema)

    required = set(schema.get("required") or [])

    @st.composite
    def grounded(draw: st.DrawFn, turn_one_hostile: bool) -> dict[str, Any]:
        args = dict(draw(valid))
        if draw(st.booleans()):  # only what is required: the defaults make a call that can succeed
            args = {name: value for name, value in args.items() if name in required}
        for name in props:
            if name in KNOWN_KEYS and draw(st.integers(0, 7)) > 0:
                args[name] = draw(pool.strategy(KNOWN_KEYS[name]))
            elif name in KNOWN_LISTS and draw(st.booleans()):
                args[name] = draw(st.lists(pool.strategy(KNOWN_LISTS[name]), max_size=3))
        if props and turn_one_hostile:
            args[draw(st.sampled_from(sorted(props)))] = draw(hostile_values())
        return args

    @st.composite
    def hostile(draw: st.DrawFn) -> dict[str, Any]:
        names = [*sorted(props), "unknown_argument", "", "__proto__", "\x00"]
        chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
        return {name: draw(hostile_values()) for name in chosen}

    # Mostly grounded calls, which get past the first lookup; then one hostile argument among valid
    # ones; then arguments valid only by the schema; then nothing but hostile values.
    grounded_calls = grounded(turn_one_hostile=False)
    mixes = [grounded_calls, grounded_calls, grounded_calls, grounded(turn_one_hostile=True), valid, hostile()]
    return st.one_of(mixes).map(Arguments)


class Arguments:
    """A call's arguments with a short repr: hypothesis prints its inputs, and some nest 5000 deep."""

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def __repr__(self) -> str:
        return _preview(self.value)[:300]


@dataclass
class Outcome:
    tool: str
    kind: str  # ok | tool_error | protocol_error | timeout | dead | client_refused | invalid_output
    seconds: float
    text: str  # the error text or the result, as the client saw it
    args: str  # the arguments, JSON, cut short
    data: dict[str, Any] | None = None  # the structured result of a successful call


@dataclass
class Campaign:
    """Every call's outcome and every property a call broke, with the shortest examples."""

    secrets: Sequence[str]
    outcomes: list[Outcome] = field(default_factory=list)
    violations: dict[str, list[Outcome]] = field(default_factory=dict)

    def counts(self) -> Counter[tuple[str, str]]:
        return Counter((o.tool, o.kind) for o in self.outcomes)

    def examples(self, prop: str, n: int = 3) -> list[str]:
        found = sorted(self.violations.get(prop, []), key=lambda o: len(o.args))
        return [f"{o.tool}({o.args[:300]}) -> {o.kind}: {o.text[:400]!r}" for o in found[:n]]

    def record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        for prop in self.broken(outcome):
            self.violations.setdefault(prop, []).append(outcome)

    def broken(self, o: Outcome) -> list[str]:
        props = []
        if o.kind in ("timeout", "dead"):
            props.append("answered")
        if o.kind == "invalid_output":
            props.append("output_schema")
        if o.kind in ("tool_error", "protocol_error"):
            if len(o.text) > MAX_ERROR_CHARS:
                props.append("bounded_error")
            if any(mark in o.text for mark in TRACEBACK_MARKS):
                props.append("no_traceback")
            if UNEXPLAINED.fullmatch(o.text.strip()):
                props.append("explained_error")
        if any(secret in o.text for secret in self.secrets):
            props.append("no_secret")
        return props


def _preview(args: dict[str, Any]) -> str:
    try:
        text = json.dumps(args, ensure_ascii=True, default=repr)
    except (ValueError, RecursionError):
        text = f"<arguments too deep to print: keys {sorted(map(str, args))}>"
    return text if len(text) <= 2000 else text[:1000] + f"...<{len(text)} chars>..." + text[-200:]


def _result_text(result: CallToolResult) -> str:
    texts = [getattr(c, "text", "") or "" for c in result.content]
    if result.structured_content is not None:
        texts.append(json.dumps(result.structured_content, default=str))
    return "\n".join(texts)


async def call_once(client: Client, tool: str, args: dict[str, Any], deadline_s: float) -> Outcome:
    """One call, classified; never raises."""
    preview = _preview(args)
    start = time.monotonic()

    def done(kind: str, text: str, data: dict[str, Any] | None = None) -> Outcome:
        return Outcome(tool, kind, time.monotonic() - start, text, preview, data)

    try:
        with anyio.fail_after(deadline_s):
            result = await client.call_tool(tool, args, read_timeout_seconds=deadline_s)
    except TimeoutError:
        return done("timeout", f"no answer within {deadline_s}s")
    except MCPError as exc:
        if "timed out" in str(exc).lower():
            return done("timeout", str(exc))
        if "connection closed" in str(exc).lower():
            return done("dead", str(exc))
        return done("protocol_error", str(exc))
    except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:
        return done("dead", f"{type(exc).__name__}: {exc}")
    except RecursionError as exc:  # our side could not encode the input
        return done("client_refused", f"RecursionError: {str(exc)[:300]}")
    except RuntimeError as exc:  # the SDK's check of structured content against the output schema
        return done("invalid_output", str(exc)[:2000])
    except (TypeError, ValueError) as exc:  # our side could not encode the input
        return done("client_refused", f"{type(exc).__name__}: {str(exc)[:300]}")
    text = _result_text(result)
    if result.is_error:
        return done("tool_error", text)
    return done("ok", text, result.structured_content)


def run(
    portal: anyio.from_thread.BlockingPortal,
    client: Client,
    tools: Sequence[Tool],
    pool: Pool,
    campaign: Campaign,
    calls: int,
    *,
    fuzz_seed: int = 0,
    deadline_s: float = 30.0,
    alive: Callable[[], bool] | None = None,
) -> None:
    """About `calls` calls spread over `tools`, driven by hypothesis from a blocking portal.

    Hypothesis may stop a tool early when its input space is small (a tool with no arguments),
    so rounds repeat with new seeds until the total is reached."""
    target = len(campaign.outcomes) + calls
    round_ = 0
    while len(campaign.outcomes) < target:
        per_tool = max(1, math.ceil((target - len(campaign.outcomes)) / len(tools)))
        before = len(campaign.outcomes)
        for tool in tools:
            _run_tool(portal, client, tool, pool, campaign, per_tool, fuzz_seed * 1000 + round_, deadline_s)
            if alive is not None and not alive():
                return
            if campaign.violations.get("answered") and any(o.kind == "dead" for o in campaign.violations["answered"]):
                return  # the server is gone: nothing more to learn from this session
        round_ += 1
        if len(campaign.outcomes) == before:
            return


def _run_tool(
    portal: anyio.from_thread.BlockingPortal,
    client: Client,
    tool: Tool,
    pool: Pool,
    campaign: Campaign,
    examples: int,
    run_seed: int,
    deadline_s: float,
) -> None:
    @seed(run_seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(arguments(tool, pool))
    def one(args: Arguments) -> None:
        outcome = portal.call(call_once, client, tool.name, args.value, deadline_s)
        campaign.record(outcome)
        if outcome.data is not None:
            pool.learn(tool.name, outcome.data)

    one()


# ----------------------------------------------------------------------------------------------
# The world a campaign starts from, so grounded calls find real things


async def _ok(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    if result.is_error or result.structured_content is None:
        raise RuntimeError(f"setting up the fuzz world: {tool} failed: {_result_text(result)[:500]}")
    return result.structured_content


async def seed_world(client: Client) -> Pool:
    """A kit, a production with shots, ledger facts, an image and a finished video; their ids."""
    pool = Pool()
    ingest = await _ok(client, "style_ingest", {"kit": "fuzz-kit", "paths": ["sample_kit"]})
    pool.learn("style_ingest", ingest)
    production = await _ok(
        client,
        "production_create",
        {
            "name": "Fuzz Ferry",
            "kit": "fuzz-kit",
            "logline": "A ferry pilot carries lanterns across a dark harbour.",
            "tone": "quiet, warm",
            "must_not": ["modern smartphones"],
            "budget_usd": 40,
        },
    )
    pid = production["id"]
    pool.learn("production_create", production)
    shots = [
        {"number": 1, "description": "Mara lights the bow lantern as the ferry leaves.", "duration_s": 8},
        {"number": 2, "description": "Close on the lantern swinging in the wind.", "duration_s": 4},
    ]
    await _ok(client, "shots_save", {"production": pid, "scene": "1", "shots": shots})
    await _ok(
        client,
        "continuity_set",
        {"production": pid, "entity": "Mara", "kind": "character", "attributes": {"coat": "red wool coat"}},
    )
    image = await _ok(client, "image_generate", {"production": pid, "shot": "1/1"})
    pool.learn("image_generate", image)
    job = await _ok(client, "video_generate", {"production": pid, "shot": "1/2", "duration_s": 4})
    pool.learn("video_generate", job)
    view = await _ok(client, "video_job", {"job": job["id"], "wait_s": 20})
    video = (view.get("asset") or {}).get("id")
    pool.add("assets", video)
    # A take in review and a registered performer, so review and consent calls reach their code.
    pool.learn("review_submit", await _ok(client, "review_submit", {"asset": video, "note": "fuzz"}))
    performer = await _ok(client, "performer_register", {"name": "Ana Ruiz", "aliases": ["Ana"]})
    pool.learn("performer_register", performer)
    pool.add("performers", "Ana Ruiz")
    for kind, values in {
        "shots": ["1/1", "1/2", "1/3", "2/1"],
        "scenes": ["1", "2"],
        "kinds": ["character", "prop", "location", "wardrobe", "scene", "guide", "palette"],
        "decisions": ["approve", "reject", "revise"],
        "entities": ["Mara", "lantern", "ferry deck"],
        "models": [
            "veo-3.1-fast-generate-001",
            "veo-3.1-generate-001",
            "veo-2.0-generate-001",
            "imagen-4.0-generate-001",
        ],
        "paths": [
            "sample_kit",
            "sample_kit/style_bible.md",
            "sample_kit/refs/harbour_dusk.png",
            "sample_kit/treatment.pdf",
            ".",
            "escape-link",
            "escape-link/secret.md",
            "studio-data/state.sqlite3",
            "/etc/passwd",
            "../outside/secret.md",
        ],
    }.items():
        for value in values:
            pool.add(kind, value)
    return pool


async def list_tool_names(client: Client, deadline_s: float) -> list[str]:
    """The server still answers tools/list (bypassing the client's cache)."""
    with anyio.fail_after(deadline_s):
        listed = await client.session.list_tools()
    return sorted(t.name for t in listed.tools)


def summary(campaign: Campaign) -> str:
    """Counts per tool and per outcome, then the broken properties with their shortest examples."""
    counts = campaign.counts()
    kinds = sorted({kind for _, kind in counts})
    tools = sorted({tool for tool, _ in counts})
    lines = [f"{'tool':26s}" + "".join(f"{k:>16s}" for k in kinds) + f"{'total':>8s}"]
    for tool in tools:
        row = [counts.get((tool, k), 0) for k in kinds]
        lines.append(f"{tool:26s}" + "".join(f"{n:16d}" for n in row) + f"{sum(row):8d}")
    totals = [sum(counts.get((t, k), 0) for t in tools) for k in kinds]
    lines.append(f"{'all':26s}" + "".join(f"{n:16d}" for n in totals) + f"{sum(totals):8d}")
    slowest = sorted(campaign.outcomes, key=lambda o: -o.seconds)[:3]
    lines.append("slowest: " + ", ".join(f"{o.tool} {o.seconds:.2f}s" for o in slowest))
    for prop, found in sorted(campaign.violations.items()):
        lines.append(f"BROKEN {prop}: {len(found)} calls, e.g.")
        lines.extend(f"    {example}" for example in campaign.examples(prop))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# A whole campaign against a real stdio server


@dataclass
class FuzzRun:
    campaign: Campaign
    tools: list[Tool]
    tools_after: list[str]
    data_dir: Path
    log: Path
    integrity: list[str]
    memory_mb: dict[str, float] = field(default_factory=dict)  # the server's RSS: seeded, after, peak


def server_memory_mb() -> dict[str, float]:
    """Resident and peak memory of the `studio-mcp` process this process started (its stdio server)."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            command = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue  # a process that ended while we looked
        if int(fields["PPid"]) == os.getpid() and b"studio-mcp\x00serve" in command:
            return {name: int(fields[key].split()[0]) / 1024 for name, key in (("rss", "VmRSS"), ("peak", "VmHWM"))}
    return {}


async def settle_jobs(client: Client, data_dir: Path, limit_s: float = 60) -> None:
    """Wait (bounded) until no video job is submitting or pending, so 'stuck' means stuck."""
    with anyio.move_on_after(limit_s):
        while True:
            conn = sqlite3.connect(f"file:{data_dir / 'state.sqlite3'}?mode=ro", uri=True)
            try:
                live = [
                    r[0] for r in conn.execute("SELECT id FROM video_jobs WHERE status IN ('submitting', 'pending')")
                ]
            finally:
                conn.close()
            if not live:
                return
            for job in live:
                await client.call_tool("video_job", {"job": job, "wait_s": 5})


def run_campaign(root: Path, fake: FakeGeminiControl, calls: int, fuzz_seed: int, deadline_s: float) -> FuzzRun:
    """Seed a world, fuzz it, check the server still lists its tools, let jobs finish, stop it."""
    work = hostile_workdir(root)
    data_dir = work / "studio-data"
    log = root / "server-stderr.log"
    params = stdio_params(work, data_dir, **genai_env(fake.url), STUDIO_LOG_LEVEL="INFO")
    campaign = Campaign(secrets=[*SECRET_VALUES, OUTSIDE_MARKER])
    with open(log, "w") as errlog, anyio.from_thread.start_blocking_portal() as portal:
        session = Client(stdio_client(params, errlog=errlog), read_timeout_seconds=120)
        with portal.wrap_async_context_manager(session) as client:
            tools = list(portal.call(client.list_tools).tools)
            pool = portal.call(seed_world, client)
            seeded = server_memory_mb()
            run(portal, client, tools, pool, campaign, calls, fuzz_seed=fuzz_seed, deadline_s=deadline_s)
            listed = portal.call(lambda: list_tool_names(client, deadline_s))
            portal.call(settle_jobs, client, data_dir)
            after = server_memory_mb()
    memory = {"seeded": seeded.get("rss", 0.0), "after": after.get("rss", 0.0), "peak": after.get("peak", 0.0)}
    return FuzzRun(campaign, tools, listed, data_dir, log, all_problems(data_dir), memory)
