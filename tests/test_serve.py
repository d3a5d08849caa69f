"""``cnnkit.serve`` over real HTTP: a uvicorn server on localhost, requests sent with httpx."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
import torch
from cli_helpers import checkout_env, run_here
from serve_helpers import bomb_png, live_server, png_bytes

import cnnkit
from cnnkit.serve import Batcher, create_app

NAMES = ["circle", "square", "triangle"]


@pytest.fixture(scope="module")
def model():
    cnnkit.utils.set_random_seed(0)
    return cnnkit.zoo.get(
        "small_cnn", input_shape=(12, 12, 1), num_classes=3, width=4, units=8, dropout=0
    )


@pytest.fixture(scope="module")
def images():
    """Six 12x12 grayscale images, varied enough that the model ranks them differently."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(6, 12, 12, 1), dtype=np.uint8)


@pytest.fixture(scope="module")
def url(model):
    app = create_app(model, NAMES, max_upload_mb=0.05, max_batch=8, batch_wait_ms=20)
    with live_server(app) as base:
        yield base


def expected(model, images: np.ndarray) -> np.ndarray:
    return model.predict(images.astype(np.float32) / 255, verbose=0)


def top_probabilities(answer: dict) -> dict[int, float]:
    return {entry["label"]: entry["probability"] for entry in answer["top"]}


def test_one_image_answers_as_model_predict(url, model, images):
    response = httpx.post(f"{url}/predict", files={"file": ("a.png", png_bytes(images[0]))})
    assert response.status_code == 200, response.text
    (answer,) = response.json()["predictions"]
    want = expected(model, images[:1])[0]
    assert answer["file"] == "a.png"
    assert [entry["label"] for entry in answer["top"]] == list(np.argsort(-want, kind="stable"))
    assert [entry["class_name"] for entry in answer["top"]] == [
        NAMES[i] for i in np.argsort(-want, kind="stable")
    ]
    got = top_probabilities(answer)
    np.testing.assert_allclose([got[i] for i in range(3)], want, rtol=1e-5, atol=1e-6)


def test_several_files_and_a_raw_body(url, model, images):
    files = [("files", (f"{i}.png", png_bytes(image))) for i, image in enumerate(images)]
    response = httpx.post(f"{url}/predict", files=files, params={"top_k": "2"})
    assert response.status_code == 200, response.text
    answers = response.json()["predictions"]
    want = expected(model, images)
    assert [a["file"] for a in answers] == [f"{i}.png" for i in range(6)]
    for answer, row in zip(answers, want):
        assert [e["label"] for e in answer["top"]] == list(np.argsort(-row, kind="stable")[:2])
        for label, probability in top_probabilities(answer).items():
            assert probability == pytest.approx(row[label], rel=1e-5, abs=1e-6)
    raw = httpx.post(
        f"{url}/predict", content=png_bytes(images[1]), headers={"content-type": "image/png"}
    )
    assert raw.status_code == 200, raw.text
    assert raw.json()["predictions"][0]["top"][0]["label"] == int(np.argmax(want[1]))


def test_an_rgb_image_of_another_size_is_converted_and_resized(url, model):
    rgb = np.random.default_rng(1).integers(0, 256, size=(30, 20, 3), dtype=np.uint8)
    response = httpx.post(f"{url}/predict", files={"file": ("big.png", png_bytes(rgb))})
    assert response.status_code == 200, response.text
    import io

    from cnnkit.datasets import load_image, resize_images

    gray = load_image(io.BytesIO(png_bytes(rgb)), "grayscale")
    want = expected(model, resize_images(gray[None], (12, 12)))[0]
    assert top_probabilities(response.json()["predictions"][0])[0] == pytest.approx(
        want[0], rel=1e-5
    )


@pytest.mark.parametrize(
    ("content", "status", "words"),
    [
        (b"not an image at all", 422, "not a PNG, JPEG, BMP or GIF image"),
        (b"", 422, "bad.png is empty"),
        ("truncated", 422, "truncated"),
        ("bomb", 422, "pixels"),
    ],
)
def test_bad_files_are_refused_with_a_message(url, images, content, status, words):
    if content == "truncated":
        content = png_bytes(images[0])[:-30]
    elif content == "bomb":
        content = bomb_png()
    response = httpx.post(f"{url}/predict", files={"file": ("bad.png", content)})
    assert response.status_code == status
    assert words in response.json()["error"]
    assert httpx.get(f"{url}/health").json()["status"] == "ok"


