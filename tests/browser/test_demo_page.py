"""The demo page in a real headless Chromium against the demo served by uvicorn.

Screenshots go to ``test-artifacts/browser/``. Without ``/usr/bin/chromium`` the tests are
skipped — unless ``CI`` is set, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from _live import LiveServer
from assistant_stream_ce.demo import DemoConfig, create_app
from assistant_stream_ce.serialization import PROTOCOLS

pytestmark = pytest.mark.http

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAST = "#messages > .msg.assistant:last-child"
# The chat is scrolled to its end (the newest text is in view).
FOLLOWED = (
    "() => { const s = document.getElementById('scroller');"
    " return s.scrollHeight - s.scrollTop - s.clientHeight < 4; }"
)

# Records the length of the reply's text every time the DOM changes, to see it grow.
WATCH_TEXT = """() => {
  window.__lengths = [];
  const box = document.getElementById("messages");
  new MutationObserver(() => {
    const parts = box.querySelectorAll(".msg.assistant:last-child .part-text");
    const length = Array.from(parts, (p) => p.textContent.length).reduce((a, b) => a + b, 0);
    const seen = window.__lengths;
    if (length && seen[seen.length - 1] !== length) seen.push(length);
  }).observe(box, {subtree: true, childList: true, characterData: true});
}"""


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (install Debian's chromium: apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(create_app(DemoConfig(pace=0.02))).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def _open(page: Any, server: LiveServer, query: str = "") -> None:
    page.goto(server.url("/" + query))
    page.wait_for_selector("body[data-ready=true]")


def test_every_protocol_streams_a_full_reply(page: Any, server: LiveServer) -> None:
    _open(page, server)
    assert page.locator(".chip").count() >= 3
    page.screenshot(path=str(ARTIFACTS / "empty-state.png"))

    for turn, fmt in enumerate(PROTOCOLS.values()):
        page.click(f'[data-format="{fmt.name}"]')
        assert page.get_attribute(f'[data-format="{fmt.name}"]', "aria-checked") == "true"
        page.evaluate(WATCH_TEXT)
        if turn == 0:
            page.click(".chip >> nth=0")
        else:
            page.fill("#input", "And what's the weather in Paris now?")
            page.press("#input", "Enter")
        reply = page.locator(LAST)
        page.wait_for_selector(f"{LAST}[data-status=done]")

        text = reply.locator(".part-text").all_inner_texts()
        assert "".join(text).strip(), f"{fmt.name}: no text"
        lengths = page.evaluate("window.__lengths")
        assert len(lengths) >= 3 and lengths == sorted(lengths), (
            f"{fmt.name}: text did not grow while streaming: {lengths}"
        )
        assert reply.locator(".part-error").count() == 0
        # every reply (not only the first) is followed to its end
        page.wait_for_function(FOLLOWED)

        carries = set(fmt.carries)
        if "reasoning" in carries:
            assert reply.locator("details.part-reasoning .reasoning-text").text_content().strip()
        if "tool-calls" in carries:
            card = reply.locator(".tool-card").first
            assert card.locator(".tool-name").inner_text().strip()
            assert card.locator(".tool-args").inner_text().strip() not in ("", "{}")
            if "tool-results" in carries:
                assert card.locator(".tool-result").inner_text().strip()
                assert card.get_attribute("data-state") == "result"
        if "sources" in carries:
            href = reply.locator("a.source-link").first.get_attribute("href")
            assert href and href.startswith("http")
        if "state" in carries:
            assert page.inner_text("#state-view").strip() not in ("", "{}")
        assert page.inner_text("#stat-status") == "done"
        page.screenshot(path=str(ARTIFACTS / f"reply-{fmt.name}.png"), full_page=True)


def test_stop_cancels_the_run_on_the_server(page: Any, server: LiveServer) -> None:
    before = httpx.get(server.url("/api/stats"), timeout=5).json()["cancelled"]
    _open(page, server, "?pace=0.25")
    page.click('[data-format="data-stream"]')
    page.fill("#input", "What's the weather in Paris?")
    page.press("#input", "Enter")
    page.wait_for_selector(f"{LAST} .reasoning-text:not(:empty)")
    assert page.is_visible("#stop")
    page.click("#stop")
    page.wait_for_selector(f"{LAST}[data-status=stopped]")

    deadline = time.monotonic() + 5
    stats = httpx.get(server.url("/api/stats"), timeout=5).json()
    while stats["cancelled"] <= before and time.monotonic() < deadline:
        time.sleep(0.05)
        stats = httpx.get(server.url("/api/stats"), timeout=5).json()
    assert stats["cancelled"] == before + 1, stats
    last = httpx.get(server.url("/api/runs/last"), timeout=5).json()
    assert last["status"] == "cancelled" and last["ended_early"] == "disconnect"
    page.wait_for_function(
        "document.getElementById('stat-status').textContent.includes('server: cancelled')"
    )
    assert page.is_visible("#send") and not page.is_visible("#stop")
    page.screenshot(path=str(ARTIFACTS / "stopped.png"), full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(ARTIFACTS / "stopped-dark.png"), full_page=True)
