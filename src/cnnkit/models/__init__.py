"""Models: ``Sequential`` stacks and functional ``Model(inputs, outputs)`` graphs."""

from cnnkit.models._from_config import clone_model as clone_model
from cnnkit.models._from_config import model_from_config as model_from_config
from cnnkit.models._from_config import model_from_json as model_from_json
from cnnkit.models._model import Model as Model
from cnnkit.models._model_file import load_model as load_model
from cnnkit.models._model_file import save_model as save_model
from cnnkit.models._sequential import Sequential as Sequential
