"""The demo page in a real headless Chromium against the demo served by uvicorn.

Screenshots go to ``test-artifacts/browser/``. Without ``/usr/bin/chromium`` the tests are
skipped — unless ``CI`` is set, where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from _live import LiveServer
from assistant_stream_ce.demo import DemoConfig, create_app
from assistant_stream_ce.requests import parse_request
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


# -- whole conversations: approvals, client tools, history ------------------------------------

#: The page's tabs whose protocol can carry an approval's answer (RAIS cannot).
APPROVING = ["ui-message-stream", "data-stream", "assistant-transport", "ag-ui", "openai"]
BOOKING = "Book a table in Lyon for 4 people at 8pm"
CARD = ".tool-card:has(.tool-name:text-is('{name}'))"


def _chat_bodies(page: Any) -> list[Any]:
    """Every chat request body the page sends from now on (appended as they go)."""
    bodies: list[Any] = []
    page.on(
        "request",
        lambda request: (
            bodies.append(request.post_data_json) if "/api/chat/" in request.url else None
        ),
    )
    return bodies


def _ask(page: Any, text: str) -> None:
    page.fill("#input", text)
    page.press("#input", "Enter")


def _reply_text(page: Any) -> str:
    return "".join(page.locator(f"{LAST} .part-text").all_inner_texts())


@pytest.mark.parametrize("decision", ["approve", "deny"])
@pytest.mark.parametrize("fmt", APPROVING)
def test_a_booking_waits_for_approve_or_deny_and_continues(
    page: Any, server: LiveServer, fmt: str, decision: str
) -> None:
    _open(page, server, "?pace=0")
    page.click(f'[data-format="{fmt}"]')
    bodies = _chat_bodies(page)
    _ask(page, BOOKING)
    card = page.locator(CARD.format(name="book_table"))
    card.locator("button.approve").wait_for()
    assert card.get_attribute("data-state") == "awaiting"
    assert card.locator(".tool-result-box").is_hidden()  # the booking has not run
    page.screenshot(path=str(ARTIFACTS / f"approval-{fmt}.png"), full_page=True)

    card.locator(f"button.{decision}").click()
    state = "result" if decision == "approve" else "denied"
    page.wait_for_selector(f"{CARD.format(name='book_table')}[data-state={state}]")
    page.wait_for_selector(f"{LAST}[data-status=done]")
    assert len(bodies) == 2  # the question, then the answer in the protocol's own shape
    answer = parse_request(bodies[1], protocol=fmt)
    [given] = answer.answers
    approved = given.approved if given.kind == "approval" else given.result["approved"]
    assert approved is (decision == "approve")
    result = card.locator(".tool-result").inner_text()
    if decision == "approve":
        if fmt == "openai":  # no tool results on this wire: the model's reply has it
            assert result.startswith("Approved: it ran on the server")
            result = _reply_text(page).removeprefix("The tool returned: ")
        booked = json.loads(result)
        assert booked["booked"] is True
        assert (booked["city"], booked["people"], booked["time"]) == ("Lyon", 4, "8pm")
        assert _reply_text(page).startswith("The tool returned: {")
    else:
        assert result.startswith("The user denied this tool call.")
        assert "The tool returned: The user denied this tool call." in _reply_text(page)
    assert page.locator(".part-error").count() == 0
    assert card.locator("button.approve").is_hidden()  # answered: the buttons are gone


def test_rais_says_it_cannot_ask_for_approval(page: Any, server: LiveServer) -> None:
    _open(page, server, "?pace=0")
    page.click('[data-format="rais"]')
    _ask(page, BOOKING)
    page.wait_for_selector(f"{LAST}[data-status=done]")
    assert "[book_table needs a person's approval before it runs" in _reply_text(page)
    assert page.locator("button.approve").count() == 0


@pytest.mark.parametrize("fmt", APPROVING)
def test_a_client_tool_is_answered_by_the_page_and_the_run_continues(
    page: Any, server: LiveServer, fmt: str
) -> None:
    _open(page, server, "?pace=0")
    page.click(f'[data-format="{fmt}"]')
    bodies = _chat_bodies(page)
    _ask(page, "What is there to do near me?")
    card = page.locator(CARD.format(name="get_location"))
    page.wait_for_function("document.querySelectorAll('#messages .msg.assistant').length === 2")
    page.wait_for_selector(f"{LAST}[data-status=done]")
    location = json.loads(card.locator(".tool-result").inner_text())
    assert location["city"] == "Lyon"
    assert len(bodies) == 2
    [given] = parse_request(bodies[1], protocol=fmt).answers
    assert given.kind == "result" and given.result["city"] == "Lyon"
    reply = _reply_text(page)
    assert reply.startswith("The tool returned: {") and '"Lyon"' in reply


@pytest.mark.parametrize("fmt", list(PROTOCOLS))
def test_a_second_turn_carries_the_first(page: Any, server: LiveServer, fmt: str) -> None:
    _open(page, server, "?pace=0")
    page.click(f'[data-format="{fmt}"]')
    bodies = _chat_bodies(page)
    _ask(page, "What's the weather in Oslo?")
    page.wait_for_selector(f"{LAST}[data-status=done]")
    first_reply = _reply_text(page)
    assert "Oslo" in first_reply
    _ask(page, "And in Rome?")
    page.wait_for_function("document.querySelectorAll('#messages .msg.assistant').length === 2")
    page.wait_for_selector(f"{LAST}[data-status=done]")
    assert "Rome" in _reply_text(page)
    second = parse_request(bodies[1], protocol=fmt)
    if fmt == "assistant-transport":
        # the conversation is kept on the server, by thread: the request adds the new message
        assert [m["content"] for m in second.messages] == ["And in Rome?"]
        stored = server.app.state.threads.load(second.thread_id)
        texts = [m.get("content") for m in stored]
        assert texts[0] == "What's the weather in Oslo?" and "And in Rome?" in texts
        assert any(isinstance(t, str) and "Oslo" in t and t in first_reply for t in texts[1:])
    else:
        users = [m["content"] for m in second.messages if m["role"] == "user"]
        assert users == ["What's the weather in Oslo?", "And in Rome?"]
        replies = [m.get("content") for m in second.messages if m["role"] == "assistant"]
        assert any(isinstance(t, str) and t and t in first_reply for t in replies), replies
