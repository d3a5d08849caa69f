"""Callbacks: hook into training to stop early, checkpoint, log, schedule the learning rate.

The API follows ``keras.callbacks``: callbacks reach the model only through its public
Keras-style surface, so a callback written for Keras works unchanged.
"""

from __future__ import annotations

from cnnkit.callbacks._backup import BackupAndRestore as BackupAndRestore
from cnnkit.callbacks._base import Callback as Callback
from cnnkit.callbacks._base import History as History
from cnnkit.callbacks._checkpoint import ModelCheckpoint as ModelCheckpoint
from cnnkit.callbacks._csv_logger import CSVLogger as CSVLogger
from cnnkit.callbacks._early_stopping import EarlyStopping as EarlyStopping
from cnnkit.callbacks._list import CallbackList as CallbackList
from cnnkit.callbacks._lr import LearningRateScheduler as LearningRateScheduler
from cnnkit.callbacks._lr import ReduceLROnPlateau as ReduceLROnPlateau
from cnnkit.callbacks._misc import LambdaCallback as LambdaCallback
from cnnkit.callbacks._misc import TerminateOnNaN as TerminateOnNaN
from cnnkit.callbacks._model_ema import ModelEMA as ModelEMA
from cnnkit.callbacks._one_cycle import OneCycle as OneCycle
from cnnkit.callbacks._progbar import Progbar as Progbar
from cnnkit.callbacks._progbar import ProgbarLogger as ProgbarLogger
from cnnkit.callbacks._progbar import resolve_verbose as resolve_verbose
from cnnkit.callbacks._tensorboard import TensorBoard as TensorBoard

__all__ = [
    "BackupAndRestore",
    "Callback",
    "CallbackList",
    "CSVLogger",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ModelEMA",
    "OneCycle",
    "Progbar",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
    "resolve_verbose",
]
