"""MCM's consistency-distillation pieces against closed forms."""

import pytest
import torch
from diffusers import DDIMScheduler

from tqd_lite.diffusion.noise import make_noise_scheduler
from tqd_lite.mcm.consistency import (
    MOTION_REPRESENTATIONS,
    MotionHead,
    boundary_scalings,
    consistency_output,
    ddim_solver_step,
    frequency_band,
    guided_teacher_step,
    motion_representation,
    pseudo_huber,
    solver_timesteps,
    temporal_difference,
    x0_and_eps,
)

SCHEDULER = make_noise_scheduler("v_prediction")


def test_boundary_scalings_match_the_closed_form_and_the_boundary_condition():
    t = torch.tensor([0, 19, 999])
    c_skip, c_out = boundary_scalings(SCHEDULER, t, timestep_scaling=4.0)
    s = 4.0 * t.double()
    assert torch.allclose(c_skip.double(), 0.25 / (s**2 + 0.25), atol=1e-7)
    assert torch.allclose(c_out.double(), s / (s**2 + 0.25).sqrt(), atol=1e-7)
    x, x0_hat = torch.randn(3, 3, 4, 8, 8), torch.randn(3, 3, 4, 8, 8)
    f = consistency_output(x, x0_hat, c_skip, c_out)
    assert torch.equal(f[0], x[0])  # f(x, 0) = x
    assert torch.allclose(f[2], x0_hat[2], atol=1e-5)  # far from 0, f is the x0 estimate


def test_the_ddim_solver_step_with_the_true_x0_and_noise_lands_on_the_forward_process():
    x0, eps = torch.randn(4, 3, 4, 8, 8), torch.randn(4, 3, 4, 8, 8)
    t_prev = torch.tensor([0, 19, 500, 979])
    stepped = ddim_solver_step(SCHEDULER, x0, eps, t_prev)
    assert torch.allclose(stepped, SCHEDULER.add_noise(x0, eps, t_prev), atol=1e-6)


def test_pseudo_huber_is_quadratic_near_zero_and_linear_far_away():
    a = torch.zeros(3, 1, 1, 1, 1, dtype=torch.float64)  # float64: the small case needs the digits
    b = torch.tensor([0.0, 1e-5, 10.0], dtype=torch.float64).view(3, 1, 1, 1, 1)
    distance = pseudo_huber(a, b, c=0.001)
    assert distance[0] == 0
    assert distance[1].item() == pytest.approx(1e-10 / (2 * 0.001), rel=1e-3)  # d^2 / 2c
    assert distance[2].item() == pytest.approx(10.0 - 0.001, rel=1e-6)  # |d| - c


def test_a_static_clip_has_no_temporal_difference():
    frame = torch.randn(2, 3, 1, 8, 8)
    static = frame.expand(2, 3, 5, 8, 8)
    assert temporal_difference(static).shape == (2, 3, 4, 8, 8)
    assert temporal_difference(static).abs().max() == 0
    moving = torch.randn(2, 3, 5, 8, 8)
    assert torch.equal(
        motion_representation(moving, "temporal_difference"), moving[:, :, 1:] - moving[:, :, :-1]
    )


def test_frequency_bands_split_a_clip():
    z = torch.randn(2, 3, 8, 16, 16)
    low, high = frequency_band(z, "low"), frequency_band(z, "high")
    assert torch.allclose(low + high, z, atol=1e-5)
    constant = torch.full((1, 3, 8, 16, 16), 0.7)
    assert torch.allclose(frequency_band(constant, "low"), constant, atol=1e-6)  # DC passes
    assert frequency_band(constant, "high").abs().max() < 1e-6
    checkerboard = (torch.arange(16).view(1, 16) + torch.arange(16).view(16, 1)) % 2 * 2.0 - 1
    fine = checkerboard.expand(1, 3, 8, 16, 16)
    assert frequency_band(fine, "low").abs().max() < 0.01  # Nyquist is stopped
    with pytest.raises(ValueError, match="unknown motion representation 'optical_flow'"):
        motion_representation(z, "optical_flow")


