# GPU image of the DiffusionGrpc host: CUDA runtime + ASP.NET Core runtime.
# Build: docker build -t diffusiongrpc .
# Run:   docker run --gpus all -p 5000:5000 -v /path/to/models:/models diffusiongrpc
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/DiffusionGrpc.Server -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS aspnet

# ONNX Runtime 1.31's CUDA provider wants CUDA 13 (cuBLAS, cuDNN, cuRAND).
FROM nvidia/cuda:13.0.0-cudnn-runtime-ubuntu24.04
RUN apt-get update && apt-get install -y --no-install-recommends libicu74 ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=aspnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
WORKDIR /app
COPY --from=build /app .
COPY models /models
ENV ASPNETCORE_URLS=http://0.0.0.0:5000 \
    Diffusion__ModelsPath=/models \
    Diffusion__ExecutionProvider=auto
EXPOSE 5000
ENTRYPOINT ["dotnet", "DiffusionGrpc.Server.dll"]
