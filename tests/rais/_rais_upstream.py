"""The fake provider behind a scenario-selecting path prefix (``/s/<scenario>/...``)."""

from __future__ import annotations

import json
from typing import Any

from _live import LiveServer
from fakes.fake_provider import FakeProvider

Scope = dict[str, Any]


class ScenarioRouter:
    """Serves `FakeProvider` under ``/s/<scenario>/...``, setting the request's model to it.

    The fake picks its scenario from the request's model name; code that cannot choose the
    model (the seed example) selects a scenario through its base URL instead.
    """

    def __init__(self, fake: FakeProvider) -> None:
        self.fake = fake
        #: The request bodies as the client sent them (before the model was replaced).
        self.original_bodies: list[Any] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/s/"):
            await self.fake(scope, receive, send)
            return
        scenario, _, rest = path[3:].partition("/")
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if isinstance(body, dict):
            self.original_bodies.append(dict(body))
            body["model"] = scenario
            raw = json.dumps(body).encode()
        first = True

        async def replay() -> Any:
            nonlocal first
            if first:
                first = False
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        scope = {**scope, "path": "/" + rest, "raw_path": ("/" + rest).encode()}
        await self.fake(scope, replay, send)


class FakeUpstream:
    """The fake provider plus URLs that select a scenario."""

    def __init__(self) -> None:
        self.fake = FakeProvider()
        self.router = ScenarioRouter(self.fake)
        self.server = LiveServer(self.router)

    def fake_url(self, path: str) -> str:
        """A URL served by the fake directly (the request's model picks the scenario)."""
        return self.server.url(path)

    def openai_base_url(self, scenario: str = "text") -> str:
        return self.server.url(f"/s/{scenario}/v1")

    def anthropic_base_url(self, scenario: str = "text") -> str:
        return self.server.url(f"/s/{scenario}")

    def base_url(self, provider: str, scenario: str = "text") -> str:
        if provider == "openai":
            return self.openai_base_url(scenario)
        return self.anthropic_base_url(scenario)
