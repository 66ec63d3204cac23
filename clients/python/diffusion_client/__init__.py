"""A small Python client of DiffusionGrpc's Generation service.

    from diffusion_client import DiffusionClient, Progress, Result

    with DiffusionClient("127.0.0.1:5000") as client:
        for event in client.generate("a red circle", steps=20, seed=1):
            if isinstance(event, Progress):
                print(event.step, event.total_steps, len(event.previews))
            elif isinstance(event, Result):
                open("out.png", "wb").write(event.images[0].data)

Leaving the loop early (``break``, an exception, closing the generator) cancels the call on the
server. Errors are ``grpc.RpcError`` with the server's status code and message.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Iterator, Optional, Union

from ._stubs import ensure_stubs

sys.path.insert(0, str(ensure_stubs()))

import grpc  # noqa: E402
from google.protobuf import wrappers_pb2  # noqa: E402

from diffusion.v1 import common_pb2, generation_pb2, generation_pb2_grpc  # noqa: E402

__all__ = ["DiffusionClient", "Image", "Queued", "Progress", "Result", "generate", "list_models",
           "common_pb2", "generation_pb2"]

MAX_MESSAGE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Image:
    """An encoded image (PNG, JPEG or WebP) with its size and seed."""
    data: bytes
    mime_type: str
    width: int
    height: int
    seed: int

    @staticmethod
    def _from(message) -> "Image":
        return Image(message.data, message.mime_type, message.width, message.height, message.seed)


@dataclass(frozen=True)
class Queued:
    """The request waits for the denoiser; ``position`` 1 = next."""
    position: int


@dataclass(frozen=True)
class Progress:
    """A denoising step has finished; ``previews`` holds one image per batch image (may be empty)."""
    step: int
    total_steps: int
    timestep: float
    elapsed_seconds: float
    previews: list = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    """The final images and the request as the server resolved it (every default filled in)."""
    images: list
    resolved: "generation_pb2.GenerateRequest"
    elapsed_seconds: float


Event = Union[Queued, Progress, Result]

_PREVIEW_KINDS = {"none": common_pb2.NONE, "latent_rgb": common_pb2.LATENT_RGB, "vae": common_pb2.VAE}
_FORMATS = {"png": common_pb2.PNG, "jpeg": common_pb2.JPEG, "webp": common_pb2.WEBP}


def build_request(prompt: str, *, negative_prompt: str = "", model: str = "", width: int = 0, height: int = 0,
                  steps: int = 0, guidance_scale: Optional[float] = None, scheduler: Optional[str] = None,
                  seed: Optional[int] = None, num_images: int = 1, preview: str = "latent_rgb",
                  preview_every: int = 1, preview_format: str = "jpeg", output_format: str = "png"):
    """A GenerateRequest; 0 / None mean the model's defaults (a random seed for ``seed``).

    ``scheduler`` is a SchedulerKind name (``"EULER"``, ``"DDIM"``...); ``preview`` one of none,
    latent_rgb, vae; formats png, jpeg, webp.
    """
    request = generation_pb2.GenerateRequest(
        model=model, prompt=prompt, negative_prompt=negative_prompt, width=width, height=height, steps=steps,
        num_images=num_images, output_format=_FORMATS[output_format.lower()],
        preview=common_pb2.PreviewOptions(kind=_PREVIEW_KINDS[preview.lower()], every_n_steps=preview_every,
                                          format=_FORMATS[preview_format.lower()]))
    if guidance_scale is not None:
        request.guidance_scale.CopyFrom(wrappers_pb2.FloatValue(value=guidance_scale))
    if seed is not None:
        request.seed.CopyFrom(wrappers_pb2.UInt64Value(value=seed))
    if scheduler:
        request.scheduler.kind = common_pb2.SchedulerKind.Value(scheduler.upper())
    return request


class DiffusionClient:
    """A connection to a DiffusionGrpc host (gRPC over h2c, or TLS with ``secure=True``)."""

    def __init__(self, address: str, *, secure: bool = False):
        options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                   ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]
        self.channel = (grpc.secure_channel(address, grpc.ssl_channel_credentials(), options) if secure
                        else grpc.insecure_channel(address, options))
        self.stub = generation_pb2_grpc.GenerationStub(self.channel)

    def __enter__(self) -> "DiffusionClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Closes the channel."""
        self.channel.close()

    def list_models(self, timeout: Optional[float] = 30):
        """The ListModelsResponse: ``models`` (id, default size, steps, scheduler...) and ``default_model``."""
        return self.stub.ListModels(common_pb2.ListModelsRequest(), timeout=timeout)

    def generate(self, prompt: str = "", *, request=None, timeout: Optional[float] = None, **options) -> Iterator[Event]:
        """Streams Queued, Progress after every step, then one Result.

        Give either a prompt and :func:`build_request` keywords, or a ready ``request``. Leaving the
        iteration early cancels the call on the server.
        """
        if request is None:
            request = build_request(prompt, **options)
        call = self.stub.Generate(request, timeout=timeout)
        try:
            for update in call:
                kind = update.WhichOneof("update")
                if kind == "queued":
                    yield Queued(update.queued.position)
                elif kind == "step":
                    step = update.step
                    yield Progress(step.step, step.total_steps, step.timestep, step.elapsed_seconds,
                                   [Image._from(p) for p in step.previews])
                elif kind == "result":
                    result = update.result
                    yield Result([Image._from(i) for i in result.images], result.resolved, result.elapsed_seconds)
        finally:
            call.cancel()  # no-op when the stream has ended; cancels it on the server otherwise


def generate(address: str, prompt: str, **options) -> Iterator[Event]:
    """One-off :meth:`DiffusionClient.generate` on a fresh connection to ``address``."""
    with DiffusionClient(address) as client:
        yield from client.generate(prompt, **options)


def list_models(address: str):
    """One-off :meth:`DiffusionClient.list_models`."""
    with DiffusionClient(address) as client:
        return client.list_models()
