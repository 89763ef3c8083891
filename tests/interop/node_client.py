"""Decode bytes with the real npm ``assistant-stream`` client (pinned in node/package.json).

``decode_with_assistant_stream`` pipes a response body through ``node node/decode.mjs``, which
feeds it to the package's own ``DataStreamDecoder`` / ``AssistantTransportDecoder`` and
``AssistantMessageAccumulator`` and prints one JSON object:

* ``{"ok": true, "message": {...}, "warnings": [...]}``
* ``{"ok": false, "error": "...", "partialMessage": {...} | null, "warnings": [...]}``
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import threading
from typing import Any

__all__ = [
    "NODE_DIR",
    "PROTOCOLS",
    "decode_with_ai_sdk",
    "decode_with_assistant_stream",
    "ensure_ai_sdk",
    "ensure_node_modules",
]

NODE_DIR: pathlib.Path = pathlib.Path(__file__).resolve().parent / "node"
PROTOCOLS: tuple[str, ...] = ("data-stream", "assistant-transport")

_TIMEOUT_S = 60.0
_INSTALL_TIMEOUT_S = 300.0
_install_lock = threading.Lock()


def _require_executable(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(
            f"`{name}` was not found on PATH; the interop tests need Node.js (>= 20) and npm"
        )
    return path


def ensure_node_modules() -> None:
    """Run ``npm ci`` in NODE_DIR unless ``node_modules/assistant-stream`` is present."""
    with _install_lock:
        if (NODE_DIR / "node_modules" / "assistant-stream" / "package.json").is_file():
            return
        _require_executable("node")
        npm = _require_executable("npm")
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=_INSTALL_TIMEOUT_S,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"`npm ci` failed in {NODE_DIR} (exit {proc.returncode}):\n"
                f"{proc.stdout}\n{proc.stderr}"
            )


def decode_with_assistant_stream(
    protocol: str, body: bytes, *, lenient: bool = False
) -> dict[str, Any]:
    """Decode ``body`` with npm assistant-stream and return the harness's JSON result."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
    ensure_node_modules()
    node = _require_executable("node")
    cmd = [node, str(NODE_DIR / "decode.mjs"), protocol]
    if lenient:
        cmd.append("--lenient")
    proc = subprocess.run(
        cmd,
        cwd=NODE_DIR,
        input=body,
        capture_output=True,
        timeout=_TIMEOUT_S,
        check=False,
    )
    stdout = proc.stdout.decode("utf-8", errors="replace")
    stderr = proc.stderr.decode("utf-8", errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(
            f"decode.mjs exited with {proc.returncode}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        )
    try:
        result = json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(
            f"decode.mjs printed invalid JSON ({exc})\nstdout:\n{stdout}\nstderr:\n{stderr}"
        ) from exc
    if not isinstance(result, dict) or not isinstance(result.get("ok"), bool):
        raise RuntimeError(f"decode.mjs printed an unexpected result: {stdout}")
    return result


# -- the Vercel AI SDK v4 parser (npm `ai`, pinned next to assistant-stream) -------------------


def ensure_ai_sdk() -> None:
    """Make sure npm ``ai`` is installed too (``npm ci`` again if an older install lacks it)."""
    ensure_node_modules()
    with _install_lock:
        if (NODE_DIR / "node_modules" / "ai" / "package.json").is_file():
            return
        npm = _require_executable("npm")
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=_INSTALL_TIMEOUT_S,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"`npm ci` failed in {NODE_DIR} (exit {proc.returncode}):\n"
                f"{proc.stdout}\n{proc.stderr}"
            )


def decode_with_ai_sdk(body: bytes, *, chunk_size: int = 7) -> dict[str, Any]:
    """Parse a data-stream ``body`` with AI SDK v4 (``node node/decode_ai.mjs``).

    Returns ``{"ok": bool, "parts": [{"type", "value"}, ...], "error"?: str, "chat": {...}}``:
    the parts ``processDataStream`` delivered in order (those before the error when it threw),
    and under ``chat`` the message v4's ``useChat`` code path (``callChatApi``) ends with.
    ``chunk_size=1`` makes the parser handle one line at a time.
    """
    ensure_ai_sdk()
    node = _require_executable("node")
    proc = subprocess.run(
        [node, str(NODE_DIR / "decode_ai.mjs"), f"--chunk-size={chunk_size}"],
        cwd=NODE_DIR,
        input=body,
        capture_output=True,
        timeout=_TIMEOUT_S,
        check=False,
    )
    stdout = proc.stdout.decode("utf-8", errors="replace")
    stderr = proc.stderr.decode("utf-8", errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(
            f"decode_ai.mjs exited with {proc.returncode}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        )
    try:
        result = json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(
            f"decode_ai.mjs printed invalid JSON ({exc})\nstdout:\n{stdout}\nstderr:\n{stderr}"
        ) from exc
    if (
        not isinstance(result, dict)
        or not isinstance(result.get("ok"), bool)
        or not isinstance(result.get("parts"), list)
        or not isinstance(result.get("chat"), dict)
    ):
        raise RuntimeError(f"decode_ai.mjs printed an unexpected result: {stdout}")
    return result
