"""The review page in a real headless Chromium (Debian's, driven by Playwright) against a real
`studio-mcp serve --http`: the queue, the take playing with its findings, a break time that seeks
the player, a rejection with a note, and the same state through the MCP tools; bad requests and
cross-site posts that change nothing; and `studio-mcp review`, the page alone for one local user."""

from __future__ import annotations

import html
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from bench.synthetic_clips import make_clip
from tests.conftest import BIN, RunningServer, make_workdir, start_http_server, stop
from tests.helpers import call, make_production

CHROMIUM = "/usr/bin/chromium"
NOTE = "The jacket changes colour mid-shot; hold the navy jacket through the whole take."

CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason=f"{CHROMIUM} is missing: install Debian's chromium"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    workdir = make_workdir(tmp_path_factory.mktemp("review-page"))
    make_clip("jacket", workdir / "jacket.mp4", seed=3, duration_s=3.5)
    running = start_http_server(workdir)
    yield running
    stop(running.proc)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield launched
        await launched.close()


async def checked_take(server: RunningServer, name: str) -> tuple[str, dict[str, Any]]:
    """A production whose shot 1/1 has a media-checked take (a planted jacket change) in review."""
    async with server.client() as client:
        pid = await make_production(
            client,
            name,
            shots={"1": [{"number": 1, "description": "Mara coils rope on the deck.", "characters": ["Mara"]}]},
        )
        checked = await call(client, "continuity_check_media", production=pid, path="jacket.mp4", shot="1/1")
        await call(client, "review_submit", asset=checked["asset"], note="look at the jacket")
    return pid, checked


def shown(response: httpx.Response) -> str:
    """The page's text as a reader sees it (quotes are HTML-escaped in the markup)."""
    return html.unescape(response.text)


def base(server: RunningServer) -> str:
    return server.url.removesuffix("/mcp")


@needs_chromium
async def test_a_reviewer_seeks_to_a_break_and_rejects_with_a_note(server: RunningServer, browser: Browser) -> None:
    pid, checked = await checked_take(server, "Page Review")
    asset = checked["asset"]
    [finding] = [f for f in checked["findings"] if f["time_s"] is not None][:1]
    page = await browser.new_page()

    await page.goto(f"{base(server)}/review/{pid}")
    assert await page.locator(f"a[href$='/{asset}']").count() == 1
    assert "Review approved" in await page.locator("#pipeline").inner_text()  # issue 12's chart, drawn
    assert await page.locator("#pipeline svg rect").count() == 10
    await page.click(f"a[href$='/{asset}']")

    assert await page.locator("video#player").count() == 1
    assert finding["rule"] in await page.locator("#findings").inner_text()
    assert "Mara coils rope on the deck." in await page.locator("#shot").inner_text()
    await page.wait_for_function(
        "() => document.getElementById('player').readyState >= 1", timeout=20_000
    )  # metadata loaded: the player knows the duration and can seek
    link = page.locator("a.seek").first
    target = float(await link.get_attribute("data-t") or "nan")
    assert abs(target - finding["time_s"]) < 0.01
    assert target > 0.5  # so that a player left at 0 cannot pass for one that moved
    assert await page.evaluate("() => document.getElementById('player').currentTime") < 0.1
    await link.click()
    position = await page.evaluate("() => document.getElementById('player').currentTime")
    assert abs(position - target) < 0.1

    await page.check("input[value=reject]")
    await page.fill("textarea[name=notes]", NOTE)
    await page.fill("input[name=reviewer]", "Dana")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**/review/{pid}/{asset}")
    assert "rejected" in (await page.locator("h1 .status").inner_text()).lower()
    assert NOTE in await page.locator("#history").inner_text()

    async with server.client() as client:
        review = await call(client, "review_get", review=asset)
        assert review["status"] == "rejected" and review["decisions"][-1]["notes"] == NOTE
        assert review["decisions"][-1]["reviewer"] == "Dana"
        queue = await call(client, "review_queue", production=pid, status="rejected")
        assert [r["asset"] for r in queue["reviews"]] == [asset]


