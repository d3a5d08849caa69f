"""The same fit under torchrun (2 processes, gloo on CPU) as on one process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

JOB = Path(__file__).with_name("distributed_job.py")


def run_job(out: Path, processes: int, *extra: str) -> subprocess.CompletedProcess:
    if processes == 1:
        command = [sys.executable, str(JOB), str(out), *extra]
    else:
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={processes}",
            str(JOB),
            str(out),
            *extra,
        ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    single, double = tmp_path_factory.mktemp("single"), tmp_path_factory.mktemp("double")
    for out, processes in ((single, 1), (double, 2)):
        result = run_job(out, processes)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return single, double


def test_two_processes_train_the_same_weights_as_one(runs):
    single, double = runs
    one = np.load(single / "weights-1.npz", allow_pickle=False)
    two = np.load(double / "weights-2.npz", allow_pickle=False)
    assert len(one.files) == len(two.files) == 6
    for name in one.files:
        np.testing.assert_allclose(two[name], one[name], rtol=1e-5, atol=1e-5)


def test_metrics_are_global_and_predict_is_complete_on_every_rank(runs):
    single, double = runs
    alone = json.loads((single / "rank0.json").read_text())
    ranks = [json.loads((double / f"rank{r}.json").read_text()) for r in (0, 1)]
    for observed in ranks:
        for key, values in alone["history"].items():
            np.testing.assert_allclose(observed["history"][key], values, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            observed["predictions"], alone["predictions"], rtol=1e-5, atol=1e-6
        )


def test_only_rank_zero_writes_files_and_early_stopping_stops_both(runs):
    _, double = runs
    written = sorted(p.name for p in (double / "run-0").iterdir())
    assert "history.csv" in written and any(name.startswith("ckpt-") for name in written)
    assert not (double / "run-1").exists()
    ranks = [json.loads((double / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["epochs_run"] == ranks[1]["epochs_run"] == 2  # min_delta=10: no epoch improves


def test_each_rank_joins_the_gloo_threads_before_python_finalizes(runs):
    """A gloo worker thread still running at finalization can take the GIL too late (to drop a
    finished collective's tensors) and abort the process: leaving the group must join them."""
    _, double = runs
    for rank in (0, 1):
        during = json.loads((double / f"rank{rank}.json").read_text())["threads"]
        at_exit = json.loads((double / f"threads-at-exit{rank}.json").read_text())
        if during is None:
            pytest.skip("thread names come from /proc/self/task (Linux)")
        assert "pt_gloo_runloop" in during  # the check below can see gloo's threads
        assert [name for name in at_exit if "gloo" in name] == []


def test_a_failing_rank_ends_the_run_and_is_named(tmp_path):
    result = run_job(tmp_path, 2, "--fail-rank", "1")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "rank 1 fails on purpose" in output
    assert "rank: 1" in output  # torchrun's failure summary names the rank


def test_batch_smaller_than_world_size_is_refused(tmp_path, monkeypatch):
    import cnnkit
    from cnnkit import distributed

    monkeypatch.setattr(distributed, "world", lambda: distributed.World(0, 4))
    monkeypatch.setattr(distributed, "setup", lambda device: distributed.World(0, 4))
    model = cnnkit.zoo.get("lenet5")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(
        ValueError,
        match=r"batch_size \(2\) is the global batch and must be at least the number of processes \(4\)",
    ):
        model.fit(np.zeros((8, 32, 32, 1)), np.zeros(8, dtype=int), batch_size=2, verbose=0)


def test_a_functional_model_trains_the_same_under_torchrun(tmp_path):
    single, double = tmp_path / "single", tmp_path / "double"
    for out, processes in ((single, 1), (double, 2)):
        out.mkdir()
        result = run_job(out, processes, "--functional")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    one = np.load(single / "weights-1.npz", allow_pickle=False)
    two = np.load(double / "weights-2.npz", allow_pickle=False)
    assert len(one.files) == len(two.files) == 8
    for name in one.files:
        np.testing.assert_allclose(two[name], one[name], rtol=1e-5, atol=1e-5)
    alone = json.loads((single / "rank0.json").read_text())
    for rank in (0, 1):
        observed = json.loads((double / f"rank{rank}.json").read_text())
        np.testing.assert_allclose(observed["predictions"], alone["predictions"], atol=1e-6)
