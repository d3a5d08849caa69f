"""The argparse definition of every subcommand: options, defaults shown in ``--help``, types."""

from __future__ import annotations

import argparse

from cnnkit.cli import _types
from cnnkit.cli._commands_lr_find import add_parser as _lr_find
from cnnkit.cli._data import DATASET_NAMES

DATASET_HELP = f"{', '.join(DATASET_NAMES)}, or a folder of images (one sub-folder per class)"
#: ``cnnkit explain --method`` choices (cnnkit.explain's functions); the first two read a layer.
EXPLAIN_METHODS = (
    "grad_cam",
    "grad_cam_plus_plus",
    "saliency",
    "smooth_grad",
    "integrated_gradients",
    "occlusion",
)
HINT = (
    "Start with `cnnkit demo` (under half a minute on two CPU cores, no download), then "
    "`cnnkit train --dataset fashion_mnist`. Each command has --help."
)


def build_parser() -> argparse.ArgumentParser:
    """The ``cnnkit`` parser with its subcommands; ``args.command`` names the one chosen."""
    parser = argparse.ArgumentParser(
        prog="cnnkit",
        description="Build, train and understand CNNs for image classification.",
        epilog=HINT,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on failure")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )
    for add in (
        _demo,
        _train,
        _lr_find,
        _evaluate,
        _predict,
        _explain,
        _export,
        _summary,
        _knn,
        _report,
    ):
        add(commands, common)
    from cnnkit.cli._parser_audit import add_audit  # imports this module's helpers

    add_audit(commands, common)
    from cnnkit.cli._parser_walkthrough import add_walkthrough

    add_walkthrough(commands, common)
    from cnnkit.cli._parser_serve import add_serve

    add_serve(commands, common)
    return parser


def _command(commands, common, name: str, summary: str, description: str, epilog: str = ""):
    return commands.add_parser(
        name,
        parents=[common],
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def recipes_table() -> str:
    """The per-dataset defaults, for ``train --help``."""
    from cnnkit.cli._recipes import RECIPES

    lines = ["defaults per dataset (each option overrides its own):"]
    for name, recipe in RECIPES.items():
        augment = "none"
        if recipe.augment:
            parts = (["flips"] if recipe.flip else []) + (["shifts"] if recipe.shift else [])
            augment = " + ".join(parts)
        size = (
            f", images {recipe.image_size[0]}x{recipe.image_size[1]}" if recipe.image_size else ""
        )
        smoothing = (
            f", label smoothing {recipe.label_smoothing:g}" if recipe.label_smoothing else ""
        )
        lines.append(
            f"  {name:<14} {recipe.model}, {recipe.epochs} epochs, batch {recipe.batch_size}, "
            f"lr {recipe.learning_rate:g}, augmentation: {augment}{size}{smoothing}"
        )
    lines.append(
        "  all: AdamW (weight decay 5e-4), one-cycle learning rate peaking at lr, 10% of the\n"
        "  training images held out for validation (best.cnnkit = best validation accuracy);\n"
        "  --tta auto: test-time augmentation with the run's flips/shifts when it does not\n"
        "  lower the validation accuracy"
    )
    return "\n".join(lines)


def _data_flags(
    parser: argparse.ArgumentParser,
    *,
    default: str | None = None,
    required: bool = False,
    size_default: str = "per dataset",
) -> None:
    """``--dataset`` and ``--image-size``, the same for every command that reads a dataset."""
    parser.add_argument(
        "--dataset",
        type=_types.dataset,
        default=default,
        required=required,
        help=DATASET_HELP + (f" ({default})" if default else ""),
    )
    parser.add_argument(
        "--image-size",
        type=_types.int_tuple("--image-size", 2, "32,32"),
        metavar="H,W",
        help=f"resize the images to H,W (default: {size_default})",
    )


def _report_switch(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write report.html at the end (--no-report saves a minute on big datasets)",
    )


def _demo(commands, common) -> None:
    parser = _command(
        commands,
        common,
        "demo",
        "kNN, LeNet-5 and a small CNN side by side, then the report (no download)",
        "Train a kNN baseline (L1, L2), LeNet-5 and the zoo's small CNN on the embedded\n"
        "digits dataset (or --dataset), print their test accuracies side by side and\n"
        "write the report.",
    )
    parser.add_argument(
        "--out", default="cnnkit-demo", help="folder for the models and report (cnnkit-demo)"
    )
    _data_flags(parser, default="digits")
    parser.add_argument(
        "--epochs", type=_types.parse_positive_int, help="epochs per CNN (default: per dataset)"
    )
    _report_switch(parser)


def _train(commands, common) -> None:
    parser = _command(
        commands,
        common,
        "train",
        "train a zoo model; checkpoints, history, TensorBoard logs and report in --out",
        "Train a zoo model with per-dataset defaults (AdamW, one-cycle learning rate).\n"
        "Writes best/last checkpoints, history.csv, TensorBoard logs, run.json and the\n"
        "report into --out (default runs/DATASET-MODEL). --resume continues a run.",
        recipes_table(),
    )
    _data_flags(parser)
    parser.add_argument("--model", help="a zoo model name (default: small_cnn)")
    parser.add_argument("--epochs", type=_types.parse_positive_int, help="total epochs")
    parser.add_argument(
        "--width",
        type=_types.parse_positive_int,
        help="filters of the model's first convolution, the later ones scaled with it "
        "(small_cnn: 32, resnet: 16)",
    )
    parser.add_argument("--batch-size", type=_types.parse_positive_int, help="images per step")
    parser.add_argument("--lr", type=_types.positive_float, help="peak learning rate")
    parser.add_argument("--weight-decay", type=_types.non_negative_float, help="AdamW decay")
    parser.add_argument(
        "--label-smoothing",
        type=_types.fraction,
        help="mix this share of a uniform label into each target (0: none; default per dataset)",
    )
    parser.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        help="random shifts (and flips where they make sense) while training",
    )
    parser.add_argument(
        "--validation-split", type=_types.fraction, help="training share held out (0: none)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--out", help="run folder (default: runs/DATASET-MODEL)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument("--overwrite", action="store_true", help="replace a run in --out")
    parser.add_argument(
        "--tta",
        choices=("auto", "on", "off"),
        default="auto",
        help="test-time augmentation with the run's flips/shifts: auto (default) keeps it only "
        "when the validation images score at least as well with it; run.json records the "
        "choice for evaluate and predict",
    )
    _report_switch(parser)


def _evaluate(commands, common) -> None:
    parser = _command(
        commands,
        common,
        "evaluate",
        "test accuracy of a saved model, overall and per class",
        "Score a model file (or a run folder's best model) on a dataset's test images.",
    )
    parser.add_argument("model", metavar="MODEL", help="model file, .onnx export or run folder")
    _data_flags(parser, required=True, size_default="the model's input size")
    parser.add_argument(
        "--no-tta",
        action="store_true",
        help="plain predictions even where cnnkit train chose test-time augmentation",
    )


def _predict(commands, common) -> None:
    parser = _command(
        commands,
        common,
        "predict",
        "top classes of image files, with probabilities",
        "Classify image files with a model file (or a run folder's best model). Images are\n"
        "converted to the model's channels and resized to its input size, with a notice.",
    )
    parser.add_argument("model", metavar="MODEL", help="model file, .onnx export or run folder")
    parser.add_argument("images", metavar="IMAGE", nargs="+", help="PNG, JPEG, BMP or GIF files")
    parser.add_argument(
        "--top-k", type=_types.parse_positive_int, default=3, help="classes to show (3)"
    )
    parser.add_argument(
        "--class-names",
        metavar="FILE|A,B,...",
        help="JSON list file or comma-separated names (default: class_names.json beside MODEL)",
    )
    parser.add_argument(
        "--no-tta",
        action="store_true",
        help="plain predictions even where cnnkit train chose test-time augmentation",
    )


def _explain(commands, common) -> None:
    parser = _command(
        commands,
        common,
        "explain",
        "what a model looks at in image files, as overlay pictures",
        "Explain a model's class for each image file (read as by predict) with one of\n"
        "cnnkit.explain's methods; write one PNG per image, the map over the image, and print\n"
        "the top classes.",
    )
    parser.add_argument("model", metavar="MODEL", help="model file or run folder")
    parser.add_argument("images", metavar="IMAGE", nargs="+", help="PNG, JPEG, BMP or GIF files")
    parser.add_argument(
        "--method",
        choices=EXPLAIN_METHODS,
        default="grad_cam",
        help="explanation method (grad_cam)",
    )
    parser.add_argument(
        "--layer", metavar="NAME", help="layer for grad_cam methods (the last convolution block)"
    )
    parser.add_argument(
        "--target", metavar="CLASS", help="class name or number to explain (the predicted class)"
    )
    parser.add_argument(
        "--out", default="explanations", metavar="DIR", help="folder for the PNGs (explanations)"
    )
    parser.add_argument(
        "--top-k", type=_types.parse_positive_int, default=3, help="classes to show (3)"
    )
    parser.add_argument(
        "--class-names",
        metavar="FILE|A,B,...",
        help="JSON list file or comma-separated names (default: class_names.json beside MODEL)",
    )


def _export(commands, common) -> None:
    parser = _command(
        commands,
        common,
        "export",
        "write a model as ONNX or TorchScript, for serving without cnnkit",
        "Write a model file's (or a run folder's best model's) inference graph to OUT:\n"
        "channels-last images in, the model's outputs (probabilities) out, any batch size,\n"
        "preprocessing layers included and augmentation left out. Class names saved beside\n"
        "MODEL go into the file. predict and evaluate accept the .onnx file.\n"
        "--quantize int8 writes ONNX Runtime's static int8 graph instead, calibrated on\n"
        "--calibration-data, then prints float32 and int8 latency on this CPU (and accuracy\n"
        "with --validation-data); int8 is not faster on every model and CPU.",
    )
    parser.add_argument("model", metavar="MODEL", help="model file or run folder")
    parser.add_argument("out", metavar="OUT", help="file to write (e.g. model.onnx)")
    parser.add_argument(
        "--format",
        choices=("onnx", "torchscript"),
        help="file format (default: torchscript for .pt/.pth, else onnx)",
    )
    parser.add_argument(
        "--opset", type=_types.parse_positive_int, metavar="N", help="ONNX opset (18)"
    )
    parser.add_argument(
        "--quantize", choices=("int8",), help="int8 weights and activations (default: float32)"
    )
    parser.add_argument(
        "--calibration-data",
        metavar="DATA",
        help="images for --quantize: a folder or file of images, an .npy/.npz array (uint8 or "
        "scaled floats) or a dataset name (its training images); at most 512 are used",
    )
    parser.add_argument(
        "--validation-data",
        metavar="DATASET",
        help=f"with --quantize: score float32 and int8 on this dataset's test images ({DATASET_HELP})",
    )


def _summary(commands, common) -> None:
    parser = _command(
        commands,
        common,
        "summary",
        "layers, shapes and parameter counts of a model file or zoo model",
        "Print a model's layers, output shapes and parameter counts.",
    )
    parser.add_argument(
        "model", nargs="?", default="lenet5", metavar="MODEL", help="model file or zoo name"
    )
    parser.add_argument(
        "--input-shape",
        type=_types.int_tuple("--input-shape", 3, "32,32,3"),
        metavar="H,W,C",
        help="input shape for a zoo model",
    )
    parser.add_argument("--formulas", action="store_true", help="show the parameter arithmetic")
    parser.add_argument(
        "--batch-size",
        type=_types.parse_positive_int,
        help="add the training memory for this batch",
    )


def _knn(commands, common) -> None:
    parser = _command(
        commands,
        common,
        "knn",
        "choose K and the distance of a k-nearest-neighbour classifier",
        "Validation accuracy of every (K, distance) pair on the training images\n"
        "(cnnkit.neighbors.select), then the best pair's test accuracy.",
    )
    _data_flags(parser, required=True)
    parser.add_argument(
        "--k",
        type=_types.int_tuple("--k", None, "1,3,5"),
        default=(1, 3, 5),
        metavar="K,...",
        help="candidate K values (1,3,5)",
    )
    parser.add_argument(
        "--metric",
        type=_types.name_list("--metric", ("l1", "l2", "cosine")),
        default=("l1", "l2"),
        metavar="M,...",
        help="candidate distances: l1, l2, cosine (l1,l2)",
    )
    parser.add_argument("--cv", type=_types.parse_positive_int, help="folds (default: one split)")
    parser.add_argument(
        "--validation-split",
        type=_types.open_fraction,
        default=0.2,
        help="training share held out to choose K (0.2)",
    )
    parser.add_argument(
        "--max-train", type=_types.parse_positive_int, help="use only the first N training images"
    )


def _report(commands, common) -> None:
    parser = _command(
        commands,
        common,
        "report",
        "rebuild the report of a training run",
        "Rebuild report.html from a run folder written by cnnkit train.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="folder written by cnnkit train")
