"""Fixtures: the server under test is started by clients/ci-clients.sh (or by hand) and named by
DIFFUSION_GRPC_ADDRESS (host:port, h2c) and DIFFUSION_WEB_URL (http://host:port, HTTP/1.1)."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from diffusion_client import DiffusionClient  # noqa: E402


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise pytest.UsageError(f"{name} is not set: start a server (bash clients/ci-clients.sh does) and export it")
    return value


@pytest.fixture(scope="session")
def address() -> str:
    return _required("DIFFUSION_GRPC_ADDRESS")


@pytest.fixture(scope="session")
def web_url() -> str:
    return _required("DIFFUSION_WEB_URL").rstrip("/")


@pytest.fixture(scope="session")
def client(address):
    with DiffusionClient(address) as c:
        yield c


@pytest.fixture(scope="session")
def default_model(client):
    """The ModelInfo of the server's default model, whatever the models root holds."""
    response = client.list_models()
    return next(m for m in response.models if m.id == response.default_model)
