"""Fixtures for the RAIS tests: the fake provider behind a scenario-selecting path prefix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _rais_upstream import FakeUpstream


@pytest.fixture(scope="session")
def _upstream_server() -> Iterator[FakeUpstream]:
    upstream = FakeUpstream()
    upstream.server.start()
    yield upstream
    upstream.server.stop()


@pytest.fixture
def upstream(_upstream_server: FakeUpstream) -> FakeUpstream:
    """The fake OpenAI/Anthropic server (shared; its records reset per test)."""
    _upstream_server.fake.reset()
    _upstream_server.router.original_bodies.clear()
    return _upstream_server


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set the provider environment they need; none leaks in from the machine."""
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
