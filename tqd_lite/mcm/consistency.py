"""Consistency-distillation pieces of MCM (docs/papers.md section 2), as small pure functions.

A consistency model ``f(x_t, t)`` maps any point of a teacher's ODE trajectory to its start x0.
Distillation (LCM form, the one MCM's code follows) teaches it so that two neighbouring points of
one trajectory map to the same x0::

    x_{t+k} = sqrt(abar) x0 + sqrt(1 - abar) eps            # noise a clean clip to t_{n+k}
    x_t     = ddim_solver_step(teacher at x_{t+k})           # one teacher step back to t_n
    loss    = d( M(f_student(x_{t+k})), M(f_target(x_t)) )   # d: pseudo-Huber; M: motion representation

with ``f(x, t) = c_skip(t) x + c_out(t) x0_hat(x, t)`` so that ``f(x, 0) = x`` (the boundary
condition). MCM's change is ``M``: the loss compares a *motion representation* of the two
predictions (temporal differences, a frequency band, or a learned head) instead of the raw clips.
"""

from __future__ import annotations

import torch
from diffusers import DDPMScheduler, LCMScheduler
from torch import nn

from tqd_lite.diffusion.noise import abar_like, x0_and_eps

MOTION_REPRESENTATIONS = ("raw", "temporal_difference", "low_pass", "high_pass")
NUM_SOLVER_STEPS = 50  # N: the teacher's DDIM solver grid over T = 1000 (skip k = T / N = 20)


def solver_timesteps(
    num_train_timesteps: int = 1000, num_solver_steps: int = NUM_SOLVER_STEPS
) -> torch.Tensor:
    """The DDIM solver grid ``t_{n+k}`` in ``{k - 1, 2k - 1, ..., T - 1}``, ``k = T / N``: with
    T = 1000 and N = 50, ``19, 39, ..., 999``. Each distillation step starts at one of them and
    the teacher steps back to ``t_n = t_{n+k} - k`` (LCM; docs/papers.md section 2)."""
    if not 1 <= num_solver_steps <= num_train_timesteps or num_train_timesteps % num_solver_steps:
        raise ValueError(
            f"num_solver_steps must divide num_train_timesteps={num_train_timesteps}, got {num_solver_steps}"
        )
    skip = num_train_timesteps // num_solver_steps
    return torch.arange(1, num_solver_steps + 1) * skip - 1


@torch.no_grad()
def guided_teacher_step(
    teacher: nn.Module,
    noise_scheduler: DDPMScheduler,
    x_t: torch.Tensor,
    t: torch.Tensor,
    t_prev: torch.Tensor,
    class_labels: torch.Tensor,
    guidance: torch.Tensor,
) -> torch.Tensor:
    """One teacher DDIM step from ``x_t`` at ``t`` to ``t_prev`` with classifier-free guidance
    in the LCM form, per clip (``guidance`` is w, ``(B,)``)::

        x0 = x0_c + w (x0_c - x0_u),   eps = eps_c + w (eps_c - eps_u)

    ``_c`` with the clip's label, ``_u`` with the null class; w = 0 is the plain conditional step.
    """
    null = torch.full_like(class_labels, teacher.config.num_classes)
    both = teacher(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([class_labels, null])).float()
    x0_both, eps_both = x0_and_eps(noise_scheduler, torch.cat([x_t, x_t]), torch.cat([t, t]), both)
    w = guidance.to(x_t.dtype).view((-1,) + (1,) * (x_t.ndim - 1))
    (x0_c, x0_u), (eps_c, eps_u) = x0_both.chunk(2), eps_both.chunk(2)
    return ddim_solver_step(noise_scheduler, x0_c + w * (x0_c - x0_u), eps_c + w * (eps_c - eps_u), t_prev)


