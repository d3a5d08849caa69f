"""Deploy a trained model: ``model.export(path, format="onnx")`` writes its inference graph as
ONNX (ONNX Runtime and other runtimes) or TorchScript, and ``load_onnx(path)`` runs an exported
file with ONNX Runtime behind the same ``predict`` as a cnnkit model.

``quantize="int8"`` writes ONNX Runtime's static int8 graph, calibrated on images.

ONNX needs the ``onnx`` extra: ``pip install cnnkit[onnx]``.
"""

from cnnkit.export._export import DEFAULT_OPSET as DEFAULT_OPSET
from cnnkit.export._export import FORMATS as FORMATS
from cnnkit.export._export import export_model as export_model
from cnnkit.export._quantize import QUANTIZE_CHOICES as QUANTIZE_CHOICES
from cnnkit.export._runtime import OnnxModel as OnnxModel
from cnnkit.export._runtime import load_onnx as load_onnx
