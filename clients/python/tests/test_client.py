"""The Python client against a real DiffusionGrpc host."""
import json
import os
import struct
import subprocess
import sys
import time
import urllib.request
import zlib
from pathlib import Path

import grpc
import pytest

from diffusion_client import Progress, Queued, Result, common_pb2

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "generate.py"


def png_size(data: bytes):
    """(width, height) of a PNG after checking its signature, chunk CRCs and pixel data length."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    pos, idat, width, height, color, depth = 8, b"", None, None, None, None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
        if kind == b"IEND":
            break
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    assert depth == 8
    assert len(zlib.decompress(idat)) == height * (1 + width * channels)
    return width, height


def test_list_models_names_the_default(client):
    response = client.list_models()
    ids = [m.id for m in response.models]
    assert response.default_model in ids
    assert ids == sorted(ids)


def test_generate_streams_a_preview_every_step_then_a_png(client, default_model):
    events = list(client.generate("a red circle", steps=4, seed=7))
    steps = [e for e in events if isinstance(e, Progress)]
    assert isinstance(events[-1], Result)
    assert [s.step for s in steps] == list(range(1, len(steps) + 1))
    assert len(steps) >= 4 and all(s.total_steps == len(steps) for s in steps)
    for step in steps:
        assert len(step.previews) == 1
        assert step.previews[0].mime_type == "image/jpeg" and step.previews[0].data[:2] == b"\xff\xd8"
    result = events[-1]
    assert len(result.images) == 1
    image = result.images[0]
    assert image.mime_type == "image/png" and image.seed == 7
    assert png_size(image.data) == (default_model.default_width, default_model.default_height)
    assert (image.width, image.height) == (default_model.default_width, default_model.default_height)
    assert result.resolved.model == default_model.id and result.resolved.seed.value == 7


def test_same_seed_gives_the_same_image(client):
    def run():
        return [e for e in client.generate("a blue square", steps=3, seed=123, preview="none")][-1].images[0].data
    assert run() == run()


def test_requested_size_and_options(client):
    result = list(client.generate("a green triangle", steps=2, width=48, height=32, seed=1,
                                  scheduler="EULER", guidance_scale=3.0, preview="none"))[-1]
    assert png_size(result.images[0].data) == (48, 32)
    assert result.resolved.scheduler.kind == common_pb2.EULER
    assert result.resolved.guidance_scale.value == pytest.approx(3.0)


def test_bad_request_is_invalid_argument_naming_the_field(client):
    with pytest.raises(grpc.RpcError) as caught:
        list(client.generate("x", width=12))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "width" in caught.value.details()


CANCELLED_LINE = "Generation/Generate stopped: cancelled by the client"


def cancellations_logged() -> int:
    log = os.environ.get("DIFFUSION_SERVER_LOG")
    return Path(log).read_text(errors="replace").count(CANCELLED_LINE) if log else 0


def test_leaving_the_loop_cancels_on_the_server(client):
    before = cancellations_logged()
    seen = 0
    stream = client.generate("a long run", steps=1000, seed=1, preview="vae", preview_format="png")
    for event in stream:
        if isinstance(event, Progress):
            seen += 1
            if seen == 3:
                break
    stream.close()
    log = os.environ.get("DIFFUSION_SERVER_LOG")
    if log:
        # The server saw the cancellation (its log says so) ...
        deadline = time.time() + 10
        while cancellations_logged() <= before:
            assert time.time() < deadline, "the server did not log the cancellation"
            time.sleep(0.05)
    # ... and the denoiser let go: the next request runs at once, not queued behind 1000 steps.
    started = time.perf_counter()
    events = list(client.generate("a short run", steps=2, seed=1, preview="none"))
    assert isinstance(events[-1], Result)
    if log:
        assert not any(isinstance(e, Queued) for e in events)
    assert time.perf_counter() - started < 30


def test_json_api_streams_ndjson(web_url, default_model):
    body = json.dumps({"prompt": "a red circle", "steps": 3, "seed": "5"}).encode()
    request = urllib.request.Request(f"{web_url}/v1/generate", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.headers["Content-Type"].startswith("application/json")
        lines = [json.loads(line) for line in response.read().decode().splitlines() if line.strip()]
    assert [line["step"]["step"] for line in lines if "step" in line] == [1, 2, 3]
    image = lines[-1]["result"]["images"][0]
    assert image["seed"] == "5"  # uint64 as a JSON string (proto3 JSON)
    import base64
    assert png_size(base64.b64decode(image["data"])) == (default_model.default_width, default_model.default_height)


def test_cli_example_saves_previews_and_png(address, tmp_path):
    output, previews = tmp_path / "out.png", tmp_path / "previews"
    completed = subprocess.run([sys.executable, str(EXAMPLE), "a red circle", "-o", str(output), "--previews",
                                str(previews), "--address", address, "--steps", "3", "--seed", "2"],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "first preview after" in completed.stdout
    print(completed.stdout.strip())
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in previews.iterdir())[:3] == ["step-0001-0.jpg", "step-0002-0.jpg", "step-0003-0.jpg"]
