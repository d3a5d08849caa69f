"""The command line, run as a user would run it."""

from __future__ import annotations

import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cnnkit", *args], capture_output=True, text=True, timeout=120
    )


def test_default_job_prints_lenet5_summary():
    result = run()
    assert result.returncode == 0, result.stderr
    assert "Total params: 61,706" in result.stdout


def test_summary_of_a_zoo_model_with_input_shape():
    result = run("summary", "lenet5", "--input-shape", "32,32,3")
    assert result.returncode == 0 and "Total params: 62,006" in result.stdout


def test_unknown_model_is_a_one_line_failure():
    result = run("summary", "resnet9000")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("cnnkit: zoo.get: unknown model 'resnet9000'")
    assert "Traceback" not in result.stderr


def test_bad_input_shape_is_a_usage_error():
    result = run("summary", "lenet5", "--input-shape", "32x32")
    assert result.returncode == 2 and "--input-shape must be comma-separated ints" in result.stderr
