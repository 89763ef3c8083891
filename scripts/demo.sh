#!/usr/bin/env bash
# Set up and start the demo server on http://127.0.0.1:8000 (offline, no API key needed).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[server]"
exec .venv/bin/assistant-stream-ce demo "$@"
