"""`cnnkit serve` under a bounded load: 200 concurrent requests of real Fashion-MNIST images.

Run: python3 bench/bench_serve.py [--requests 200] [--concurrency 32] [--rounds 3]
Trains small_cnn for one epoch on 10,000 Fashion-MNIST training images, saves it, starts
``python -m cnnkit serve`` on a free localhost port in its own process (2 torch threads), then
per round posts ``--requests`` distinct test images as PNG files, ``--concurrency`` at a time,
from an httpx client in this process. Every answer's top class must equal ``model.predict``'s
on the same image. Prints p50, p99 and the slowest latency and the requests per second of each
round, and the status and message for an oversized upload and for a file that is not an image,
followed by a health check (the server stays up).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import subprocess
import sys
import tempfile
import time

import httpx
import numpy as np
from PIL import Image

import cnnkit


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_path: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="2")
    command = [sys.executable, "-m", "cnnkit", "serve", model_path, "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"the server did not start: {server.stderr.read().decode()[-2000:]}")


async def load(url: str, bodies: list[bytes], concurrency: int) -> list[tuple[int, float]]:
    """Each request's top class and seconds, ``concurrency`` requests in flight at once."""
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)

    async def one(client: httpx.AsyncClient, body: bytes) -> tuple[int, float]:
        async with gate:
            start = time.perf_counter()
            response = await client.post("/predict", files={"file": ("x.png", body)})
            seconds = time.perf_counter() - start
        response.raise_for_status()
        return int(response.json()["predictions"][0]["top"][0]["label"]), seconds

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        return await asyncio.gather(*(one(client, body) for body in bodies))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    (x, y), (x_test, _) = cnnkit.datasets.fashion_mnist.load_data()
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.zoo.get("small_cnn")
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x[:10000, ..., None] / 255.0, y[:10000], batch_size=128, epochs=1, verbose=0)
    images = x_test[: args.requests]
    want = model.predict(images[..., None] / 255.0, verbose=0).argmax(axis=1)
    bodies = [png(image) for image in images]
    print(
        f"load average {os.getloadavg()[0]:.1f}; {args.requests} requests, "
        f"{args.concurrency} at a time, small_cnn, 28x28 PNG files"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "small_cnn.cnnkit")
        model.save(path)
        port = free_port()
        server = start_server(path, port)
        url = f"http://127.0.0.1:{port}"
        try:
            for round_index in range(args.rounds):
                start = time.perf_counter()
                results = asyncio.run(load(url, bodies, args.concurrency))
                wall = time.perf_counter() - start
                labels = np.array([label for label, _ in results])
                seconds = np.array([s for _, s in results]) * 1e3
                print(
                    f"round {round_index + 1}: {np.mean(labels == want):.1%} answers equal "
                    f"predict; p50 {np.percentile(seconds, 50):.1f} ms, p99 "
                    f"{np.percentile(seconds, 99):.1f} ms, slowest {seconds.max():.1f} ms; "
                    f"{len(results) / wall:.0f} requests/s"
                )
            big = httpx.post(f"{url}/predict", files={"file": ("big.png", b"\0" * (11 << 20))})
            print(f"11 MiB upload: {big.status_code} {big.json()['error'][:90]}")
            text = httpx.post(f"{url}/predict", files={"file": ("x.png", b"not an image")})
            print(f"not an image: {text.status_code} {text.json()['error'][:90]}")
            print(f"health afterwards: {httpx.get(f'{url}/health').json()['status']}")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
