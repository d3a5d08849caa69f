"""One name -> constructor table per family (activations, losses, zoo models, ...), so every
family resolves names, aliases and saved configs the same way and fails with the same words."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

_SHOWN = 100  # characters of a rejected name or object quoted back (a hostile file may hold MBs)
_REFUSED = object()  # ``none=`` default: None is not an accepted identifier


class Registry:
    """The built-ins of one family by name: ``get``, ``serialize`` and ``deserialize`` in one place.

    Names match whatever their case; aliases resolve to the same constructor and ``serialize``
    writes the canonical name. ``deferred`` names (metrics' 'accuracy') are accepted and handed
    back as they are, for the caller to resolve later.

    Args:
        family: The module's name, used in messages (``"zoo"`` -> ``"zoo.get: ..."``).
        kind: What one entry is (``"model"``), used in messages.
        entries: Canonical name -> constructor (a class, a factory or, when ``instantiate`` is
            False, the object itself).
        aliases: Alias -> canonical name.
        base: Instances of these are accepted by ``get`` as they are.
        expected: How ``get``'s TypeError describes the accepted identifiers.
        instantiate: Whether a name means ``constructor(**config)`` (False: the entry itself).
        callables: Whether ``get`` accepts any callable as it is.
        none: What ``get(None)`` returns (by default None is refused).
        deferred: Names accepted as they are (resolved later by the caller).

    Example:
        >>> shapes = Registry("shapes", "shape")
        >>> @shapes.register("square", aliases=("box",))
        ... class Square:
        ...     def get_config(self):
        ...         return {}
        >>> shapes.serialize(shapes.get("BOX"))
        {'class_name': 'square', 'config': {}}
    """

    def __init__(
        self,
        family: str,
        kind: str,
        entries: Mapping[str, Any] | None = None,
        *,
        aliases: Mapping[str, str] | None = None,
        base: type | tuple[type, ...] = (),
        expected: str = "a name",
        instantiate: bool = True,
        callables: bool = False,
        none: Any = _REFUSED,
        deferred: Iterable[str] = (),
    ):
        self.family, self.kind = family, kind
        self._base, self._expected = base, expected
        self._instantiate, self._callables, self._none = instantiate, callables, none
        self._targets: dict[str, Any] = {}  # every accepted spelling, lower-cased -> constructor
        self._spelling: dict[str, str] = {}  # lower-cased -> as registered (for messages)
        self._canonical: list[str] = []  # in registration order (serialize's first match wins)
        self._deferred = {name.lower(): name for name in deferred}
        self._spelling.update(self._deferred)
        for name, target in (entries or {}).items():
            self.register(name)(target)
        for alias, name in (aliases or {}).items():
            self.add_alias(alias, name)

    # ------------------------------------------------------------------ the table
    def register(self, name: str, *, aliases: Iterable[str] = ()) -> Callable[[Any], Any]:
        """Decorator that makes ``constructor`` available under ``name`` (and ``aliases``).

        Example:
            >>> @cnnkit.zoo.register("tiny")  # doctest: +SKIP
            ... def tiny(input_shape=(28, 28, 1), num_classes=10): ...
        """
        self._claim(name)  # a bad name fails where it is written, before any decoration

        def decorator(target: Any) -> Any:
            self._claim(name)
            self._targets[name.lower()], self._spelling[name.lower()] = target, name
            self._canonical.append(name.lower())
            for alias in aliases:
                self.add_alias(alias, name)
            return target

        return decorator

    def add_alias(self, alias: str, name: str) -> None:
        """Make ``alias`` another spelling of the registered ``name``."""
        target = self.lookup(name, f"{self.family}.register")
        self._claim(alias)
        self._targets[alias.lower()], self._spelling[alias.lower()] = target, alias

    def _claim(self, name: Any) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(
                f"{self.family}.register: a {self.kind} name must be a non-empty string. Received: name={name!r}"
            )
        if name.lower() in self._spelling:
            raise ValueError(
                f"{self.family}.register: a {self.kind} named {name!r} is already registered"
            )

    def names(self) -> list[str]:
        """Every accepted name (canonical names, aliases and deferred names), sorted."""
        return sorted(self._spelling.values(), key=str.lower)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._targets

    def lookup(self, name: Any, owner: str | None = None, argument: str | None = None) -> Any:
        """The constructor registered as ``name``, or the one 'unknown ...' error of every family."""
        owner, argument = owner or f"{self.family}.get", argument or self.kind
        if not isinstance(name, str):
            raise TypeError(
                f"{owner}: {argument} must be a name. Received: {argument}={_shown(name)}"
            )
        if name.lower() not in self._targets:
            raise ValueError(self._unknown(name, owner, argument))
        return self._targets[name.lower()]

    def _unknown(self, name: str, owner: str, argument: str) -> str:
        message = (
            f"{owner}: unknown {argument} {_shown(name)}. Available: {', '.join(self.names())}."
        )
        if len(name) <= _SHOWN:  # difflib is quadratic in the word's length
            close = difflib.get_close_matches(name.lower(), list(self._spelling), n=1, cutoff=0.6)
            if close:
                message += f" Did you mean {self._spelling[close[0]]!r}?"
        return message

    # ------------------------------------------------------------------ get / create
    def create(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        owner: str | None = None,
        argument: str | None = None,
    ) -> Any:
        """Build the entry ``name`` with ``arguments`` (the entry itself when not instantiating)."""
        if isinstance(name, str) and name.lower() in self._deferred:
            return name
        target = self.lookup(name, owner, argument)
        if not self._instantiate:
            if arguments:
                raise ValueError(
                    f"{owner or f'{self.family}.get'}: {self.kind} {name!r} takes no config. Received: config={_shown(arguments)}"
                )
            return target
        return target(**(arguments or {}))

    def get(self, identifier: Any, owner: str | None = None, argument: str | None = None) -> Any:
        """Resolve a name, a config dict, an accepted instance (or callable), or None."""
        if identifier is None and self._none is not _REFUSED:
            return self._none
        if isinstance(identifier, str):
            return self.create(identifier, None, owner, argument)
        if isinstance(identifier, dict):
            return self.deserialize(identifier, owner)
        if isinstance(identifier, self._base) or (self._callables and callable(identifier)):
            return identifier
        owner, argument = owner or f"{self.family}.get", argument or self.kind
        raise TypeError(
            f"{owner}: {argument} must be {self._expected}. Received: {argument}={_shown(identifier)}"
        )

    # ------------------------------------------------------------------ saving by name
    def name_of(self, obj: Any) -> str | None:
        """The canonical name ``obj`` was built from (exact type, or the entry itself), or None."""
        if isinstance(obj, str) and obj.lower() in self._deferred:
            return obj
        for key in self._canonical:
            target = self._targets[key]
            if (type(obj) is target) if self._instantiate else (obj is target):
                return self._spelling[key]
        return None

    def serialize(self, obj: Any) -> dict[str, Any] | str:
        """``{"class_name": name, "config": obj.get_config()}`` (just the name for entries that
        are not instantiated, and for deferred names)."""
        name = self.name_of(obj)
        if name is None:
            raise ValueError(
                f"{self.family}.serialize: {_shown(obj)} is not a built-in {self.kind}, so it "
                f"cannot be saved by name. Available: {', '.join(self.names())}."
            )
        if not self._instantiate or name.lower() in self._deferred:
            return name
        config = {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in obj.get_config().items()
        }
        return {"class_name": name, "config": config}

    def deserialize(self, config: Any, owner: str | None = None) -> Any:
        """Rebuild what :meth:`serialize` wrote (a name, or ``{"class_name", "config"}``)."""
        owner = owner or f"{self.family}.deserialize"
        if isinstance(config, str):
            return self.create(config, None, owner)
        if not isinstance(config, dict):
            raise TypeError(
                f"{owner}: config must be a name or a dict {{'class_name': ..., 'config': {{...}}}}. Received: config={_shown(config)}"
            )
        arguments = config.get("config") or {}
        if not isinstance(arguments, dict):
            raise TypeError(
                f"{owner}: config['config'] must be a dict of constructor arguments. Received: {_shown(arguments)}"
            )
        return self.create(config.get("class_name"), arguments, owner)


def _shown(value: Any) -> str:
    """``repr(value)``, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."