def test_the_motion_head_starts_as_the_identity_and_learns():
    torch.manual_seed(0)
    head, z = MotionHead(), torch.randn(2, 3, 4, 8, 8)
    assert torch.equal(head(z), z) and head.output_norm(z) == pytest.approx(1.0)
    head(z).pow(2).sum().backward()
    assert head.outer.weight.grad.abs().sum() > 0  # the zero-initialised layer gets a gradient


def test_the_solver_grid_is_lcms():
    grid = solver_timesteps(1000, 50)
    assert grid[0] == 19 and grid[-1] == 999 and len(grid) == 50
    assert set((grid[1:] - grid[:-1]).tolist()) == {20}
    with pytest.raises(ValueError, match="num_solver_steps must divide"):
        solver_timesteps(1000, 30)


@pytest.mark.parametrize("prediction_type", ["v_prediction", "epsilon"])
def test_our_ddim_solver_step_matches_diffusers_ddim_scheduler(prediction_type):
    scheduler = make_noise_scheduler(prediction_type)
    ddim = DDIMScheduler.from_config(scheduler.config, timestep_spacing="trailing")
    ddim.set_timesteps(50)  # 999, 979, ..., 19: each step goes back k = 20
    torch.manual_seed(0)
    x_t, output = torch.randn(3, 3, 4, 8, 8), torch.randn(3, 3, 4, 8, 8)
    for t in (999, 519, 39):
        expected = ddim.step(output, t, x_t).prev_sample
        steps = torch.full((3,), t)
        x0_hat, eps_hat = x0_and_eps(scheduler, x_t, steps, output)
        ours = ddim_solver_step(scheduler, x0_hat, eps_hat, steps - 20)
        assert torch.allclose(ours, expected, atol=1e-5), t


class _FixedTeacher(torch.nn.Module):
    """A 'teacher' whose output is a fixed tensor per class (labels 0, 1; 2 is the null class)."""

    def __init__(self, outputs: torch.Tensor):
        super().__init__()
        self.outputs = outputs  # (3, C, F, H, W)
        self.config = type("Config", (), {"num_classes": 2})()

    def forward(self, x, t, labels):
        return self.outputs[labels]


def test_the_guided_teacher_step_uses_the_lcm_form_of_guidance():
    torch.manual_seed(0)
    teacher = _FixedTeacher(torch.randn(3, 3, 4, 8, 8))
    x_t, t, s = torch.randn(2, 3, 4, 8, 8), torch.tensor([519, 519]), torch.tensor([499, 499])
    labels, w = torch.tensor([0, 1]), torch.tensor([0.0, 2.5])
    stepped = guided_teacher_step(teacher, SCHEDULER, x_t, t, s, labels, w)
    x0_c, eps_c = x0_and_eps(SCHEDULER, x_t, t, teacher.outputs[labels])
    x0_u, eps_u = x0_and_eps(SCHEDULER, x_t, t, teacher.outputs[[2, 2]])
    plain = ddim_solver_step(SCHEDULER, x0_c, eps_c, s)
    assert torch.allclose(stepped[0], plain[0], atol=1e-6)  # w = 0: the conditional step
    guided = ddim_solver_step(SCHEDULER, x0_c + 2.5 * (x0_c - x0_u), eps_c + 2.5 * (eps_c - eps_u), s)
    assert torch.allclose(stepped[1], guided[1], atol=1e-5)


@pytest.mark.parametrize("kind", MOTION_REPRESENTATIONS)
def test_each_motion_representation_has_its_shape(kind):
    z = torch.randn(2, 3, 8, 16, 16)
    frames = 7 if kind == "temporal_difference" else 8
    assert motion_representation(z, kind).shape == (2, 3, frames, 16, 16)