async def test_cross_site_posts_and_bad_requests_change_nothing(server: RunningServer) -> None:
    pid, checked = await checked_take(server, "Page Guard")
    asset = checked["asset"]
    other, _ = await checked_take(server, "Page Guard Other")
    url = f"{base(server)}/review/{pid}/{asset}/decide"
    host = httpx.URL(base(server)).netloc.decode()
    own = {"Origin": f"http://{host}"}
    async with httpx.AsyncClient(timeout=30) as http:
        evil = await http.post(
            url, data={"decision": "approve", "notes": ""}, headers={"Origin": "http://evil.example"}
        )
        assert evil.status_code == 403
        no_origin = await http.post(url, data={"decision": "approve", "notes": ""})
        assert no_origin.status_code == 403
        # another page on loopback (another port) is another origin, though the Host check lets it through
        sibling = await http.post(url, data={"decision": "approve"}, headers={"Origin": "http://127.0.0.1:1"})
        assert sibling.status_code == 403 and "Cross-site" in shown(sibling)
        fetched = await http.post(url, data={"decision": "approve"}, headers={**own, "Sec-Fetch-Site": "same-site"})
        assert fetched.status_code == 403
        bad = await http.post(url, data={"decision": "reject", "notes": ""}, headers=own)
        assert bad.status_code == 400 and "needs notes" in shown(bad)
        word = await http.post(url, data={"decision": "maybe", "notes": "hm"}, headers=own)
        assert word.status_code == 400 and "Unknown decision 'maybe'" in shown(word)
        elsewhere = await http.post(
            f"{base(server)}/review/{other}/{asset}/decide", data={"decision": "approve"}, headers=own
        )
        assert elsewhere.status_code == 404 and "not in review in production" in shown(elsewhere)
        unknown = await http.post(
            f"{base(server)}/review/{pid}/a_0000000000000000/decide", data={"decision": "approve"}, headers=own
        )
        assert unknown.status_code == 404 and "not in review" in shown(unknown)
        nowhere = await http.post(
            f"{base(server)}/review/no-such-production/{asset}/decide", data={"decision": "approve"}, headers=own
        )
        assert nowhere.status_code == 404 and "no-such-production" in shown(nowhere)
        missing = await http.get(f"{base(server)}/review/no-such-production")
        assert missing.status_code == 404 and "no-such-production" in shown(missing)
        missing_take = await http.get(f"{base(server)}/review/{pid}/a_0000000000000000")
        assert missing_take.status_code == 404 and "not in review" in shown(missing_take)
        status = await http.get(f"{base(server)}/review/{pid}?status=done")
        assert status.status_code == 400 and "Unknown review status" in shown(status)
        huge = await http.post(url, data={"decision": "reject", "notes": "x" * 70_000}, headers=own)
        assert huge.status_code == 413
        assert (await http.get(f"{base(server)}/review/{pid}/{asset}")).status_code == 200
    async with server.client() as client:
        review = await call(client, "review_get", review=asset)
        assert review["status"] == "in_review" and review["decisions"] == []
        queue = await call(client, "review_queue", production=pid)
        assert queue["counts"]["in_review"] == 1


@needs_chromium
async def test_without_javascript_a_break_link_reloads_at_its_time_and_the_form_decides(
    server: RunningServer, browser: Browser
) -> None:
    pid, checked = await checked_take(server, "Page No Script")
    asset = checked["asset"]
    context = await browser.new_context(java_script_enabled=False)
    page: Page = await context.new_page()
    await page.goto(f"{base(server)}/review/{pid}/{asset}")
    link = page.locator("a.seek").first
    target = await link.get_attribute("data-t")
    await link.click()
    await page.wait_for_url(f"**/review/{pid}/{asset}?t={target}")
    assert (await page.locator("video#player").get_attribute("src") or "").endswith(f"/media#t={target}")

    await page.check("input[value=reject]")
    await page.click("button[type=submit]")  # no notes: refused, the page says why, nothing recorded
    assert "needs notes" in await page.locator("#message").inner_text()
    await page.check("input[value=revise]")
    await page.fill("textarea[name=notes]", "Hold the jacket's navy.")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**/review/{pid}/{asset}")
    assert "revise" in (await page.locator("h1 .status").inner_text()).lower()
    await context.close()
    async with server.client() as client:
        review = await call(client, "review_get", review=asset)
    assert [d["decision"] for d in review["decisions"]] == ["revise"]


async def test_the_page_refuses_to_be_framed_by_another_site(server: RunningServer) -> None:
    pid, checked = await checked_take(server, "Page Frame")
    async with httpx.AsyncClient(timeout=30) as http:
        page = await http.get(f"{base(server)}/review/{pid}/{checked['asset']}")
        media = await http.get(f"{base(server)}/review/{pid}/{checked['asset']}/media", headers={"Range": "bytes=0-99"})
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert media.status_code == 206 and len(media.content) == 100  # the player can seek by ranges


