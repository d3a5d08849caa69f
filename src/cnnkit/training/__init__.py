"""The training loop: compile / fit / evaluate / predict (mixed into Sequential)."""

from cnnkit.training._lr_curve import LRFindResult as LRFindResult
from cnnkit.training._trainer import Trainer as Trainer
