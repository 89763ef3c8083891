"""Our STATE_SNAPSHOT/STATE_DELTA events, applied by the client's own ``fast-json-patch``
(``applyPatch(state, delta, validate=true)``, as ``@ag-ui/client`` 1.0 does), give exactly the
state `apply_operation` gives — for random states and operations, including keys with ``/`` and
``~``, list appends and replacements, ``null`` on the way, string appends and refused keys."""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
from typing import Any

import pytest
from test_ag_ui_client import NODE_DIR, ensure_client

from assistant_stream_ce import UpdateStateChunk
from assistant_stream_ce.serialization.ag_ui import AGUIEncoder
from assistant_stream_ce.state import StateOperationError, apply_operation, copy_json_value

pytestmark = pytest.mark.interop

KEYS = ["a", "b", "0", "1", "2", "a/b", "c~d", "~1", "", "constructor", "__proto__", "ü"]


def value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 2 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, -7, 1.5, 2**40])
    if kind in (2, 3):
        return rng.choice(["", "x", "héllo", "a/b~c", "line\u2028sep"])
    if kind in (4, 5):
        return [value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice(KEYS): value(rng, depth + 1) for _ in range(rng.randrange(3))}


def operation(rng: random.Random) -> dict[str, Any]:
    path = [rng.choice(KEYS) for _ in range(rng.randrange(4))]
    if path and rng.random() < 0.3:
        return {"type": "append-text", "path": path, "value": rng.choice(["", "x", "yz"])}
    return {"type": "set", "path": path, "value": value(rng)}


def cases(count: int, seed: int) -> list[tuple[Any, list[list[dict[str, Any]]]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        initial = rng.choice([None, {}, value(rng), {"a": [1, {"b": None}], "log": ""}])
        batches = [[operation(rng) for _ in range(rng.randrange(1, 4))] for _ in range(6)]
        out.append((initial, batches))
    return out


def expected_state(initial: Any, batches: list[list[dict[str, Any]]]) -> Any:
    state = copy_json_value(initial)
    for batch in batches:
        for op in batch:
            with contextlib.suppress(StateOperationError):
                state = apply_operation(state, op)
    return state


def state_events(initial: Any, batches: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    encoder = AGUIEncoder(state=initial)
    frames = []
    for batch in batches:
        frames += encoder.encode_frames([UpdateStateChunk(copy_json_value(batch))])
    frames += encoder.finish_frames()
    events = [json.loads(frame[len(b"data: ") :]) for frame in frames]
    return [e for e in events if e["type"] in ("STATE_SNAPSHOT", "STATE_DELTA")]


def test_the_clients_json_patch_reaches_our_state() -> None:
    node = ensure_client()
    generated = cases(400, seed=10)
    payload = [
        # the client starts from {} when the run has no initial state
        {"initial": {} if initial is None else initial, "events": state_events(initial, batches)}
        for initial, batches in generated
    ]
    deltas = sum(
        1 for case in payload for event in case["events"] if event["type"] == "STATE_DELTA"
    )
    assert deltas > 400  # the cases exercise patches, not only snapshots
    proc = subprocess.run(
        [node, str(NODE_DIR / "apply_patches.mjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    results = json.loads(proc.stdout)
    for (initial, batches), case, result in zip(generated, payload, results, strict=True):
        expected = expected_state(initial, batches)
        if expected is None and not any(e["type"] == "STATE_SNAPSHOT" for e in case["events"]):
            expected = {}  # the client's own empty state was never replaced
        assert result["errors"] == [], (initial, batches)
        assert result["state"] == expected, (initial, batches)
