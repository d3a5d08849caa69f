"""``cnnkit knn``: choose K and the distance on validation data, then test the choice once."""

from __future__ import annotations

import argparse

from cnnkit.cli import _data
from cnnkit.cli._recipes import recipe_for


def run(args: argparse.Namespace) -> int:
    """Print ``cnnkit.neighbors.select``'s table, then the best pair's test accuracy."""
    from cnnkit.neighbors import KNeighborsClassifier, select

    kind = _data.dataset_kind(args.dataset)
    data = _data.load(args.dataset, args.image_size or recipe_for(kind).image_size)
    x_train, y_train = data.x_train[: args.max_train], data.y_train[: args.max_train]
    print(f"{data.name}: {len(x_train):,} training images {data.input_shape}")
    result = select(
        x_train,
        y_train,
        ks=args.k,
        metrics=args.metric,
        cv=args.cv,
        validation_split=None if args.cv else args.validation_split,
    )
    print(result)
    k, metric = result.best
    knn = KNeighborsClassifier(n_neighbors=k, metric=metric).fit(x_train, y_train)
    accuracy = knn.score(data.x_test, data.y_test)
    print(
        f"test accuracy with k={k}, metric={metric!r}: {accuracy:.4f} ({len(data.y_test):,} images)"
    )
    return 0
