#!/usr/bin/env bash
# Installs what the model tools need on Debian: PyTorch, NumPy, ONNX, and OpenBLAS (without it
# Debian's torch uses the reference BLAS and trains ~10x slower). Run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3-torch python3-numpy python3-onnx libopenblas0-pthread
