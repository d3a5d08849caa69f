"""The training loop: compile / fit / evaluate / predict (mixed into Sequential)."""

from cnnkit.training._trainer import Trainer as Trainer
