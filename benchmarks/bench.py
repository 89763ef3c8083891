"""Benchmarks: ours (assistant_stream_ce) vs the anchor (assistant_stream 0.0.36) vs a
hand-written minimal async generator. See README.md beside this file.

Usage: ``python benchmarks/bench.py [--reps N] [--quick] [--only a,b,c,d,e] [--json OUT]``
(``benchmarks/run.sh`` sets up the environment and runs this).

In-process scenarios (a, b, c) run every measurement in a fresh subprocess (this file with
``--worker SPEC``) so that the implementations' module state, caches and heap never meet.
HTTP scenarios (d, e) run one uvicorn server subprocess per implementation on 127.0.0.1
(``_server_app.py``) and read the server's CPU time from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib.util
import json
import os
import platform
import select
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import (  # noqa: E402
    DECODERS,
    IMPLS,
    PROTOCOLS,
    Decoded,
    as_text,
    check_decoded,
    load_impl,
    make_delta_100,
    make_tokens,
    minimal_stream,
    mixed_callback,
    mixed_expected,
    nbytes,
    text_callback,
)

VARIANTS: tuple[str, ...] = ("no-await", "await-sleep0")
WORKER_TIMEOUT = 600.0
MEMORY_RETAINED_OK = 64 * 1024  # bytes still traced after close + gc that count as "~0"


# ============================================================================================
# Sizes


@dataclass
class Sizes:
    a_tokens: int = 200_000
    b_runs: int = 500
    c_deltas: int = 100_000
    c_seconds: float = 1.0
    c_interval: float = 0.001
    d_tokens: int = 20_000
    e_streams: int = 200
    e_tokens: int = 500
    e_pause: float = 0.001

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            a_tokens=20_000,
            b_runs=50,
            c_deltas=10_000,
            c_seconds=0.2,
            d_tokens=2_000,
            e_streams=20,
            e_tokens=100,
        )


# ============================================================================================
# Workers (run in a subprocess: ``bench.py --worker '<json spec>'``)


def _pause_for(variant: str) -> float | None:
    return None if variant == "no-await" else 0.0


async def _consume(stream: Any, out: list[Any]) -> None:
    append = out.append
    async for piece in stream:
        append(piece)


async def worker_probe(spec: dict[str, Any]) -> dict[str, Any]:
    impl = load_impl(spec["impl"])
    encoder = impl.encoders["data-stream"]()
    return {"iter_bytes": hasattr(encoder, "iter_bytes")}


async def worker_throughput(spec: dict[str, Any]) -> dict[str, Any]:
    """(a): ``n`` text deltas through create_run + one encoder, fully consumed."""
    name, protocol, variant, n = spec["impl"], spec["protocol"], spec["variant"], spec["n"]
    pause = _pause_for(variant)
    tokens = make_tokens(n, seed=1)
    warm = make_tokens(2_000, seed=2)

    if name == "minimal":

        def make(toks: list[str]) -> Any:
            return minimal_stream(protocol, toks, pause)
    else:
        impl = load_impl(name)

        def make(toks: list[str]) -> Any:
            return impl.encode(protocol, impl.create_run(text_callback(toks, pause)))

    await _consume(make(warm), [])
    out: list[Any] = []
    gc.collect()
    t0 = time.perf_counter()
    await _consume(make(tokens), out)
    seconds = time.perf_counter() - t0
    result: dict[str, Any] = {
        "seconds": seconds,
        "tok_per_s": n / seconds,
        "frames": len(out),
        "bytes": nbytes(out),
    }
    if spec.get("verify"):
        got = DECODERS[protocol](as_text(out))
        result["problems"] = check_decoded(protocol, got, Decoded(text="".join(tokens), done=True))
    return result


async def worker_mixed(spec: dict[str, Any]) -> dict[str, Any]:
    """(b): ``runs`` mixed runs, each fully encoded."""
    impl = load_impl(spec["impl"])
    protocol, runs = spec["protocol"], spec["runs"]
    callback = mixed_callback(spec["variant"] == "await-sleep0")

    first: list[Any] = []
    await _consume(impl.encode(protocol, impl.create_run(callback)), first)
    problems = check_decoded(protocol, DECODERS[protocol](as_text(first)), mixed_expected())
    for _ in range(10):  # warm-up
        await _consume(impl.encode(protocol, impl.create_run(callback)), [])

    frames = 0
    size = 0
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(runs):
        out: list[Any] = []
        await _consume(impl.encode(protocol, impl.create_run(callback)), out)
        frames += len(out)
        size += len(out) and nbytes(out)
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "runs_per_s": runs / seconds,
        "frames_per_run": frames / runs,
        "bytes_per_run": size / runs,
        "problems": problems,
    }


async def worker_memory(spec: dict[str, Any]) -> dict[str, Any]:
    """(c): a producer appends ``n`` distinct 100-byte deltas without awaiting; the consumer
    reads one encoded frame per ``interval`` for ``duration`` s, then closes the stream."""
    impl = load_impl(spec["impl"])
    protocol, n = spec["protocol"], spec["n"]
    duration, interval = spec["duration"], spec["interval"]

    def producer(count: int) -> Callable[[Any], Any]:
        async def run(controller: Any) -> None:
            append = controller.append_text
            for i in range(count):
                append(make_delta_100(i))

        return run

    async def settle() -> None:
        # let cancelled tasks and async-generator finalizers run, then collect
        for _ in range(3):
            await asyncio.sleep(0.1)
            gc.collect()

    # warm-up: lazy imports, caches, the early-close path
    warm = impl.encode(protocol, impl.create_run(producer(100)))
    await warm.__anext__()
    await warm.aclose()  # type: ignore[attr-defined]
    del warm
    await settle()

    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    stream = impl.encode(protocol, impl.create_run(producer(n)))
    loop = asyncio.get_running_loop()
    # The producer never awaits, so it runs to completion (slowly, under tracemalloc) before
    # the first frame arrives: the reading window starts at the first frame.
    first = await stream.__anext__()
    frames_read = 1
    bytes_read = len(first)
    del first
    deadline = loop.time() + duration
    ended_early = False
    while loop.time() < deadline:
        await asyncio.sleep(interval)
        try:
            frame = await stream.__anext__()
        except StopAsyncIteration:
            ended_early = True
            break
        frames_read += 1
        bytes_read += len(frame)
        del frame
    await stream.aclose()  # type: ignore[attr-defined]
    peak = tracemalloc.get_traced_memory()[1] - baseline
    del stream
    await settle()
    retained = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()
    return {
        "peak": peak,
        "retained": retained,
        "frames_read": frames_read,
        "bytes_read": bytes_read,
        "ended_early": ended_early,
    }


WORKERS = {
    "probe": worker_probe,
    "a": worker_throughput,
    "b": worker_mixed,
    "c": worker_memory,
}


def worker_main(spec_json: str) -> int:
    spec = json.loads(spec_json)
    result = asyncio.run(WORKERS[spec["scenario"]](spec))
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# ============================================================================================
# Orchestrator helpers


@dataclass
class Cell:
    """All repetitions of one measurement."""

    values: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def median(self, key: str) -> float | None:
        xs = [float(v[key]) for v in self.values if v.get(key) is not None]
        return statistics.median(xs) if xs else None

    def problems(self) -> list[str]:
        out: list[str] = []
        for v in self.values:
            out.extend(v.get("problems") or [])
        return out


class Results:
    def __init__(self) -> None:
        self.cells: dict[tuple[str, ...], Cell] = {}
        self.reported_errors: set[tuple[str, str]] = set()

    def cell(self, *key: str) -> Cell:
        return self.cells.setdefault(key, Cell())

    def add(self, key: tuple[str, ...], value: dict[str, Any] | None, error: str | None) -> None:
        cell = self.cell(*key)
        if value is not None:
            cell.values.append(value)
        if error is not None:
            cell.errors.append(error)
            tag = (key[0], key[1])
            if tag not in self.reported_errors:
                self.reported_errors.add(tag)
                print(f"  ! {key[1]} failed in scenario {key[0]}: {error}", flush=True)

    def to_json(self) -> dict[str, Any]:
        return {
            "/".join(k): {"values": c.values, "errors": c.errors} for k, c in self.cells.items()
        }


def run_worker(spec: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT,
            cwd=str(HERE),
        )
    except subprocess.TimeoutExpired:
        return None, f"timed out after {WORKER_TIMEOUT:.0f}s"
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:]), None
    tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    return None, f"exit {proc.returncode}: {tail}"


def fmt_num(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "—"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e4:
        return f"{x / 1e3:.1f}k"
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def fmt_bytes(x: float | None) -> str:
    if x is None:
        return "—"
    sign = "-" if x < 0 else ""
    x = abs(x)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if x < 1024 or unit == "GiB":
            return f"{sign}{x:.0f} {unit}" if unit == "B" else f"{sign}{x:.1f} {unit}"
        x /= 1024
    return f"{sign}{x:.1f} GiB"


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}x"


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def verdict(value: float | None, target: float, higher_is_better: bool) -> str:
    if value is None:
        return "n/a"
    ok = value >= target if higher_is_better else value <= target
    return "PASS" if ok else "FAIL"


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    print(f"\n{title}")
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False))
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(
            "  ".join(
                c.rjust(w) if i > 1 else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=False))
            )
        )
    sys.stdout.flush()


@dataclass
class Target:
    scenario: str
    what: str
    value: float | None
    target: float
    higher_is_better: bool
    unit: str = "x"
    shown: str | None = None  # display instead of value/target (e.g. "200/200")
    shown_target: str | None = None

    def row(self) -> list[str]:
        op = ">=" if self.higher_is_better else "<="
        value = "—" if self.value is None else f"{self.value:.3g}{self.unit}"
        return [
            self.scenario,
            self.what,
            self.shown or value,
            self.shown_target or f"{op} {self.target:g}{self.unit}",
            verdict(self.value, self.target, self.higher_is_better),
        ]


# ============================================================================================
# In-process scenarios


def scenario_a(
    impls: list[str], sizes: Sizes, reps: int, res: Results, targets: list[Target]
) -> None:
    print(
        f"\n(a) {sizes.a_tokens:,} text deltas through create_run + encoder, in process", flush=True
    )
    for rep in range(reps):
        for protocol in PROTOCOLS:
            for variant in VARIANTS:
                for impl in impls:
                    spec = {
                        "scenario": "a",
                        "impl": impl,
                        "protocol": protocol,
                        "variant": variant,
                        "n": sizes.a_tokens,
                        "verify": rep == 0,
                    }
                    value, error = run_worker(spec)
                    res.add(("a", impl, protocol, variant), value, error)
        print(f"  rep {rep + 1}/{reps} done", flush=True)

    rows = []
    ctx = []
    for protocol in PROTOCOLS:
        for variant in VARIANTS:
            tps = {i: res.cell("a", i, protocol, variant).median("tok_per_s") for i in IMPLS}
            r_anchor = ratio(tps["ours"], tps["anchor"])
            r_min = ratio(tps["ours"], tps["minimal"])
            t_anchor, t_min = (10.0, 0.4) if variant == "no-await" else (2.5, 0.6)
            targets.append(
                Target("a", f"{protocol} {variant} tok/s ours/anchor", r_anchor, t_anchor, True)
            )
            targets.append(
                Target("a", f"{protocol} {variant} tok/s ours/minimal", r_min, t_min, True)
            )
            rows.append(
                [
                    protocol,
                    variant,
                    fmt_num(tps["ours"]),
                    fmt_num(tps["anchor"]),
                    fmt_num(tps["minimal"]),
                    fmt_ratio(r_anchor),
                    f">={t_anchor:g}",
                    fmt_ratio(r_min),
                    f">={t_min:g}",
                    fmt_ratio(ratio(tps["anchor"], tps["minimal"])),
                ]
            )
            c = [protocol, variant]
            for i in IMPLS:
                cell = res.cell("a", i, protocol, variant)
                c.append(fmt_num(cell.median("frames")))
                c.append(fmt_bytes(cell.median("bytes")))
            ctx.append(c)
    print_table(
        f"(a) tokens/s, median of {reps} (ratios of medians)",
        [
            "protocol",
            "variant",
            "ours",
            "anchor",
            "minimal",
            "ours/anchor",
            "target",
            "ours/minimal",
            "target",
            "anchor/minimal",
        ],
        rows,
    )
    print_table(
        "(a) frames and bytes per stream (coalescing of unread deltas shows as fewer frames)",
        [
            "protocol",
            "variant",
            "ours frames",
            "ours bytes",
            "anchor frames",
            "anchor bytes",
            "minimal frames",
            "minimal bytes",
        ],
        ctx,
    )
    _print_problems(res, "a")


def scenario_b(
    impls: list[str], sizes: Sizes, reps: int, res: Results, targets: list[Target]
) -> None:
    impls = [i for i in impls if i != "minimal"]
    print(f"\n(b) mixed run x {sizes.b_runs}, each fully encoded, in process", flush=True)
    for rep in range(reps):
        for protocol in PROTOCOLS:
            for variant in VARIANTS:
                for impl in impls:
                    spec = {
                        "scenario": "b",
                        "impl": impl,
                        "protocol": protocol,
                        "variant": variant,
                        "runs": sizes.b_runs,
                    }
                    value, error = run_worker(spec)
                    res.add(("b", impl, protocol, variant), value, error)
        print(f"  rep {rep + 1}/{reps} done", flush=True)
    rows = []
    for protocol in PROTOCOLS:
        for variant in VARIANTS:
            ours = res.cell("b", "ours", protocol, variant)
            anchor = res.cell("b", "anchor", protocol, variant)
            r = ratio(ours.median("runs_per_s"), anchor.median("runs_per_s"))
            target = 5.0 if variant == "no-await" else 2.5
            targets.append(Target("b", f"{protocol} {variant} runs/s ours/anchor", r, target, True))
            rows.append(
                [
                    protocol,
                    variant,
                    fmt_num(ours.median("runs_per_s")),
                    fmt_num(anchor.median("runs_per_s")),
                    fmt_ratio(r),
                    f">={target:g}",
                    fmt_num(ours.median("frames_per_run")),
                    fmt_num(anchor.median("frames_per_run")),
                    fmt_bytes(ours.median("bytes_per_run")),
                    fmt_bytes(anchor.median("bytes_per_run")),
                ]
            )
    print_table(
        f"(b) mixed runs/s, median of {reps}",
        [
            "protocol",
            "variant",
            "ours",
            "anchor",
            "ours/anchor",
            "target",
            "ours frames/run",
            "anchor frames/run",
            "ours bytes/run",
            "anchor bytes/run",
        ],
        rows,
    )
    _print_problems(res, "b")


def scenario_c(
    impls: list[str], sizes: Sizes, reps: int, res: Results, targets: list[Target]
) -> None:
    impls = [i for i in impls if i != "minimal"]
    print(
        f"\n(c) memory: {sizes.c_deltas:,} x 100-byte deltas, consumer reads 1 frame per "
        f"{sizes.c_interval * 1000:g} ms for {sizes.c_seconds:g} s, then aclose (tracemalloc)",
        flush=True,
    )
    for rep in range(reps):
        for protocol in PROTOCOLS:
            for impl in impls:
                spec = {
                    "scenario": "c",
                    "impl": impl,
                    "protocol": protocol,
                    "n": sizes.c_deltas,
                    "duration": sizes.c_seconds,
                    "interval": sizes.c_interval,
                }
                value, error = run_worker(spec)
                res.add(("c", impl, protocol), value, error)
        print(f"  rep {rep + 1}/{reps} done", flush=True)
    rows = []
    for protocol in PROTOCOLS:
        ours = res.cell("c", "ours", protocol)
        anchor = res.cell("c", "anchor", protocol)
        r = ratio(ours.median("peak"), anchor.median("peak"))
        targets.append(Target("c", f"{protocol} peak memory ours/anchor", r, 0.3, False))
        retained = ours.median("retained")
        targets.append(
            Target(
                "c",
                f"{protocol} ours memory retained after close + gc (~0)",
                None if retained is None else retained / 1024,
                MEMORY_RETAINED_OK / 1024,
                False,
                unit=" KiB",
            )
        )
        rows.append(
            [
                protocol,
                fmt_bytes(ours.median("peak")),
                fmt_bytes(anchor.median("peak")),
                fmt_ratio(r),
                "<=0.3",
                fmt_bytes(retained),
                fmt_bytes(anchor.median("retained")),
                " / ".join(fmt_num(c.median("frames_read")) for c in (ours, anchor)),
                " / ".join(fmt_bytes(c.median("bytes_read")) for c in (ours, anchor)),
            ]
        )
    print_table(
        f"(c) peak extra memory (tracemalloc peak - baseline), median of {reps}",
        [
            "protocol",
            "ours peak",
            "anchor peak",
            "ours/anchor",
            "target",
            "ours retained",
            "anchor retained",
            "frames read ours/anchor",
            "bytes read ours/anchor",
        ],
        rows,
    )
    for impl in impls:
        for protocol in PROTOCOLS:
            if any(v.get("ended_early") for v in res.cell("c", impl, protocol).values):
                print(
                    f"  note: {impl} {protocol}: the stream ended before {sizes.c_seconds:g} s "
                    "(everything was read)"
                )


def _print_problems(res: Results, scenario: str) -> None:
    for key, cell in res.cells.items():
        if key[0] != scenario:
            continue
        problems = cell.problems()
        if problems:
            print(f"  ! verification {'/'.join(key[1:])}: {'; '.join(sorted(set(problems)))}")


# ============================================================================================
# HTTP scenarios


def _cpu_from_schedstat(pid: int) -> float:
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
    return total / 1e9


def _cpu_from_stat(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_method() -> tuple[str, Callable[[int], float]]:
    try:
        _cpu_from_schedstat(os.getpid())
        return "/proc/<pid>/task/*/schedstat (ns, all threads)", _cpu_from_schedstat
    except (OSError, ValueError, IndexError):
        return "/proc/<pid>/stat utime+stime (clock ticks)", _cpu_from_stat


class Server:
    """A uvicorn subprocess serving one implementation on 127.0.0.1:<ephemeral>."""

    def __init__(self, impl: str, http: str, loop: str) -> None:
        self.impl = impl
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        env = dict(
            os.environ, BENCH_IMPL=impl, BENCH_HTTP=http, BENCH_LOOP=loop, PYTHONUNBUFFERED="1"
        )
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_server_app.py")],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            cwd=str(HERE),
        )
        try:
            self.port = self._read_port(timeout=30.0)
        except BaseException:
            self.close()
            raise

    def _read_port(self, timeout: float) -> int:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                if line.startswith(b"PORT "):
                    return int(line.split()[1])
            if self.proc.poll() is not None:
                break
        raise RuntimeError(f"server {self.impl} did not start: {self.stderr_tail()}")

    def stderr_tail(self) -> str:
        self.log.seek(0)
        lines = self.log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "(no output)"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


@dataclass
class HttpBody:
    status: int
    chunks: int
    body: bytes


def _parse_http(raw: bytes) -> HttpBody:
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("incomplete response head")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        headers[k.strip().lower()] = v.strip()
    if headers.get(b"transfer-encoding", b"").lower() != b"chunked":
        return HttpBody(status, 1 if rest else 0, rest)
    parts: list[bytes] = []
    pos = 0
    while True:
        eol = rest.index(b"\r\n", pos)
        length = int(rest[pos:eol].split(b";")[0], 16)
        if length == 0:
            break
        start = eol + 2
        parts.append(rest[start : start + length])
        pos = start + length + 2
    return HttpBody(status, len(parts), b"".join(parts))


async def http_get(port: int, path: str) -> HttpBody:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        buf = bytearray()
        while True:
            data = await reader.read(1 << 18)
            if not data:
                break
            buf += data
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return _parse_http(bytes(buf))


async def wait_ready(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            resp = await asyncio.wait_for(http_get(server.port, "/ping"), 5)
            if resp.status == 200:
                return
        except (OSError, ValueError, asyncio.TimeoutError):
            pass
        if server.proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server {server.impl} not ready: {server.stderr_tail()}")
        await asyncio.sleep(0.1)


def _path(protocol: str, n: int, pause: float | None, seed: int) -> str:
    p = "none" if pause is None else repr(pause)
    return f"/stream?protocol={protocol}&n={n}&pause={p}&seed={seed}"


def _verify_body(protocol: str, resp: HttpBody, n: int, seed: int) -> list[str]:
    if resp.status != 200:
        return [f"HTTP {resp.status}"]
    try:
        got = DECODERS[protocol](resp.body.decode())
    except (ValueError, KeyError, IndexError) as exc:
        return [f"undecodable body: {exc!r}"]
    return check_decoded(protocol, got, Decoded(text="".join(make_tokens(n, seed)), done=True))


async def http_scenarios(
    impls: list[str],
    sizes: Sizes,
    reps: int,
    res: Results,
    targets: list[Target],
    run_d: bool,
    run_e: bool,
    http: str,
    loop: str,
    settle: float,
) -> None:
    method, cpu = cpu_method()
    print(
        f"\nHTTP: uvicorn (http={http}, loop={loop}) subprocess per implementation on "
        f"127.0.0.1; server CPU = {method}, delta over the request(s) + {settle * 1000:g} ms",
        flush=True,
    )
    servers: dict[str, Server] = {}
    try:
        for impl in impls:
            try:
                servers[impl] = Server(impl, http, loop)
                await wait_ready(servers[impl])
            except RuntimeError as exc:
                print(f"  ! {impl}: {exc}", flush=True)
                servers.pop(impl, None)
        # warm-up: one small stream per protocol and variant
        for server in servers.values():
            for protocol in PROTOCOLS:
                for pause in (None, 0.0):
                    with contextlib.suppress(OSError, ValueError, asyncio.TimeoutError):
                        await asyncio.wait_for(
                            http_get(server.port, _path(protocol, 200, pause, 0)), 60
                        )
        if run_d:
            await _scenario_d(servers, sizes, reps, res, targets, cpu, settle)
        if run_e:
            await _scenario_e(servers, sizes, reps, res, targets, cpu, settle)
    finally:
        for server in servers.values():
            server.close()


async def _scenario_d(
    servers: dict[str, Server],
    sizes: Sizes,
    reps: int,
    res: Results,
    targets: list[Target],
    cpu: Callable[[int], float],
    settle: float,
) -> None:
    n = sizes.d_tokens
    print(
        f"\n(d) one HTTP stream of {n:,} tokens, response class with default settings", flush=True
    )
    for rep in range(reps):
        for protocol in PROTOCOLS:
            for variant in VARIANTS:
                for impl, server in servers.items():
                    pid = server.proc.pid
                    c0 = cpu(pid)
                    t0 = time.perf_counter()
                    try:
                        resp = await asyncio.wait_for(
                            http_get(server.port, _path(protocol, n, _pause_for(variant), rep)), 120
                        )
                    except (OSError, ValueError, asyncio.TimeoutError) as exc:
                        res.add(("d", impl, protocol, variant), None, repr(exc))
                        continue
                    wall = time.perf_counter() - t0
                    await asyncio.sleep(settle)
                    value = {
                        "cpu": cpu(pid) - c0,
                        "wall": wall,
                        "frames": resp.chunks,
                        "bytes": len(resp.body),
                        "problems": _verify_body(protocol, resp, n, rep),
                    }
                    res.add(("d", impl, protocol, variant), value, None)
        print(f"  rep {rep + 1}/{reps} done", flush=True)
    rows = []
    ctx = []
    for protocol in PROTOCOLS:
        for variant in VARIANTS:
            cells = {i: res.cell("d", i, protocol, variant) for i in IMPLS}
            cpus = {i: cells[i].median("cpu") for i in IMPLS}
            r = ratio(cpus["ours"], cpus["minimal"])
            targets.append(
                Target("d", f"{protocol} {variant} server CPU ours/minimal", r, 1.25, False)
            )
            rows.append(
                [
                    protocol,
                    variant,
                    fmt_num(cpus["ours"]),
                    fmt_num(cpus["anchor"]),
                    fmt_num(cpus["minimal"]),
                    fmt_ratio(r),
                    "<=1.25",
                    fmt_ratio(ratio(cpus["anchor"], cpus["minimal"])),
                    " / ".join(fmt_num(cells[i].median("wall")) for i in IMPLS),
                ]
            )
            c = [protocol, variant]
            for i in IMPLS:
                c.append(fmt_num(cells[i].median("frames")))
                c.append(fmt_bytes(cells[i].median("bytes")))
            ctx.append(c)
    print_table(
        f"(d) server CPU seconds for one stream, median of {reps}",
        [
            "protocol",
            "variant",
            "ours",
            "anchor",
            "minimal",
            "ours/minimal",
            "target",
            "anchor/minimal",
            "wall s ours/anchor/minimal",
        ],
        rows,
    )
    print_table(
        "(d) HTTP chunks (server writes) and body bytes per stream",
        [
            "protocol",
            "variant",
            "ours chunks",
            "ours bytes",
            "anchor chunks",
            "anchor bytes",
            "minimal chunks",
            "minimal bytes",
        ],
        ctx,
    )
    _print_problems(res, "d")


async def _scenario_e(
    servers: dict[str, Server],
    sizes: Sizes,
    reps: int,
    res: Results,
    targets: list[Target],
    cpu: Callable[[int], float],
    settle: float,
) -> None:
    k, n, pause = sizes.e_streams, sizes.e_tokens, sizes.e_pause
    print(
        f"\n(e) {k} concurrent HTTP streams of {n} tokens, sleep({pause:g}) between tokens",
        flush=True,
    )
    for rep in range(reps):
        for protocol in PROTOCOLS:
            for impl, server in servers.items():
                pid = server.proc.pid
                c0 = cpu(pid)
                t0 = time.perf_counter()
                results = await asyncio.gather(
                    *(
                        asyncio.wait_for(http_get(server.port, _path(protocol, n, pause, s)), 300)
                        for s in range(k)
                    ),
                    return_exceptions=True,
                )
                wall = time.perf_counter() - t0
                await asyncio.sleep(settle)
                used = cpu(pid) - c0
                n_complete = 0
                frames = 0
                problems: list[str] = []
                for s, resp in enumerate(results):
                    if isinstance(resp, BaseException):
                        problems.append(f"stream {s}: {resp!r}")
                        continue
                    p = _verify_body(protocol, resp, n, s)
                    frames += resp.chunks
                    if p:
                        problems.append(f"stream {s}: {'; '.join(p)}")
                    else:
                        n_complete += 1
                value = {
                    "cpu": used,
                    "wall": wall,
                    "complete": n_complete,
                    "frames_per_stream": frames / k,
                    "problems": problems[:5],
                }
                res.add(("e", impl, protocol), value, None)
        print(f"  rep {rep + 1}/{reps} done", flush=True)
    rows = []
    for protocol in PROTOCOLS:
        cells = {i: res.cell("e", i, protocol) for i in IMPLS}
        cpus = {i: cells[i].median("cpu") for i in IMPLS}
        r = ratio(cpus["ours"], cpus["minimal"])
        targets.append(Target("e", f"{protocol} server CPU ours/minimal", r, 1.2, False))
        complete = {
            i: (min(int(v["complete"]) for v in cells[i].values) if cells[i].values else None)
            for i in IMPLS
        }
        if complete["ours"] is not None:
            targets.append(
                Target(
                    "e",
                    f"{protocol} ours complete streams, no token lost (worst rep)",
                    complete["ours"] / k,
                    1.0,
                    True,
                    shown=f"{complete['ours']}/{k}",
                    shown_target=f"{k}/{k}",
                )
            )
        rows.append(
            [
                protocol,
                fmt_num(cpus["ours"]),
                fmt_num(cpus["anchor"]),
                fmt_num(cpus["minimal"]),
                fmt_ratio(r),
                "<=1.2",
                fmt_ratio(ratio(cpus["anchor"], cpus["minimal"])),
                " / ".join("—" if complete[i] is None else f"{complete[i]}/{k}" for i in IMPLS),
                " / ".join(fmt_num(cells[i].median("frames_per_stream")) for i in IMPLS),
                " / ".join(fmt_num(cells[i].median("wall")) for i in IMPLS),
            ]
        )
    print_table(
        f"(e) server CPU seconds for all streams, median of {reps} (complete = worst rep)",
        [
            "protocol",
            "ours",
            "anchor",
            "minimal",
            "ours/minimal",
            "target",
            "anchor/minimal",
            "complete ours/anchor/minimal",
            "chunks/stream o/a/m",
            "wall s o/a/m",
        ],
        rows,
    )
    _print_problems(res, "e")


# ============================================================================================
# Main


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _default_http() -> str:
    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--reps",
        type=int,
        default=None,
        help="repetitions per measurement; medians are reported (default 3, 1 with --quick)",
    )
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    p.add_argument(
        "--only", default="a,b,c,d,e", help="comma-separated scenarios to run (default: a,b,c,d,e)"
    )
    p.add_argument(
        "--impls",
        default=",".join(IMPLS),
        help="comma-separated implementations (default: ours,anchor,minimal)",
    )
    p.add_argument(
        "--http",
        default=_default_http(),
        choices=["h11", "httptools"],
        help="uvicorn HTTP implementation (default: httptools if installed)",
    )
    p.add_argument(
        "--loop",
        default="asyncio",
        choices=["asyncio", "uvloop"],
        help="uvicorn event loop (default: asyncio)",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=0.05,
        help="seconds to wait after a response before reading server CPU",
    )
    p.add_argument(
        "--write-interval",
        type=float,
        default=None,
        help="pass write_interval= (seconds) to our response classes in the HTTP scenarios "
        "(default: the library's default; 0 = one write per ready batch, no coalescing window)",
    )
    p.add_argument("--json", dest="json_out", default=None, help="write raw results here")
    p.add_argument("--verbose", action="store_true", help="print every repetition's values")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def probe_ours() -> str | None:
    """None if ours is usable, else why not."""
    value, error = run_worker({"scenario": "probe", "impl": "ours"})
    if error is not None:
        return error
    assert value is not None
    if not value.get("iter_bytes"):
        print("  note: ours has no iter_bytes; using encode_stream", flush=True)
    return None


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.worker is not None:
        return worker_main(args.worker)

    sizes = Sizes.quick() if args.quick else Sizes()
    reps = args.reps if args.reps is not None else (1 if args.quick else 3)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    impls = [i for i in IMPLS if i in {s.strip() for s in args.impls.split(",")}]
    if args.write_interval is not None:
        # Read by _server_app.py in the server subprocesses (ours only).
        os.environ["BENCH_WRITE_INTERVAL"] = repr(args.write_interval)
        print(f"ours: write_interval={args.write_interval:g} s in the HTTP scenarios")

    print(
        f"assistant-stream-ce benchmarks — python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, reps={reps}{' (quick)' if args.quick else ''}"
    )
    print(
        f"  anchor: assistant-stream {_version('assistant-stream')}; "
        f"ours: assistant-stream-ce {_version('assistant-stream-ce')}; "
        f"uvicorn {_version('uvicorn')}, starlette {_version('starlette')}, "
        f"orjson {_version('orjson')}"
    )
    if "ours" in impls:
        why = probe_ours()
        if why is not None:
            print(f"  SKIPPING ours: assistant_stream_ce is not importable/usable yet ({why})")
            impls.remove("ours")
    if "anchor" in impls:
        why_anchor = run_worker({"scenario": "probe", "impl": "anchor"})[1]
        if why_anchor is not None:
            print(f"  SKIPPING anchor: assistant_stream not importable ({why_anchor})")
            impls.remove("anchor")
    sys.stdout.flush()

    res = Results()
    targets: list[Target] = []
    t_start = time.monotonic()
    if "a" in only:
        scenario_a(impls, sizes, reps, res, targets)
    if "b" in only:
        scenario_b(impls, sizes, reps, res, targets)
    if "c" in only:
        scenario_c(impls, sizes, reps, res, targets)
    if "d" in only or "e" in only:
        asyncio.run(
            http_scenarios(
                impls,
                sizes,
                reps,
                res,
                targets,
                "d" in only,
                "e" in only,
                args.http,
                args.loop,
                args.settle,
            )
        )

    if args.verbose:
        print("\nAll repetitions:")
        for key, cell in res.cells.items():
            print(f"  {'/'.join(key)}: {json.dumps(cell.values)} errors={cell.errors}")

    print_table(
        "Acceptance targets (ours)",
        ["scen", "measure", "value", "target", "status"],
        [t.row() for t in targets],
    )
    statuses = [verdict(t.value, t.target, t.higher_is_better) for t in targets]
    print(
        f"\n{statuses.count('PASS')} PASS, {statuses.count('FAIL')} FAIL, "
        f"{statuses.count('n/a')} n/a; total time {time.monotonic() - t_start:.0f} s"
    )
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps(
                {"sizes": sizes.__dict__, "reps": reps, "impls": impls, "results": res.to_json()},
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