def run_review(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "studio-mcp"), "review", *args],
        cwd=server.workdir,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def start_review(server: RunningServer, *args: str) -> subprocess.Popen[str]:
    """`studio-mcp review` on the server's data directory, its output on a pipe (the URL comes first)."""
    return subprocess.Popen(
        [str(BIN / "studio-mcp"), "review", *args],
        cwd=server.workdir,
        env=server.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def printed_url(proc: subprocess.Popen[str]) -> httpx.URL:
    """The URL `studio-mcp review` prints first."""
    assert proc.stdout is not None
    with anyio.fail_after(120):
        line = ""
        while "?key=" not in line:
            line = await anyio.to_thread.run_sync(proc.stdout.readline)
            assert line, "studio-mcp review exited before printing its URL"
    return httpx.URL(line.strip())


async def test_studio_mcp_review_serves_only_whoever_has_the_printed_url(server: RunningServer) -> None:
    pid, checked = await checked_take(server, "Page Local")
    asset = checked["asset"]
    refused = await anyio.to_thread.run_sync(lambda: run_review(server, "--production", "no-such-film"))
    assert refused.returncode == 2 and "no-such-film" in refused.stderr and "Traceback" not in refused.stderr

    proc = start_review(server, "--production", pid)
    try:
        printed = await printed_url(proc)
        assert printed.host == "127.0.0.1" and printed.path == f"/review/{pid}"
        root = f"http://127.0.0.1:{printed.port}"
        own = {"Origin": root}
        async with httpx.AsyncClient(timeout=30) as stranger:
            # another local user reaches the port, but not the key
            assert (await stranger.get(f"{root}/review/{pid}")).status_code == 401
            assert (await stranger.get(f"{root}/review/{pid}", params={"key": "guess"})).status_code == 401
            post = await stranger.post(f"{root}/review/{pid}/{asset}/decide", data={"decision": "approve"}, headers=own)
            assert post.status_code == 401
            assert (await stranger.get(str(printed), headers={"Host": "evil.example"})).status_code == 421
        async with httpx.AsyncClient(timeout=30) as reviewer:
            opened = await reviewer.get(str(printed))
            assert opened.status_code == 303 and "key=" not in opened.headers["location"]
            cookie = opened.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=strict" in cookie
            queue = await reviewer.get(f"{root}/review/{pid}")
            assert queue.status_code == 200 and asset in queue.text
            cross = await reviewer.post(
                f"{root}/review/{pid}/{asset}/decide",
                data={"decision": "approve"},
                headers={"Origin": "http://127.0.0.1:1"},
            )
            assert cross.status_code == 403
            decided = await reviewer.post(
                f"{root}/review/{pid}/{asset}/decide", data={"decision": "approve", "reviewer": "Ana"}, headers=own
            )
            assert decided.status_code == 303
        async with server.client() as client:
            review = await call(client, "review_get", review=asset)
            assert review["status"] == "approved" and review["decisions"][-1]["reviewer"] == "Ana"
            # embedded Chroma takes one process: the MCP server's outbox flush writes the kit material
            material = review["decisions"][-1]["kit_material"]
            assert material["status"] == "pending" and "MCP server" in material["error"]
            with anyio.fail_after(120):  # the server flushes its outbox every 30 s
                while material["status"] != "written":
                    await anyio.sleep(1)
                    material = (await call(client, "review_get", review=asset))["decisions"][-1]["kit_material"]
            found = await call(
                client, "style_search", query="approved take", kit=material["kit"], kinds=["approved_shot"]
            )
            assert material["source"] in [hit["title"] for hit in found["hits"]]
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        rest, _ = await anyio.to_thread.run_sync(lambda: proc.communicate(timeout=60))
        assert proc.returncode == 0 and "stopped" in rest and "Traceback" not in rest
    finally:
        stop(proc)  # type: ignore[arg-type]


@needs_chromium
async def test_the_printed_url_opens_the_page_in_a_browser_and_decides(server: RunningServer, browser: Browser) -> None:
    pid, checked = await checked_take(server, "Page Local Browser")
    asset = checked["asset"]
    proc = start_review(server)
    try:
        printed = await printed_url(proc)
        assert printed.path == "/review/"
        page = await browser.new_page()
        await page.goto(str(printed))  # as if opened from the terminal: the key becomes a cookie
        assert "key=" not in page.url
        await page.click(f"a[href='/review/{pid}']")
        await page.click(f"a[href$='/{asset}']")
        await page.check("input[value=approve]")
        await page.click("button[type=submit]")
        await page.wait_for_url(f"**/review/{pid}/{asset}")
        assert "approved" in (await page.locator("h1 .status").inner_text()).lower()
        # the same page without the run's key (another browser profile, another local user): refused
        stranger = await browser.new_context()
        refused = await (await stranger.new_page()).goto(f"http://127.0.0.1:{printed.port}/review/{pid}")
        assert refused is not None and refused.status == 401
        await stranger.close()
    finally:
        stop(proc)  # type: ignore[arg-type]
    async with server.client() as client:
        assert (await call(client, "review_get", review=asset))["status"] == "approved"
