"""The one place the command line calls ``cnnkit.report``, imported only when a report is due.

Where ``cnnkit.report`` cannot be imported (its plotting dependencies missing) the report step
is skipped with a one-line notice, and everything else a command does still happens.
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path
from typing import Any

from cnnkit.callbacks import History
from cnnkit.cli._data import Data, scaled
from cnnkit.cli._errors import CommandError

#: Starts the notice printed when ``cnnkit.report`` cannot be imported.
UNAVAILABLE = "note: report skipped"


def report_module() -> Any | None:
    """``cnnkit.report`` if it can be imported, else None after a one-line notice saying why."""
    try:
        import cnnkit.report as report
    except ImportError as error:
        reason = (
            "cnnkit.report is not available in this version"
            if getattr(error, "name", None) == "cnnkit.report"
            else f"cnnkit.report could not be imported ({error})"
        )
        print(f"{UNAVAILABLE}: {reason}")
        return None
    return report


def build_report(
    out_dir: Path,
    model: Any,
    history: History,
    data: Data,
    knn: Any = None,
    models: dict[str, float] | None = None,
) -> Path | None:
    """Write the report into ``out_dir``; returns its path, or None (with a notice) when
    ``cnnkit.report`` is unavailable. The images go in as uint8 (as the report shows them)
    with the command line's scaling as ``preprocess``; ``knn`` None lets the report compute
    its own kNN baseline, a dict ``{description: accuracy}`` is shown as given; ``models``
    ``{name: test accuracy}`` are other models shown beside this one."""
    report = report_module()
    if report is None:
        return None
    print("building the report...")
    path = report.build(
        out_dir,
        model,
        history,
        ((data.x_train, data.y_train), (data.x_test, data.y_test)),
        class_names=list(data.class_names),
        knn=knn,
        models=models,
        preprocess=scaled,
        title=f"{getattr(model, 'name', 'CNN')} on {Path(data.name).name}",
        progress=sys.stdout,
        walkthroughs=4,
    )
    return Path(path)


def history_from_csv(path: Path) -> History:
    """A History rebuilt from the CSV that CSVLogger wrote (``epoch`` column, one row each)."""
    try:
        with open(path, newline="") as stream:
            rows = list(csv.DictReader(stream))
    except FileNotFoundError:
        raise CommandError(
            f"{path} not found: the run's history (written by cnnkit train)"
        ) from None
    history = History()
    for row in rows:
        epoch = int(row.pop("epoch"))
        history.on_epoch_end(epoch, {key: _number(value) for key, value in row.items()})
    return history


def _number(cell: str) -> float:
    """A CSV cell as a float; CSVLogger's ``NA`` (no value that epoch) becomes NaN."""
    try:
        return float(cell)
    except ValueError:
        return math.nan
