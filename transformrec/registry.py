"""A small name → factory registry shared by transforms, backbones, datasets and evaluations.

Why one class: every pluggable part of the library is chosen by name from a YAML config, so
all of them need the same three verbs (register, build, list) and the same helpful error when
a name is misspelled. Modelled on timm's ``register_model`` / ``create_model``.
"""

from __future__ import annotations

import difflib
import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """Raised when a registry is asked for a name it does not hold.

    The message lists every known name (and the closest match) so that a typo in a config
    file can be fixed without reading the source.
    """

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain sentence.
        return str(self.args[0])


def refuse_unknown_keys(
    owner: str,
    accepted: Iterable[str],
    open_ended: bool,
    params: Iterable[str],
    reserved: Iterable[str] = (),
    noun: str = "parameter",
) -> None:
    """Raise a ``ValueError`` naming the keys of ``params`` that ``owner`` does not take (``accepted``,
    any key when ``open_ended``), or that a builder passes itself (``reserved``), and listing the
    accepted ones: one message, whether the parameters come from a signature or the component index."""
    accepted, reserved, given = list(accepted), set(reserved), set(params)
    unknown = sorted((given & reserved) | (set() if open_ended else given - set(accepted)))
    if unknown:
        allowed = ", ".join(n for n in accepted if n not in reserved)
        raise ValueError(f"{owner} has no {noun} {', '.join(unknown)}; accepted: {allowed}")


_SCALARS = {int: "int", float: "float", bool: "bool", str: "str"}


def scalar_types(factory: Callable[..., Any]) -> dict[str, str]:
    """The parameters of ``factory`` annotated with a plain scalar (``int``, ``float``, ``bool``,
    ``str``, optionally ``| None``), as ``{"width": "int", "lr": "float | None"}``; the others
    (tuples, mappings, unions of several kinds) are left out, since they are checked where used."""
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # noqa: BLE001 - an annotation that does not resolve leaves the parameter unchecked
        return {}
    found = {}
    for name, hint in hints.items():
        if name == "return":
            continue
        members = (
            typing.get_args(hint)
            if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
            else (hint,)
        )
        scalars = [m for m in members if m is not type(None)]
        if len(scalars) == 1 and scalars[0] in _SCALARS:
            found[name] = _SCALARS[scalars[0]] + (" | None" if len(scalars) < len(members) else "")
    return found


def _has_type(value: Any, expected: str) -> bool:
    """Whether a config value is of a :func:`scalar_types` type, strictly: no bool for a number,
    no float for an int, no string for either (YAML already gave them their types)."""
    kind, _, optional = expected.partition(" | ")
    if value is None:
        return bool(optional)
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "int":
        return isinstance(value, int)
    if kind == "float":
        return isinstance(value, int | float)
    return isinstance(value, str)


def refuse_wrong_types(owner: str, expected: Mapping[str, str], params: Mapping[str, Any]) -> None:
    """Raise a ``ValueError`` naming the first parameter of ``params`` whose value is not of its
    declared scalar type (``expected``, from :func:`scalar_types`), before anything is built.

    Why: component parameters are a free mapping in the config schema, so ``num_samples: 0.0`` or
    ``width: '16'`` would otherwise reach the factory and fail somewhere inside it (or worse, work
    as a float where an int was meant)."""
    for key, value in params.items():
        if key in expected and not _has_type(value, expected[key]):
            raise ValueError(f"{owner} parameter {key} must be {expected[key]}, got {value!r}")


class Registry(Generic[T]):
    """Maps names to factories (classes or functions) of one kind of object."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}
        self._run_inputs: dict[str, frozenset[str]] = {}

    def register(self, name: str, run_inputs: tuple[str, ...] = ()) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering ``factory`` under ``name``; a duplicate name is an error.

        ``run_inputs``: the factory's parameters that a builder fills from the run when the config
        leaves them out (the data's channel count or image size, the run's seed or device, a
        protocol's label budget, a data set's split). Declared here rather than read from the
        factory's signature, so renaming a parameter cannot silently change what gets filled.
        """

        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories and self._factories[name] is not factory:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._factories[name] = factory
            self._run_inputs[name] = frozenset(run_inputs)
            return factory

        return decorator

    def run_inputs(self, name: str) -> frozenset[str]:
        """The parameters of ``name`` a builder fills from the run (see :meth:`register`)."""
        self.get(name)  # an unknown name is the same helpful error
        return self._run_inputs[name]

    def check_parameters(
        self, name: str, params: Iterable[str], reserved: Iterable[str] = (), noun: str = "parameter"
    ) -> None:
        """Refuse keys a user wrote that the factory of ``name`` does not take (or that a builder
        passes itself: ``reserved``), naming them and the accepted ones, before anything is built.

        This is the one place a factory's signature is read, and only to check what a config
        *states*; what a builder *fills in* is declared by ``run_inputs``, never matched by name.
        """
        factory = self.get(name)
        parameters = inspect.signature(factory).parameters
        accepted = [n for n, p in parameters.items() if p.kind is not p.VAR_KEYWORD]
        open_ended = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        refuse_unknown_keys(f"{self.kind} {name!r}", accepted, open_ended, params, reserved, noun)
        if isinstance(params, Mapping):
            refuse_wrong_types(f"{self.kind} {name!r}", scalar_types(factory), params)

    def get(self, name: str) -> Callable[..., T]:
        """Return the factory registered under ``name`` or raise with the known names."""
        try:
            return self._factories[name]
        except KeyError:
            known = ", ".join(sorted(self._factories)) or "(none)"
            close = difflib.get_close_matches(name, self._factories, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UnknownNameError(f"unknown {self.kind} {name!r}. Known {self.kind}s: {known}.{hint}") from None

    def build(self, name: str, **kwargs: Any) -> T:
        """Instantiate the factory registered under ``name`` with ``kwargs``."""
        factory = self.get(name)
        try:
            return factory(**kwargs)
        except TypeError as error:
            raise TypeError(f"cannot build {self.kind} {name!r} with arguments {sorted(kwargs)}: {error}") from error

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories
