#!/usr/bin/env bash
# Runs every test of the repository: the .NET test projects, then the clients in other languages and
# the browser test when their script is present (it installs their Debian and npm packages).
set -euo pipefail
cd "$(dirname "$0")/.."

dotnet build DiffusionGrpc.sln -c Release
dotnet test DiffusionGrpc.sln -c Release --no-build --logger "console;verbosity=normal"

if [ -f clients/ci-clients.sh ]; then
  bash clients/ci-clients.sh
fi