def test_wrong_content_type_missing_files_and_bad_top_k(url, images):
    response = httpx.post(
        f"{url}/predict", content=b"{}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["error"]
    response = httpx.post(f"{url}/predict", data={"other": "x"}, files={"x": ("a.png", b"1")})
    assert response.status_code == 422
    assert "no image in the request" in response.json()["error"]
    png = png_bytes(images[0])
    response = httpx.post(f"{url}/predict", files={"file": ("a.png", png)}, params={"top_k": "0"})
    assert response.status_code == 422
    assert "top_k must be a positive integer" in response.json()["error"]


def test_oversize_upload_is_refused_by_its_declared_length(url):
    big = b"\x89PNG" + bytes(60_000)  # over the fixture's 0.05 MiB
    response = httpx.post(f"{url}/predict", files={"file": ("big.png", big)})
    assert response.status_code == 413
    assert "larger than the server's limit of 52,428 bytes" in response.json()["error"]


def test_oversize_stream_is_refused_before_its_end(url):
    """A chunked body with no Content-Length that never ends: the server must answer 413 once
    the limit is passed; a server reading the whole body first would wait forever."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = bytes(8192)
        for _ in range(8):  # 64 KiB, over the 0.05 MiB limit; the final 0-chunk is never sent
            sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert httpx.get(f"{url}/health").json()["status"] == "ok"


def test_health_describes_the_model(url):
    health = httpx.get(f"{url}/health").json()
    assert health["status"] == "ok"
    assert health["input_shape"] == [12, 12, 1]
    assert health["classes"] == 3 and health["class_names"] == NAMES
    assert health["max_batch"] == 8


def test_concurrent_requests_share_model_calls(url, model, images):
    """Twelve requests sent at once are answered by fewer model calls, each answer its own."""
    before = httpx.get(f"{url}/health").json()["predict_calls"]

    async def send_all():
        async with httpx.AsyncClient(base_url=url) as client:
            files = [{"file": (f"{i}.png", png_bytes(images[i % 6]))} for i in range(12)]
            return await asyncio.gather(*(client.post("/predict", files=f) for f in files))

    responses = asyncio.run(send_all())
    calls = httpx.get(f"{url}/health").json()["predict_calls"] - before
    assert calls < 12
    want = expected(model, images)
    for i, response in enumerate(responses):
        answer = response.json()["predictions"][0]
        assert answer["top"][0]["label"] == int(np.argmax(want[i % 6]))
        got = top_probabilities(answer)
        np.testing.assert_allclose([got[k] for k in range(3)], want[i % 6], rtol=1e-4, atol=1e-6)


def test_two_hundred_concurrent_requests_are_all_answered(url, model, images):
    want = np.argmax(expected(model, images), axis=1)
    bodies = [png_bytes(image) for image in images]

    async def one(client, gate, i):
        async with gate:
            start = time.perf_counter()
            response = await client.post("/predict", files={"file": ("x.png", bodies[i % 6])})
            return response, time.perf_counter() - start

    async def load():
        gate = asyncio.Semaphore(32)
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
            return await asyncio.gather(*(one(client, gate, i) for i in range(200)))

    results = asyncio.run(load())
    for i, (response, _) in enumerate(results):
        assert response.status_code == 200, response.text
        assert response.json()["predictions"][0]["top"][0]["label"] == want[i % 6]
    latencies = np.sort([seconds for _, seconds in results])
    print(
        f"\n200 requests, 32 at a time: p50 {np.percentile(latencies, 50) * 1e3:.1f} ms, "
        f"p99 {np.percentile(latencies, 99) * 1e3:.1f} ms"
    )
    assert httpx.get(f"{url}/health").json()["status"] == "ok"


def test_batcher_keeps_each_callers_rows_and_honours_max_batch():
    sizes = []

    def predict_fn(x):
        sizes.append(len(x))
        return x.reshape(len(x), -1) * 2

    async def run():
        batcher = Batcher(predict_fn, max_batch=4, wait_s=0.05)
        async with batcher.running():
            requests = [np.full((n, 1, 1, 1), i) for i, n in enumerate([1, 2, 3, 1, 1])]
            return requests, await asyncio.gather(*(batcher.predict(r) for r in requests))

    requests, results = asyncio.run(run())
    for request, result in zip(requests, results):
        np.testing.assert_array_equal(result, request.reshape(len(request), -1) * 2)
    assert max(sizes) <= 4 and sum(sizes) == 8 and len(sizes) < 5


def test_batcher_reports_a_failing_model_to_every_caller_and_carries_on():
    calls = []

    def predict_fn(x):
        calls.append(len(x))
        if len(calls) == 1:
            raise RuntimeError("boom")
        return x.reshape(len(x), -1)

    async def run():
        batcher = Batcher(predict_fn, max_batch=8, wait_s=0.02)
        async with batcher.running():
            failed = await asyncio.gather(
                *(batcher.predict(np.zeros((1, 1, 1, 1))) for _ in range(3)),
                return_exceptions=True,
            )
            return failed, await batcher.predict(np.ones((1, 1, 1, 1)))

    failed, after = asyncio.run(run())
    assert [str(f) for f in failed] == ["boom"] * 3
    assert after.tolist() == [[1.0]]


def test_bad_arguments_are_named(model):
    with pytest.raises(
        ValueError, match=r"max_batch must be a positive integer. Received: max_batch=0"
    ):
        Batcher(lambda x: x, max_batch=0)
    with pytest.raises(ValueError, match="class_names must be 3 strings"):
        create_app(model, ["a", "b"])
    with pytest.raises(ValueError, match="max_upload_mb must be > 0"):
        create_app(model, max_upload_mb=0)
    dense = cnnkit.models.Sequential([cnnkit.layers.Input((5,)), cnnkit.layers.Dense(2)])
    with pytest.raises(
        ValueError, match=r"serving needs an image classifier .* Received: input_shape=\(None, 5\)"
    ):
        create_app(dense)


def test_missing_web_packages_say_which_extra_installs_them(model, monkeypatch):
    monkeypatch.setitem(sys.modules, "starlette.applications", None)
    with pytest.raises(ImportError, match=r"pip install 'cnnkit\[serve\]'"):
        create_app(model)


def test_cnnkit_serve_command_serves_a_saved_model(tmp_path, model, images):
    """``cnnkit serve`` in its own process: class names from beside the model, answers equal
    to the model's, stopped cleanly."""
    model.save(str(tmp_path / "best.cnnkit"))
    (tmp_path / "class_names.json").write_text(json.dumps(NAMES))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "cnnkit", "serve", str(tmp_path), "--port", str(port)]
    server = subprocess.Popen(command, env=checkout_env(), stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                health = httpx.get(f"{url}/health").json()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert health["class_names"] == NAMES and health["max_batch"] == 32
        response = httpx.post(f"{url}/predict", files={"file": ("a.png", png_bytes(images[2]))})
        got = top_probabilities(response.json()["predictions"][0])
        want = expected(model, images[2:3])[0]
        np.testing.assert_allclose([got[i] for i in range(3)], want, rtol=1e-5, atol=1e-6)
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert f"serving {tmp_path / 'best.cnnkit'} at http://127.0.0.1:{port}" in out


def test_cnnkit_serve_help_and_bad_options(capsys):
    result = run_here(capsys, "serve", "--help")
    assert result.returncode == 0 and "POST /predict" in result.stdout
    result = run_here(capsys, "serve", "nowhere", "--max-batch", "0")
    assert result.returncode == 2
    result = run_here(capsys, "serve", "no/such/model.cnnkit")
    assert result.returncode == 1 and "no model file" in result.stderr


def test_a_model_answering_nan_gets_500_and_the_server_stays_up(images):
    broken = cnnkit.zoo.get("small_cnn", input_shape=(12, 12, 1), num_classes=3, width=4, units=8)
    with torch.no_grad():
        broken.layers[-1].bias.fill_(float("nan"))
    with live_server(create_app(broken)) as base:
        response = httpx.post(f"{base}/predict", files={"file": ("a.png", png_bytes(images[0]))})
        assert response.status_code == 500
        assert "NaN or infinite scores" in response.json()["error"]
        assert httpx.get(f"{base}/health").json()["status"] == "ok"
