"""``cnnkit report``: rebuild a training run's report from its folder alone."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnkit.cli import _data, _run_dir
from cnnkit.cli._errors import CommandError
from cnnkit.cli._report import build_report, history_from_csv, report_module
from cnnkit.models import load_model


def run(args: argparse.Namespace) -> int:
    """Read run.json, the last model and history.csv, reload the dataset, write the report."""
    run_dir = Path(args.run_dir)
    state = _run_dir.read_state(run_dir)
    if report_module() is None:
        raise CommandError("no report written: cnnkit.report is needed for this command")
    model_path = run_dir / _run_dir.LAST
    if not model_path.is_file():
        model_path = _run_dir.model_file(run_dir)
    model = load_model(model_path, compile=False)
    size = state["settings"].get("image_size")
    data = _data.load(state["dataset"], tuple(size) if size else None)
    history = history_from_csv(run_dir / _run_dir.HISTORY)
    path = build_report(run_dir, model, history, data)
    print(f"report: {path}")
    return 0