def boundary_scalings(
    noise_scheduler: DDPMScheduler, timesteps: torch.Tensor, timestep_scaling: float = 4.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(c_skip, c_out)`` per timestep, each ``(B,)``: with ``s = timestep_scaling * t`` and
    sigma_data = 0.5, ``c_skip = 0.25 / (s^2 + 0.25)``, ``c_out = s / sqrt(s^2 + 0.25)``.

    Computed by diffusers' ``LCMScheduler`` (MCM uses ``timestep_scaling = 4``; diffusers' default
    is 10). At t = 0, ``c_skip = 1`` and ``c_out = 0``: ``f(x, 0) = x``.
    """
    lcm = LCMScheduler.from_config(noise_scheduler.config, timestep_scaling=timestep_scaling)
    c_skip, c_out = lcm.get_scalings_for_boundary_condition_discrete(timesteps.double())
    return c_skip.float(), c_out.float()


def lcm_scheduler(
    noise_scheduler: DDPMScheduler, timestep_scaling: float = 4.0, num_solver_steps: int = 50
) -> LCMScheduler:
    """diffusers' ``LCMScheduler`` for a student distilled on a ``num_solver_steps`` solver grid:
    each sampling step maps the point to x0 with the consistency function (the boundary scalings
    above) and re-noises it to the next, lower timestep of the grid (MCM samples with 1, 2, 4 or 8
    steps; docs/papers.md, section 2). It drives ``VideoPipeline`` like DDIM does."""
    return LCMScheduler.from_config(
        noise_scheduler.config, timestep_scaling=timestep_scaling, original_inference_steps=num_solver_steps
    )


def consistency_output(
    x_t: torch.Tensor, x0_hat: torch.Tensor, c_skip: torch.Tensor, c_out: torch.Tensor
) -> torch.Tensor:
    """``f(x_t, t) = c_skip(t) x_t + c_out(t) x0_hat``, with per-clip scalings ``(B,)``."""
    shape = (-1,) + (1,) * (x_t.ndim - 1)
    return c_skip.view(shape) * x_t + c_out.view(shape) * x0_hat


def ddim_solver_step(
    noise_scheduler: DDPMScheduler, x0_hat: torch.Tensor, eps_hat: torch.Tensor, t_prev: torch.Tensor
) -> torch.Tensor:
    """The deterministic DDIM step to ``t_prev``, per clip:
    ``x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev) eps_hat``.

    Written out instead of calling ``DDIMScheduler.step`` because that takes one timestep for the
    whole batch, while distillation draws one per clip.
    """
    abar = abar_like(noise_scheduler, t_prev, x0_hat)
    return abar.sqrt() * x0_hat + (1 - abar).sqrt() * eps_hat


def pseudo_huber(a: torch.Tensor, b: torch.Tensor, c: float = 0.001) -> torch.Tensor:
    """Per-clip pseudo-Huber distance ``mean(sqrt((a - b)^2 + c^2) - c)``, ``(B,)``: quadratic for
    differences much smaller than c, linear (robust) for larger ones."""
    return ((a - b).pow(2) + c * c).sqrt().sub(c).flatten(1).mean(dim=1)


def temporal_difference(z: torch.Tensor) -> torch.Tensor:
    """``z[:, :, 1:] - z[:, :, :-1]`` of ``(B, C, F, H, W)``: zero for a static clip."""
    return z[:, :, 1:] - z[:, :, :-1]


def butterworth_mask(shape: tuple[int, int, int], cutoff: float = 0.25, order: int = 4) -> torch.Tensor:
    """The 3-D Butterworth low-pass response ``1 / (1 + (r / cutoff)^(2 order))`` over the
    (F, H, W) frequencies of an FFT, ``r`` the normalised frequency radius (1 = Nyquist)."""
    axes = [torch.fft.fftfreq(n) * 2 for n in shape]  # in [-1, 1)
    grid = torch.meshgrid(*axes, indexing="ij")
    radius = torch.sqrt(sum(g.pow(2) for g in grid))
    return 1.0 / (1.0 + (radius / cutoff).pow(2 * order))


def frequency_band(z: torch.Tensor, band: str, cutoff: float = 0.25, order: int = 4) -> torch.Tensor:
    """The low- or high-pass part of ``(B, C, F, H, W)`` under a 3-D Butterworth filter; the two
    parts add up to ``z``."""
    mask = butterworth_mask(tuple(z.shape[2:]), cutoff, order).to(z.device)
    if band == "high":
        mask = 1 - mask
    elif band != "low":
        raise ValueError(f"band must be 'low' or 'high', got {band!r}")
    spectrum = torch.fft.fftn(z.float(), dim=(2, 3, 4))
    return torch.fft.ifftn(spectrum * mask, dim=(2, 3, 4)).real.to(z.dtype)


def motion_representation(z: torch.Tensor, kind: str) -> torch.Tensor:
    """MCM's fixed motion representations of ``(B, C, F, H, W)`` (``raw`` is plain LCM)."""
    if kind == "raw":
        return z
    if kind == "temporal_difference":
        return temporal_difference(z)
    if kind in ("low_pass", "high_pass"):
        return frequency_band(z, kind.removesuffix("_pass"))
    raise ValueError(f"unknown motion representation {kind!r}; expected one of {MOTION_REPRESENTATIONS}")


class MotionHead(nn.Module):
    """MCM's learnable motion representation, per frame: ``x + Conv1x1(SiLU(GroupNorm(Conv1x1(SiLU(x)))))``.

    The last convolution starts at zero, so the head starts as the identity and distillation as
    plain LCM. It is trained by the consistency loss only; nothing else stops it from shrinking
    every clip towards zero, so watch :meth:`output_norm` (docs/papers.md section 2).
    """

    def __init__(self, channels: int = 3, hidden: int = 32, groups: int = 8):
        super().__init__()
        self.inner = nn.Conv2d(channels, hidden, 1)
        self.norm = nn.GroupNorm(groups, hidden)
        self.outer = nn.Conv2d(hidden, channels, 1)
        nn.init.zeros_(self.outer.weight)
        nn.init.zeros_(self.outer.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        b, c, f, h, w = z.shape
        frames = z.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)  # (B F, C, H, W)
        update = self.outer(nn.functional.silu(self.norm(self.inner(nn.functional.silu(frames)))))
        return z + update.reshape(b, f, c, h, w).permute(0, 2, 1, 3, 4)

    @torch.no_grad()
    def output_norm(self, z: torch.Tensor) -> float:
        """RMS of the head's output over RMS of its input: 1 at the start; near 0 means collapse."""
        return float(self(z).pow(2).mean().sqrt() / z.pow(2).mean().sqrt().clamp(min=1e-12))
