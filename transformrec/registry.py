"""A small name → factory registry shared by transforms, backbones, datasets and evaluations.

Why one class: every pluggable part of the library is chosen by name from a YAML config, so
all of them need the same three verbs (register, build, list) and the same helpful error when
a name is misspelled. Modelled on timm's ``register_model`` / ``create_model``.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable
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
        parameters = inspect.signature(self.get(name)).parameters
        accepted = [n for n, p in parameters.items() if p.kind is not p.VAR_KEYWORD]
        open_ended = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        refuse_unknown_keys(f"{self.kind} {name!r}", accepted, open_ended, params, reserved, noun)

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
