"""Generates the gRPC stubs from the repository's protos with grpc_tools (Debian: python3-grpc-tools).

The stubs are not committed: they are (re)generated into ``diffusion_client/_generated`` the first
time the package is imported, or whenever a proto is newer than them. ``DIFFUSION_PROTOS`` points at
another ``protos/`` folder. Debian's grpc_tools bundles protoc 3.5, so the protos keep to what it knows.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GENERATED = Path(__file__).resolve().parent / "_generated"
_STAMP = GENERATED / ".stamp"


def protos_root() -> Path:
    """The ``protos/`` folder: ``$DIFFUSION_PROTOS``, else the repository's."""
    configured = os.environ.get("DIFFUSION_PROTOS")
    if configured:
        return Path(configured).resolve()
    return Path(__file__).resolve().parents[3] / "protos"


def proto_files(root: Path) -> list[Path]:
    """The client-facing protos: ``diffusion/v1/*.proto`` (the HTTP mapping in ``http/`` is the host's)."""
    return sorted((root / "diffusion" / "v1").glob("*.proto"))


def ensure_stubs(force: bool = False) -> Path:
    """Generates the stubs when missing or older than a proto; returns the folder to put on sys.path."""
    root = protos_root()
    files = proto_files(root)
    if not files:
        if (GENERATED / "diffusion").is_dir():
            return GENERATED
        raise FileNotFoundError(f"no protos under {root}/diffusion/v1 (set DIFFUSION_PROTOS)")
    newest = max(f.stat().st_mtime for f in files)
    if not force and _STAMP.exists() and _STAMP.stat().st_mtime >= newest:
        return GENERATED
    (GENERATED / "diffusion" / "v1").mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "grpc_tools.protoc", f"-I{root}",
               f"--python_out={GENERATED}", f"--grpc_python_out={GENERATED}", *map(str, files)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"protoc failed ({' '.join(command)}):\n{result.stderr}")
    for package in (GENERATED / "diffusion", GENERATED / "diffusion" / "v1"):
        (package / "__init__.py").touch()
    _STAMP.touch()
    return GENERATED


if __name__ == "__main__":
    print(ensure_stubs(force=True))
