"""A model's ``summary()``: the table of layers, shapes and parameters (``models/_summary.py``
writes it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnkit._validation import check_int
from cnnkit.models import _summary


class SummaryMethods:
    """``summary`` and ``summary_text`` of every model."""

    def summary(
        self,
        line_length: int | None = None,
        print_fn: Callable[[str], Any] | None = None,
        show_trainable: bool = False,
        formulas: bool = False,
        batch_size: int | None = None,
    ) -> None:
        """Print each layer's name (type), output shape and parameter count, then the totals.

        Args:
            line_length: minimum width of the table in characters.
            print_fn: called with each line instead of ``print`` (e.g. a logger or list.append).
            show_trainable: add a column saying whether each layer is trainable.
            formulas: write each parameter count as the lecture's arithmetic,
                ``6 × (5×5×1) + 6 = 156``.
            batch_size: add each layer's activation memory for a batch of this size and the
                estimated memory of a training step (see ``cnnkit.memory.training_memory``).
        """
        if print_fn is not None and not callable(print_fn):
            raise TypeError(
                "summary: print_fn must be a function of one string, such as print. "
                f"Received: print_fn={print_fn!r}"
            )
        for line in self._summary_lines(
            line_length, show_trainable, formulas, batch_size, "summary"
        ):
            (print_fn or print)(line)

    def summary_text(
        self,
        line_length: int | None = None,
        show_trainable: bool = False,
        formulas: bool = False,
        batch_size: int | None = None,
    ) -> str:
        """Return what :meth:`summary` prints, as one string."""
        return "\n".join(
            self._summary_lines(line_length, show_trainable, formulas, batch_size, "summary_text")
        )

    def _summary_lines(self, line_length, show_trainable, formulas, batch_size, what) -> list[str]:
        self._require_built(what)
        check_int(line_length, "line_length", what, minimum=1, optional=True)
        check_int(batch_size, "batch_size", what, minimum=1, optional=True)
        return _summary.summary_lines(self, line_length, show_trainable, formulas, batch_size)
