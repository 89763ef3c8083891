"""Load and soak: many concurrent streams against uvicorn on 127.0.0.1, every protocol at once.

Each wave starts ``--streams`` streams over every registered protocol, with steady and bursty
producers; one stream in ten reads slowly and one in ten aborts after its first read. Every
stream that was read to its end is decoded with the library's decoder and must hold exactly the
tokens the server sent (none lost, none duplicated). The server reports its CPU, RSS, file
descriptors and live tasks; after the last wave they must be back where they started.

    .venv/bin/python benchmarks/load.py                    # the short profile (seconds)
    .venv/bin/python benchmarks/load.py --profile long     # 1,000 streams at 20 tokens/s, 10 min
    .venv/bin/python benchmarks/load.py --streams 200 --tokens 400 --interval 0.005 --minutes 1

The scale targets (issue 14), each against a minimal Starlette ``StreamingResponse`` baseline
measured in the same run on its own fresh server process (see `_scale.py`):

    .venv/bin/python benchmarks/load.py --scale quick      # 10k idle, 1k active, 1-min soak
    .venv/bin/python benchmarks/load.py --scale long       # the same with a 10-min soak
    .venv/bin/python benchmarks/load.py --scale quick --only idle,active

Loopback only, bounded in count and time. ``--json`` prints the report as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _load_common import check_tokens, free_port, percentile, start_server, stop_server

from assistant_stream_ce import accumulate
from assistant_stream_ce.serialization import PROTOCOLS

HERE = Path(__file__).resolve().parent
PROFILES = {
    "short": {"streams": 60, "tokens": 120, "interval": 0.002, "minutes": 0.0},
    "long": {"streams": 1000, "tokens": 1200, "interval": 0.05, "minutes": 10.0},
}


@dataclass
class Result:
    protocol: str
    kind: str  # "normal", "slow", "abort", "bursty"
    ttfb: float | None = None
    gaps: list[float] = field(default_factory=list)
    complete: bool = False
    lost: int = 0
    duplicated: int = 0
    error: str | None = None


async def one_stream(
    client: httpx.AsyncClient, base: str, protocol: str, kind: str, tokens: int, interval: float
) -> Result:
    result = Result(protocol, kind)
    burst = 10 if kind == "bursty" else 1
    params = {"tokens": tokens, "interval": interval * burst, "burst": burst}
    body = {"messages": [{"role": "user", "content": "load"}]}
    started = time.perf_counter()
    pieces: list[bytes] = []
    try:
        async with client.stream(
            "POST", f"{base}/stream/{protocol}", params=params, json=body
        ) as response:
            last = None
            async for data in response.aiter_bytes():
                now = time.perf_counter()
                if result.ttfb is None:
                    result.ttfb = now - started
                elif last is not None:
                    result.gaps.append(now - last)
                last = now
                pieces.append(data)
                if kind == "abort":
                    return result
                if kind == "slow":
                    await asyncio.sleep(0.02)
    except httpx.HTTPError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    message = accumulate(PROTOCOLS[protocol].decoder().decode(b"".join(pieces)))
    result.lost, result.duplicated = check_tokens(message.text, tokens)
    result.complete = not message.errors and result.lost == 0
    return result


async def server_stats(client: httpx.AsyncClient, base: str) -> dict[str, Any]:
    response = await client.get(f"{base}/stats")
    stats: dict[str, Any] = response.json()
    return stats


async def run_load(args: argparse.Namespace, base: str) -> dict[str, Any]:
    protocols = list(PROTOCOLS)
    kinds = ["normal"] * 6 + ["bursty"] * 2 + ["slow", "abort"]
    limits = httpx.Limits(max_connections=args.streams + 10, max_keepalive_connections=0)
    timeout = httpx.Timeout(60.0, connect=30.0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        baseline = await server_stats(client, base)
        samples: list[dict[str, Any]] = [baseline]
        results: list[Result] = []
        deadline = time.monotonic() + args.minutes * 60
        waves = 0
        while True:
            jobs = [
                one_stream(
                    client,
                    base,
                    protocols[i % len(protocols)],
                    kinds[i % len(kinds)],
                    args.tokens,
                    args.interval,
                )
                for i in range(args.streams)
            ]
            wave = asyncio.gather(*jobs)
            while not wave.done():
                await asyncio.wait([wave], timeout=1.0)
                samples.append(await server_stats(client, base))
            results += wave.result()
            waves += 1
            if time.monotonic() >= deadline:
                break
        await asyncio.sleep(1.0)  # let cancelled runs finish their grace period
        final = await server_stats(client, base)
    return {
        "baseline": baseline,
        "samples": samples,
        "final": final,
        "results": results,
        "waves": waves,
    }


def report(args: argparse.Namespace, outcome: dict[str, Any], wall: float) -> dict[str, Any]:
    results: list[Result] = outcome["results"]
    read_through = [r for r in results if r.kind != "abort"]
    baseline, final = outcome["baseline"], outcome["final"]
    rss = [sample["rss"] for sample in outcome["samples"]] + [final["rss"]]
    ttfb = [r.ttfb for r in results if r.ttfb is not None]
    gaps = [gap for r in results if r.kind in ("normal", "bursty") for gap in r.gaps]
    return {
        "profile": args.profile,
        "streams_per_wave": args.streams,
        "waves": outcome["waves"],
        "streams": len(results),
        "protocols": sorted({r.protocol for r in results}),
        "wall_seconds": round(wall, 2),
        "complete": sum(1 for r in read_through if r.complete),
        "expected_complete": len(read_through),
        "errors": sorted({r.error for r in results if r.error})[:5],
        "lost_tokens": sum(r.lost for r in read_through),
        "duplicated_tokens": sum(r.duplicated for r in read_through),
        "ttfb_ms": {"p50": percentile(ttfb, 0.5) * 1e3, "p99": percentile(ttfb, 0.99) * 1e3},
        "gap_ms": {"p50": percentile(gaps, 0.5) * 1e3, "p99": percentile(gaps, 0.99) * 1e3},
        "server_cpu_seconds": round(final["cpu"] - baseline["cpu"], 3),
        "rss_mib": {
            "start": round(rss[0] / 2**20, 1),
            "peak": round(max(rss) / 2**20, 1),
            "end": round(rss[-1] / 2**20, 1),
            "median": round(statistics.median(rss) / 2**20, 1),
        },
        "tasks": {"start": baseline["tasks"], "end": final["tasks"]},
        "fds": {"start": baseline["fds"], "end": final["fds"]},
        "outcomes": final["outcomes"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="short")
    parser.add_argument("--streams", type=int)
    parser.add_argument("--tokens", type=int)
    parser.add_argument("--interval", type=float, help="seconds between tokens")
    parser.add_argument("--minutes", type=float, help="keep starting waves for this long")
    parser.add_argument("--json", action="store_true")
    scale = parser.add_argument_group("scale targets (ours vs the StreamingResponse baseline)")
    scale.add_argument("--scale", choices=["quick", "long"], help="run the scale targets")
    scale.add_argument("--only", default="idle,active,soak", help="scenarios, comma-separated")
    scale.add_argument("--idle-streams", type=int)
    scale.add_argument("--idle-hold", type=float, help="seconds the idle streams stay open")
    scale.add_argument("--active-streams", type=int)
    scale.add_argument("--active-tokens", type=int, help="tokens per active stream")
    scale.add_argument("--soak-minutes", type=float)
    scale.add_argument(
        "--http",
        choices=["h11", "httptools"],
        default="h11",
        help="uvicorn's HTTP implementation for both servers (httptools: uvicorn[standard])",
    )
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 10,000 client sockets
    if args.scale:
        return scale_main(parser, args)
    for key, value in PROFILES[args.profile].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if not 0 < args.streams <= 20_000 or not 0 < args.tokens <= 100_000:
        parser.error("streams must be in 1..20000 and tokens in 1..100000")
    port = free_port()
    server = start_server(port)
    try:
        started = time.perf_counter()
        outcome = asyncio.run(run_load(args, f"http://127.0.0.1:{port}"))
        summary = report(args, outcome, time.perf_counter() - started)
    finally:
        stop_server(server)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for key, value in summary.items():
            print(f"{key:22} {value}")
    ok = (
        summary["complete"] == summary["expected_complete"]
        and summary["lost_tokens"] == 0
        and summary["duplicated_tokens"] == 0
        and summary["tasks"]["end"] <= summary["tasks"]["start"]
    )
    return 0 if ok else 1


def scale_main(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    import _scale

    only = [name.strip() for name in args.only.split(",") if name.strip()]
    if not only or any(name not in _scale.SCENARIOS for name in only):
        parser.error(f"--only takes scenarios from {', '.join(_scale.SCENARIOS)}")
    overrides = {
        "idle_streams": args.idle_streams,
        "idle_hold": args.idle_hold,
        "active_streams": args.active_streams,
        "active_tokens": args.active_tokens,
        "soak_minutes": args.soak_minutes,
        "http": args.http,
    }
    bounded: list[tuple[float | None, float, float]] = [
        (args.idle_streams, 1, 15_000),
        (args.active_streams, 1, 5_000),
    ]
    bounded += [(args.active_tokens, 1, 20_000), (args.soak_minutes, 0.05, 30)]
    bounded += [(args.idle_hold, 1, 300)]
    for value, low, high in bounded:
        if value is not None and not low <= value <= high:
            parser.error(f"{value} is out of bounds ({low}..{high})")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = (overrides["idle_streams"] or _scale.PROFILES[args.scale]["idle_streams"]) + 200
    if "idle" in only and hard < needed:
        parser.error(f"the fd limit ({hard}) is below the {needed} the idle scenario needs")
    outcome = _scale.run_scale(args.scale, only, overrides)
    if args.json:
        print(json.dumps(outcome, indent=2))
    else:
        for name, variants in outcome["results"].items():
            for variant, figures in variants.items():
                print(f"\n{name} / {variant}")
                for key, value in figures.items():
                    print(f"  {key:26} {value}")
        print()
        _scale.print_table(outcome["targets"])
    return 0 if all(row["result"] != "FAIL" for row in outcome["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
