#!/usr/bin/env bash
# Set up everything the tests need (Python venv + deps, Node packages) and run them all.
# Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
# The library itself with its test tools, plus the predecessor as a compatibility baseline.
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" "assistant-stream==0.0.36"

# Real JavaScript clients for the interop tests: every tests/interop/*/ folder with a
# package-lock.json (versions pinned there).
for lock in tests/interop/*/package-lock.json; do
  [ -f "$lock" ] || continue
  (cd "$(dirname "$lock")" && npm ci --no-audit --no-fund --loglevel=error)
done

# Debian's Chromium for the browser tests (tests/browser); Playwright's own browsers are not used.
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing chromium (apt-get)"
  apt-get install -y --no-install-recommends chromium \
    || { apt-get update && apt-get install -y --no-install-recommends chromium; } \
    || echo "could not install chromium: the browser tests will be skipped (or fail under CI)"
fi

# Debian's redis-server for the resumable-stream tests (tests/resumable start and stop their own).
if ! command -v redis-server >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "== installing redis-server (apt-get)"
  apt-get install -y --no-install-recommends redis-server \
    || { apt-get update && apt-get install -y --no-install-recommends redis-server; } \
    || echo "could not install redis-server: the Redis tests will be skipped (or fail under CI)"
fi

echo "== ruff"
lint_paths=()
for path in src tests examples benchmarks; do [ -e "$path" ] && lint_paths+=("$path"); done
.venv/bin/ruff check "${lint_paths[@]}"
# Markdown too: ruff formats the Python blocks of the README and the docs (which tests run).
.venv/bin/ruff format --check "${lint_paths[@]}" README.md docs
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"

# The oldest Python the package supports, when the machine has it (and no pytest arguments were
# given): the core tests again, without HTTP servers, the browser or the JavaScript clients.
# The [langgraph] extra needs Python 3.11 or newer, so its tests skip themselves here.
python310=""
for candidate in python3.10 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10; do
  if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    python310="$candidate"
    break
  fi
done
if [ "$#" -eq 0 ] && [ -n "$python310" ]; then
  echo "== pytest on Python 3.10 (core tests; $python310)"
  [ -x .venv-py310/bin/python ] || "$python310" -m venv .venv-py310
  .venv-py310/bin/python -m pip install --quiet --disable-pip-version-check \
    -e ".[server,openai,anthropic,redis]" "assistant-stream==0.0.36" \
    "pytest>=8" "pytest-asyncio>=0.23" "pytest-timeout>=2.3" "hypothesis>=6.100"
  .venv-py310/bin/python -m pytest -q -p no:cacheprovider -m "not interop and not browser and not http"
elif [ "$#" -eq 0 ]; then
  echo "== no Python 3.10 on this machine: the oldest-Python run is skipped"
fi
