"""Type checks of the settings dataclasses, run when one is built, before any work starts.

Every config (``TrainConfig``, ``DistillConfig``, ``GradientAnalysisConfig``, ``TimestepPolicy``,
``Profile``) is filled from YAML, JSON or ``--set field=value`` flags, where ``steps=abc`` or
``steps=2.5`` are easy typos. Python does not enforce annotations, so :func:`check_field_types`
does, from the annotations themselves: a count must be an ``int`` (not ``2.5``, not ``true``), a
float a finite number, a tuple a tuple of its element type. Range checks stay with each class.
(pydantic does this in general; one dependency for five small frozen dataclasses is not worth it.)
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing


def _matches(value, hint) -> bool:
    """Whether ``value`` fits the annotation ``hint`` (int, float, bool, str, X | None, tuple[X, ...])."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, option) for option in typing.get_args(hint))
    if origin is tuple:
        (element, *_rest) = typing.get_args(hint)
        return isinstance(value, tuple) and all(_matches(v, element) for v in value)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:  # an int is a valid float (``learning_rate: 1``); NaN and infinity are not
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return isinstance(value, hint)


def _describe(hint) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(option) for option in typing.get_args(hint))
    if origin is tuple:
        element = typing.get_args(hint)[0]
        return "a list of " + {int: "integers", float: "finite numbers", str: "strings"}[element]
    if hint is type(None):
        return "null"
    return {int: "an integer", float: "a finite number", bool: "true or false", str: "a string"}.get(
        hint, hint.__name__
    )


def check_field_types(config) -> None:
    """Raise ``ValueError`` naming ``Class.field``, what it must be and what it got, for the first
    field of the dataclass instance ``config`` whose value does not fit its annotation."""
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if not _matches(value, hints[field.name]):
            expected = _describe(hints[field.name])
            raise ValueError(f"{type(config).__name__}.{field.name} must be {expected}, got {value!r}")


def check_ranges(config, checks: dict[str, bool]) -> None:
    """Raise ``ValueError`` naming ``Class.field`` and its value for the first failed range check."""
    for name, ok in checks.items():
        if not ok:
            raise ValueError(f"{type(config).__name__}.{name} is out of range: {getattr(config, name)!r}")
