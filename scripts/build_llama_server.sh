#!/usr/bin/env bash
# Build llama.cpp's `llama-server` from the sources vendored in the llama-cpp-python sdist on PyPI
# (the same llama.cpp the embedded backend runs), CPU by default, CUDA when nvcc and a GPU are
# present. Cached: a second run prints the binary's path and does nothing else.
#
#   bash scripts/build_llama_server.sh            # build if needed; last stdout line = binary
#   CONVREC_LLAMA_CUDA=off bash scripts/...       # force a CPU build (on|off|auto, default auto)
#
# CONVREC_LLAMA_SDIST=path/to/llama_cpp_python-<version>.tar.gz skips the download.
# Cache folder: $CONVREC_LLAMA_SERVER_DIR, else ${CONVREC_HOME:-~/.cache/convrec}/bin, holding
# llama-server-<version>-<cpu|cuda>/llama-server. Compiling takes minutes (only the server target
# and what it links are built); it runs under `nice` so that other work keeps the machine.
set -euo pipefail

VERSION="${CONVREC_LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
HOME_DIR="${CONVREC_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/convrec}"
BIN_ROOT="${CONVREC_LLAMA_SERVER_DIR:-$HOME_DIR/bin}"
CUDA_WANT="${CONVREC_LLAMA_CUDA:-auto}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"

log() { echo "[build llama-server] $*" >&2; }

has_gpu() {
  command -v nvcc >/dev/null 2>&1 && command -v nvidia-smi >/dev/null 2>&1 \
    && nvidia-smi -L 2>/dev/null | grep -q '^GPU '
}

case "$CUDA_WANT" in
  on) FLAVOUR=cuda ;;
  off) FLAVOUR=cpu ;;
  auto) if has_gpu; then FLAVOUR=cuda; else FLAVOUR=cpu; fi ;;
  *) log "CONVREC_LLAMA_CUDA must be on, off or auto, got '$CUDA_WANT'"; exit 2 ;;
esac

DEST="$BIN_ROOT/llama-server-$VERSION-$FLAVOUR"
BINARY="$DEST/llama-server"
if [ -x "$BINARY" ] && "$BINARY" --version >/dev/null 2>&1; then
  echo "$BINARY"
  exit 0
fi

for tool in cmake c++ make; do
  command -v "$tool" >/dev/null 2>&1 || {
    log "'$tool' is missing -- fix: apt-get install -y cmake build-essential"; exit 1; }
done
if [ -n "${PIP:-}" ]; then
  read -r -a PIP_CMD <<< "$PIP"
elif [ -x "$REPO/.venv/bin/pip" ]; then
  PIP_CMD=("$REPO/.venv/bin/pip")
else
  PIP_CMD=(python3 -m pip)
fi

# The sources and objects stay in WORK until the binary is installed: an interrupted build
# (CI timeout, full disk) resumes where it stopped on the next run.
WORK="${CONVREC_LLAMA_BUILD_DIR:-$BIN_ROOT/.build-$VERSION-$FLAVOUR}"
mkdir -p "$WORK"
start=$(date +%s)

SRC="$(ls -d "$WORK"/llama_cpp_python-*/vendor/llama.cpp 2>/dev/null | head -1 || true)"
if [ -z "$SRC" ] || [ ! -f "$WORK/.extracted" ]; then
  rm -rf "$WORK"/llama_cpp_python-*/ "$WORK/build"
  if [ -n "${CONVREC_LLAMA_SDIST:-}" ]; then  # an sdist already downloaded
    SDIST="$CONVREC_LLAMA_SDIST"
  else
    log "downloading the llama-cpp-python==$VERSION sdist from PyPI"
    "${PIP_CMD[@]}" download -q --disable-pip-version-check --no-deps --no-binary :all: \
      "llama-cpp-python==$VERSION" -d "$WORK" >&2
    SDIST="$(ls "$WORK"/llama_cpp_python-*.tar.gz)"
  fi
  tar -xzf "$SDIST" -C "$WORK"
  rm -f "$WORK"/llama_cpp_python-*.tar.gz
  touch "$WORK/.extracted"
  SRC="$(ls -d "$WORK"/llama_cpp_python-*/vendor/llama.cpp)"
else
  log "resuming the build in $WORK"
fi

# Static libraries: the binary stands alone. No web UI (it would be fetched from a hub or built
# with npm), no HTTPS (loopback/behind a proxy), no curl (models are local files).
ARGS=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_SERVER=ON
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_UI=OFF
      -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF)
if [ "$FLAVOUR" = cuda ]; then
  ARGS+=(-DGGML_CUDA=on)
fi
JOBS="${CONVREC_BUILD_JOBS:-$(nproc)}"
if [ ! -f "$WORK/build/CMakeCache.txt" ]; then
  log "configuring ($FLAVOUR build, $JOBS jobs)"
  nice -n 10 cmake -S "$SRC" -B "$WORK/build" "${ARGS[@]}" >"$WORK/configure.log" 2>&1 || {
    tail -30 "$WORK/configure.log" >&2; rm -rf "$WORK/build"; log "cmake configure failed"
    exit 1; }
fi
log "compiling the llama-server target (minutes on a small machine)"
nice -n 10 cmake --build "$WORK/build" --target llama-server -j "$JOBS" \
  >>"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2
  log "compile failed (run again to resume; \`rm -rf $WORK\` starts over)"; exit 1; }

mkdir -p "$DEST"
cp "$WORK/build/bin/llama-server" "$DEST/llama-server.tmp"
mv "$DEST/llama-server.tmp" "$BINARY"
"$BINARY" --version >"$DEST/version.txt" 2>&1 || true
elapsed=$(( $(date +%s) - start ))
# CPU seconds of the compilers (user + system of this shell's waited-for children)
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.0f", ($16 + $17) / hz}' "/proc/$$/stat")
echo "built in ${elapsed} s wall, ${cpu} CPU s ($JOBS jobs, $FLAVOUR) from" \
  "llama-cpp-python==$VERSION on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" \
  > "$DEST/build-info.txt"
rm -rf "$WORK"
log "done in ${elapsed} s wall, ${cpu} CPU s: $BINARY"
echo "$BINARY"
