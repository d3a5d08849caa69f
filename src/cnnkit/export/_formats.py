"""An inference program written as ONNX or TorchScript bytes, with the model's facts attached."""

from __future__ import annotations

import io
import json
import logging
import warnings
from typing import Any

import torch

#: Names of the graph's input and output and of its free batch dimension (ONNX).
INPUT_NAME, OUTPUT_NAME, BATCH_NAME = "input", "output", "batch"
#: The file inside a TorchScript archive that holds the metadata (JSON).
TORCHSCRIPT_METADATA = "cnnkit_metadata.json"


def onnx_bytes(
    program: torch.export.ExportedProgram, opset_version: int, metadata: dict[str, str]
) -> bytes:
    """The program as an ONNX model at ``opset_version``, with ``metadata`` in its
    ``metadata_props`` and the batch dimension named ``batch``."""
    with warnings.catch_warnings(), _quiet_exporter_logs():
        warnings.simplefilter("ignore")
        exported = torch.onnx.export(
            program,
            (),
            None,
            opset_version=opset_version,
            dynamo=True,
            verbose=False,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
        )
    proto = exported.model_proto
    written = {entry.domain: entry.version for entry in proto.opset_import}.get("", None)
    if written != opset_version:  # the exporter falls back silently when it cannot convert
        raise ValueError(
            f"export: the model could not be written at opset_version={opset_version} "
            f"(the exporter produced opset {written}); use the default or a newer opset"
        )
    _name_batch_dimension(proto)
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    return proto.SerializeToString()


def _name_batch_dimension(proto: Any) -> None:
    """Rename the exporter's symbol for the batch size (``s77``...) to ``batch``, everywhere."""
    symbol = proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param
    if not symbol:
        return
    for value in [*proto.graph.input, *proto.graph.output, *proto.graph.value_info]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param == symbol:
                dim.dim_param = BATCH_NAME


def torchscript_bytes(program: torch.export.ExportedProgram, metadata: dict[str, str]) -> bytes:
    """The program as a TorchScript archive (``torch.jit.load`` reads it), ``metadata`` as
    JSON in its extra file ``cnnkit_metadata.json``.

    The program's plain graph module is traced rather than the model itself: it holds only
    torch operations and the weights, nothing of cnnkit's classes.
    """
    graph_module = program.module()
    example = program.example_inputs[0][0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.trace(graph_module, (example,), check_trace=False)
        # weights become constants: no gradients, and the runtime may fold them further
        scripted = torch.jit.freeze(scripted.eval())
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer, _extra_files={TORCHSCRIPT_METADATA: json.dumps(metadata)})
    return buffer.getvalue()


class _quiet_exporter_logs:
    """Silence the ONNX exporter's logger (notes on optional packages such as torchvision)."""

    def __enter__(self) -> None:
        self._logger = logging.getLogger("torch.onnx")
        self._level = self._logger.level
        self._logger.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        self._logger.setLevel(self._level)
