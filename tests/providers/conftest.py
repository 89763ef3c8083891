from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.fake_provider import FakeProvider


@pytest.fixture(scope="module")
def _fake_provider_server() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


@pytest.fixture
def fake_provider(_fake_provider_server: FakeProvider) -> FakeProvider:
    """The fake OpenAI/Anthropic server (shared per module, its records reset per test)."""
    _fake_provider_server.reset()
    return _fake_provider_server
