"""``cnnkit lr-find``: the learning-rate range test for a zoo model on a dataset, before training.

It builds the model ``cnnkit train`` would build (same recipe, augmentation and optimizer),
runs ``model.lr_find`` on the training images, prints the suggestion and, with ``--plot``,
draws the curve. Nothing is trained for good: the test puts the model back.
"""

from __future__ import annotations

import argparse

from cnnkit.cli import _types

DEFAULT_STEPS = 100


def add_parser(commands, common) -> None:
    """The ``lr-find`` subcommand's options."""
    from cnnkit.cli._parser import _command, _data_flags

    parser = _command(
        commands,
        common,
        "lr-find",
        "find a learning rate: the loss while the rate grows, and a suggestion",
        "Train a zoo model for up to --steps batches while the learning rate grows\n"
        "exponentially from --start-lr to --end-lr; print the suggested rate (pass it to\n"
        "`cnnkit train --lr`). The model is the one `cnnkit train` builds, left untrained.",
    )
    _data_flags(parser, required=True)
    parser.add_argument("--model", help="a zoo model name (default: per dataset)")
    parser.add_argument("--batch-size", type=_types.parse_positive_int, help="images per step")
    parser.add_argument(
        "--steps", type=_types.parse_positive_int, default=DEFAULT_STEPS, help="most batches (100)"
    )
    parser.add_argument("--start-lr", type=_types.positive_float, default=1e-7, help="(1e-7)")
    parser.add_argument("--end-lr", type=_types.positive_float, default=10.0, help="(10)")
    parser.add_argument(
        "--suggestion",
        choices=("steepest", "valley"),
        default="steepest",
        help="how to read the curve (steepest)",
    )
    parser.add_argument("--plot", metavar="FILE.png", help="draw the curve into this PNG file")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")


def run(args: argparse.Namespace) -> int:
    """Run the range test as the parsed arguments say; returns the exit code."""
    import cnnkit
    from cnnkit.cli import _data
    from cnnkit.cli._build import build_model, compile_model
    from cnnkit.cli._errors import UsageError
    from cnnkit.cli._recipes import recipe_for

    if args.end_lr <= args.start_lr:
        raise UsageError(f"--end-lr ({args.end_lr:g}) must be larger than --start-lr")
    if args.steps < 2:
        raise UsageError("--steps must be at least 2")
    cnnkit.utils.set_random_seed(args.seed)
    kind = _data.dataset_kind(args.dataset)
    recipe = recipe_for(
        kind, model=args.model, batch_size=args.batch_size, image_size=args.image_size
    )
    data = _data.load(_data.canonical_dataset(args.dataset), recipe.image_size)
    augment = {"flip": recipe.flip, "shift": recipe.shift} if recipe.augment else None
    model = build_model(recipe.model, data.input_shape, data.num_classes, augment)
    compile_model(model, recipe.learning_rate, recipe.weight_decay, recipe.label_smoothing)
    result = model.lr_find(
        _data.scaled(data.x_train),
        data.y_train,
        start_lr=args.start_lr,
        end_lr=args.end_lr,
        steps=args.steps,
        batch_size=recipe.batch_size,
        suggestion=args.suggestion,
    )
    stopped = " (stopped early: the loss diverged)" if result.diverged else ""
    print(f"{recipe.model} on {data.name}: {len(result.lrs)} steps{stopped}")
    if result.suggestion is None:
        print("no suggestion: too few steps to read the curve (raise --steps or --start-lr)")
    else:
        print(f"suggested learning rate ({result.rule}): {result.suggestion:.3g}")
        print(f"the recipe's learning rate: {recipe.learning_rate:g}")
    if args.plot:
        cnnkit.plots.lr_find(result, save=args.plot)
        print(f"curve written to {args.plot}")
    return 0
