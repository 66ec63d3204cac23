#!/usr/bin/env bash
# The clients in other languages and the web page, against a real host:
#   1. installs what they need: Debian's python3-grpc-tools, python3-grpcio, python3-pytest and chromium,
#      and the pinned npm packages of clients/node and clients/browser-test (npm ci, lockfiles committed);
#   2. builds the host and starts it on two free loopback ports: gRPC over h2c, and HTTP/1.1 for the JSON
#      API, gRPC-Web and the page (Diffusion:WebUrls); waits for grpc.health.v1 SERVING;
#   3. runs the Python suite (pytest), the Node suite (node --test) and the browser test (playwright-core
#      driving /usr/bin/chromium), then the two examples once to print their time to first preview;
#   4. stops the host whatever happens (trap).
# Models root: $DIFFUSION_MODELS_PATH, else the repository's models/ when it holds a model, else the
# fixture models (tests/fixtures/models). The host log and screenshots land in clients/browser-test/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=/usr/bin/python3   # Debian's python, where python3-grpc-tools and python3-grpcio live
ARTIFACTS=$ROOT/clients/browser-test/artifacts
mkdir -p "$ARTIFACTS"

# --- 1. packages ---------------------------------------------------------------------------------
missing=()
for package in python3-grpc-tools python3-grpcio python3-pytest chromium; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "ci-clients: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi
command -v node >/dev/null || { echo "ci-clients: Node.js 20+ is required (node on PATH)" >&2; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { echo "ci-clients: Node.js 20+ is required, found $(node --version)" >&2; exit 1; }
for folder in clients/node clients/browser-test; do
  # npm ci unless node_modules already matches the lockfile (npm's own record of the install is newer).
  if [ ! "$folder/node_modules/.package-lock.json" -nt "$folder/package-lock.json" ] || [ "$folder/package.json" -nt "$folder/node_modules/.package-lock.json" ]; then
    (cd "$folder" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

# --- 2. the host ---------------------------------------------------------------------------------
dotnet build src/DiffusionGrpc.Server -c Release --nologo -v quiet
SERVER_DLL=$ROOT/src/DiffusionGrpc.Server/bin/Release/net10.0/DiffusionGrpc.Server.dll

MODEL_ARGS=()
if [ -n "${DIFFUSION_MODELS_PATH:-}" ]; then
  MODEL_ARGS=("--Diffusion:ModelsPath=$DIFFUSION_MODELS_PATH")
elif compgen -G "$ROOT/models/*/model_index.json" >/dev/null; then
  MODEL_ARGS=("--Diffusion:ModelsPath=$ROOT/models")
else
  echo "ci-clients: models/ holds no model yet: using the fixture models"
  MODEL_ARGS=("--Diffusion:ModelsPath=$ROOT/tests/fixtures/models" "--Diffusion:DefaultModel=tiny-fp32")
fi

read -r GRPC_PORT WEB_PORT < <($PY -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
export DIFFUSION_GRPC_ADDRESS=127.0.0.1:$GRPC_PORT
export DIFFUSION_WEB_URL=http://127.0.0.1:$WEB_PORT
export DIFFUSION_SERVER_LOG=$ARTIFACTS/server.log

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

dotnet "$SERVER_DLL" --urls "http://127.0.0.1:$GRPC_PORT" "--Diffusion:WebUrls=http://127.0.0.1:$WEB_PORT" \
  "--Diffusion:ExecutionProvider=${DIFFUSION_EXECUTION_PROVIDER:-auto}" "${MODEL_ARGS[@]}" >"$DIFFUSION_SERVER_LOG" 2>&1 &
SERVER_PID=$!
echo "ci-clients: host pid $SERVER_PID, gRPC $DIFFUSION_GRPC_ADDRESS, web $DIFFUSION_WEB_URL, log $DIFFUSION_SERVER_LOG"

# grpc.health.v1.Health/Check with raw bytes: an empty HealthCheckRequest, SERVING = field 1 varint 1.
if ! $PY - "$SERVER_PID" <<'PYEOF'
import os, sys, time
import grpc
pid, address = int(sys.argv[1]), os.environ["DIFFUSION_GRPC_ADDRESS"]
deadline = time.time() + 300
with grpc.insecure_channel(address) as channel:
    check = channel.unary_unary("/grpc.health.v1.Health/Check")
    while True:
        try:
            if check(b"", timeout=5) == b"\x08\x01":
                print(f"ci-clients: host SERVING after {time.time() - deadline + 300:.1f} s")
                break
        except grpc.RpcError:
            pass
        try:
            os.kill(pid, 0)
        except OSError:
            sys.exit("ci-clients: the host exited before it was SERVING")
        if time.time() > deadline:
            sys.exit("ci-clients: the host was not SERVING within 300 s")
        time.sleep(0.25)
PYEOF
then
  tail -n 40 "$DIFFUSION_SERVER_LOG" >&2
  exit 1
fi

# --- 3. the suites -------------------------------------------------------------------------------
failed=()
echo "== Python client (pytest) =="
$PY -m pytest -v -p no:cacheprovider clients/python/tests || failed+=(python)
echo "== Node client (node --test) =="
node --test clients/node/test/ || failed+=(node)
echo "== Browser test (playwright-core + chromium) =="
node --test clients/browser-test/ || failed+=(browser)

echo "== Time to first preview, default model and steps =="
$PY clients/python/examples/generate.py "a red circle" -o "$ARTIFACTS/python.png" --address "$DIFFUSION_GRPC_ADDRESS" --seed 1 2>/dev/null | sed 's/^/python: /' || failed+=(python-example)
node clients/node/examples/generate.js "a red circle" -o "$ARTIFACTS/node.png" --address "$DIFFUSION_GRPC_ADDRESS" --seed 1 2>/dev/null | sed 's/^/node: /' || failed+=(node-example)

stop_server
if ((${#failed[@]})); then
  echo "ci-clients: FAILED: ${failed[*]} (host log: $DIFFUSION_SERVER_LOG)" >&2
  exit 1
fi
echo "ci-clients: all client suites passed"
