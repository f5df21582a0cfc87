"""Learning-rate schedules: cosine (sec. 4.4) and linear (chapter 3) decay, against their closed forms."""

import math

import pytest
import torch

from transformrec.runtime.schedule import build_lr_schedule


def _rates(kind: str, steps: int = 10, initial: float = 3e-4, final: float = 3e-6) -> list[float]:
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=initial)
    schedule = build_lr_schedule(optimizer, steps, initial, final, kind)
    rates = []
    for _ in range(steps + 2):  # past the end the rate stays at final
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    return rates


def test_linear_decay_is_a_straight_line_from_lr_to_final_lr():
    rates = _rates("linear")
    for step, rate in enumerate(rates):
        t = min(step, 10) / 10
        assert rate == pytest.approx(3e-4 + (3e-6 - 3e-4) * t, rel=1e-9)


def test_cosine_decay_follows_half_a_cosine():
    rates = _rates("cosine")
    for step, rate in enumerate(rates):
        t = min(step, 10) / 10
        assert rate == pytest.approx(3e-6 + 0.5 * (3e-4 - 3e-6) * (1 + math.cos(math.pi * t)), rel=1e-9)


def test_an_unknown_schedule_is_refused_by_name():
    with pytest.raises(ValueError, match="schedule must be one of"):
        _rates("step")
