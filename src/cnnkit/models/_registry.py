"""Which classes a model file may name: cnnkit's own layers and models, the classes a caller
passes as ``custom_objects``, and those registered with :func:`register_serializable`. A
class name read from a file is only ever looked up here, never imported."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cnnkit import layers
from cnnkit.ops import OpLayer

_REGISTERED: dict[str, type] = {}  # "Package>Name" -> class
BUILT_IN_LAYERS: dict[str, type] = {
    name: getattr(layers, name)
    for name in dir(layers)
    if isinstance(getattr(layers, name), type)
    and issubclass(getattr(layers, name), layers.Layer)
    and name not in ("Layer", "RandomImageLayer")  # bases for subclassing; they cannot run
}
BUILT_IN_LAYERS["OpLayer"] = OpLayer  # an op on symbolic tensors (not public, as in Keras)
MODEL_CLASS_NAMES = ("Sequential", "Functional")


def register_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Decorator that lets ``load_model`` rebuild a user's class by the name ``package>name``
    (``name`` defaults to the class name), as Keras' ``register_keras_serializable``.

    Example:
        >>> @register_serializable(package="Demo")
        ... class Twice(layers.Layer):
        ...     def call(self, x):
        ...         return 2 * x
        >>> registered_name(Twice)
        'Demo>Twice'
    """
    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(
            f"register_serializable: package must be a non-empty string without '>'. "
            f"Received: package={package!r}"
        )
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(
            f"register_serializable: name must be a non-empty string or None. Received: name={name!r}"
        )

    def decorator(cls: type) -> type:
        if not isinstance(cls, type) or not hasattr(cls, "get_config"):
            raise TypeError(
                "register_serializable decorates a class with get_config (a Layer or Model "
                f"subclass). Received: {cls!r}"
            )
        key = f"{package}>{name or cls.__name__}"
        if key in _REGISTERED and _REGISTERED[key] is not cls:
            raise ValueError(f"register_serializable: {key!r} is already registered")
        _REGISTERED[key] = cls
        cls._registered_name = key
        return cls

    return decorator


def registered_name(cls: type) -> str | None:
    """``package>name`` when ``cls`` itself was registered, else None."""
    key = cls.__dict__.get("_registered_name")
    return key if key is not None and _REGISTERED.get(key) is cls else None


def check_custom_objects(custom_objects: Any, what: str) -> dict[str, type]:
    """``custom_objects`` as a dict of names to classes, else a clear TypeError."""
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, Mapping) or not all(
        isinstance(key, str) and isinstance(value, type) for key, value in custom_objects.items()
    ):
        raise TypeError(
            f"{what}: custom_objects must be a dict of class names to classes, e.g. "
            f"{{'MyLayer': MyLayer}}. Received: custom_objects={custom_objects!r:.200}"
        )
    return dict(custom_objects)


def known_names(custom_objects: Mapping[str, type]) -> set[str]:
    """Every class name a file may use given ``custom_objects``."""
    return {*BUILT_IN_LAYERS, *MODEL_CLASS_NAMES, *custom_objects, *_REGISTERED}


def resolve(class_name: Any, registered: Any, custom_objects: Mapping[str, type]) -> type:
    """The class a file's entry names, among the classes it may name; else a ValueError that
    says how to make a user's class loadable."""
    for key in (registered, class_name):
        if isinstance(key, str):
            if key in custom_objects:
                return custom_objects[key]
            if key in _REGISTERED:
                return _REGISTERED[key]
    if isinstance(class_name, str) and registered is None and class_name in BUILT_IN_LAYERS:
        return BUILT_IN_LAYERS[class_name]
    raise ValueError(
        f"unknown layer class {class_name!r:.100}; a cnnkit file may only hold cnnkit layers "
        f"({', '.join(sorted(BUILT_IN_LAYERS))}) and classes you allow: pass your class with "
        f"load_model(path, custom_objects={{{str(class_name)[:100]!r}: {str(class_name)[:100]}}}) "
        "or decorate it with @cnnkit.saving.register_serializable()"
    )
