"""Every field of every settings dataclass refuses a value of the wrong type or range when the
config is built, naming ``Class.field`` (issue "Bad input is refused before work starts")."""

import dataclasses
import typing

import pytest

from tqd_lite.diffusion.train import TrainConfig
from tqd_lite.mcm.distill import DistillConfig
from tqd_lite.profiles import PROFILES
from tqd_lite.tqd.gradient_analysis import GradientAnalysisConfig
from tqd_lite.tqd.sampler import TimestepPolicy

CONFIGS = [TrainConfig(), DistillConfig(), GradientAnalysisConfig(), TimestepPolicy(), *PROFILES.values()]


def bad_values(hint) -> list:
    """Values no field annotated ``hint`` accepts: wrong types, and for counts and seeds -1."""
    options = [o for o in typing.get_args(hint) if o is not type(None)] if typing.get_origin(hint) else []
    if len(options) == 1:  # ``X | None``: None is fine, X's bad values are not
        return bad_values(options[0])
    if typing.get_origin(hint) is tuple:
        return ["5", 5, ("x", None)]
    return {
        int: ["abc", 2.5, True, -1],  # every int field is a count, an interval or a seed
        float: ["abc", float("nan"), float("inf"), True],
        bool: ["yes", 1],
        str: [3, None],
    }[hint]


FIELDS = [
    pytest.param(config, field.name, value, id=f"{type(config).__name__}.{field.name}={value!r}")
    for config in CONFIGS
    for field in dataclasses.fields(config)
    for value in bad_values(typing.get_type_hints(type(config))[field.name])
]


@pytest.mark.parametrize(("config", "field", "value"), FIELDS)
def test_every_field_refuses_a_bad_value_by_name(config, field, value):
    with pytest.raises(ValueError, match=rf"\b{type(config).__name__}\.{field}\b"):
        dataclasses.replace(config, **{field: value})


def test_the_walk_covers_every_config_and_field():
    walked = {(type(c).__name__, name) for c, name, _ in (p.values for p in FIELDS)}
    expected = {(type(c).__name__, f.name) for c in CONFIGS for f in dataclasses.fields(c)}
    assert walked == expected and len(FIELDS) > 3 * len(expected)


def test_the_message_says_what_was_expected():
    with pytest.raises(ValueError, match=r"TrainConfig.steps must be an integer, got 2.5"):
        TrainConfig(steps=2.5)
    with pytest.raises(ValueError, match=r"GradientAnalysisConfig.timesteps must be a list of integers"):
        GradientAnalysisConfig(timesteps=(5, 2.5))
    with pytest.raises(ValueError, match=r"TrainConfig.snr_gamma must be a finite number or null, got nan"):
        TrainConfig(snr_gamma=float("nan"))
    assert TrainConfig(learning_rate=1, snr_gamma=None).learning_rate == 1  # an int is a number
