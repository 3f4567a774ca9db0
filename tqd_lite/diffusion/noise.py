"""The diffusion process, on diffusers' schedulers: noising, targets, x0 predictions, guidance.

Training uses ``DDPMScheduler`` (the forward process ``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps``
over ``T = 1000`` integer timesteps, larger t = noisier); sampling (:mod:`tqd_lite.diffusion.pipeline`)
uses ``DDIMScheduler`` built from the same configuration. Clips live in [0, 1] everywhere else in
tqd-lite and in [-1, 1] inside the model (:func:`to_model_range`).
"""

from __future__ import annotations

import torch
from diffusers import DDPMScheduler
from diffusers.training_utils import compute_snr

PREDICTION_TYPES = ("epsilon", "v_prediction")
NUM_TRAIN_TIMESTEPS = 1000


def make_noise_scheduler(
    prediction_type: str = "v_prediction", beta_schedule: str = "squaredcos_cap_v2", snr_shift: float = 1.0
) -> DDPMScheduler:
    """The training scheduler. The cosine schedule (``squaredcos_cap_v2``) suits tiny frames:
    a linear one destroys a 16x16 clip's content long before t = T [our choice].

    ``snr_shift`` multiplies the schedule's signal-to-noise ratio at every t (:func:`shifted_betas`);
    1 keeps diffusers' schedule as it is.
    """
    if prediction_type not in PREDICTION_TYPES:
        raise ValueError(f"prediction_type must be one of {PREDICTION_TYPES}, got {prediction_type!r}")
    if not snr_shift > 0:
        raise ValueError(f"snr_shift must be > 0, got {snr_shift}")
    settings = {
        "num_train_timesteps": NUM_TRAIN_TIMESTEPS,
        "beta_schedule": beta_schedule,
        "prediction_type": prediction_type,
        "clip_sample": False,
    }
    scheduler = DDPMScheduler(**settings)
    if snr_shift == 1.0:
        return scheduler
    return DDPMScheduler(**settings, trained_betas=shifted_betas(scheduler.alphas_cumprod, snr_shift))


def shifted_betas(alphas_cumprod: torch.Tensor, snr_shift: float) -> list[float]:
    """The betas of a schedule whose SNR is ``snr_shift`` times that of ``alphas_cumprod`` at every t.

    The best noise schedule depends on the image size: the more pixels, the more redundant they
    are and the noisier the best schedule; shifting log SNR by a constant moves a schedule between
    sizes (Chen 2023; Hoogeboom et al. 2023; docs/papers.md section 5). diffusers' cosine schedule
    was made for 32-64 px images; at 16 px a shift above 1 spends less of training on levels where
    the frame is already gone. diffusers takes such a schedule as ``trained_betas``::

        SNR'(t) = s SNR(t)  =>  abar'_t = sigmoid(log abar_t - log(1 - abar_t) + log s)
        beta'_t = 1 - abar'_t / abar'_{t-1},   abar'_{-1} = 1
    """
    abar = alphas_cumprod.double()
    log_snr = abar.log() - (1 - abar).log()
    shifted = torch.sigmoid(log_snr + torch.tensor(snr_shift, dtype=abar.dtype).log())
    previous = torch.cat([shifted.new_ones(1), shifted[:-1]])
    return (1 - shifted / previous).clamp(max=0.999).tolist()


def to_model_range(clip: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1]."""
    return clip * 2 - 1


def from_model_range(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1], clamped."""
    return ((x + 1) / 2).clamp(0, 1)


def abar_like(scheduler: DDPMScheduler, timesteps: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``abar_t`` broadcast to ``like`` (B, C, F, H, W)."""
    abar = scheduler.alphas_cumprod.to(like.device)[timesteps.to(like.device)].to(like.dtype)
    return abar.view(-1, *([1] * (like.ndim - 1)))


def training_target(
    scheduler: DDPMScheduler, x0: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor
) -> torch.Tensor:
    """What the model learns to predict: eps, or ``v = sqrt(abar) eps - sqrt(1 - abar) x0``."""
    if scheduler.config.prediction_type == "epsilon":
        return noise
    return scheduler.get_velocity(x0, noise, timesteps)


def min_snr_weights(noise_scheduler, timesteps: torch.Tensor, gamma: float) -> torch.Tensor:
    """Min-SNR-gamma loss weights (Hang et al., ICCV 2023), ``SNR(t) = abar_t / (1 - abar_t)``.

    In terms of the x0 error, the v loss is ``(SNR + 1) |x0 - x0_hat|^2`` and the epsilon loss
    ``SNR |x0 - x0_hat|^2``; Min-SNR wants ``min(SNR, gamma) |x0 - x0_hat|^2``, so the weight is
    ``min(SNR, gamma) / (SNR + 1)`` (v) or ``min(SNR, gamma) / SNR`` (epsilon).
    """
    snr = compute_snr(noise_scheduler, timesteps)
    offset = 1.0 if noise_scheduler.config.prediction_type == "v_prediction" else 0.0
    return snr.clamp(max=gamma) / (snr + offset)


def x0_and_eps(
    scheduler: DDPMScheduler, x_t: torch.Tensor, timesteps: torch.Tensor, model_output: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The clean clip and the noise a model output implies at ``x_t`` (in model range), each
    shaped like ``x_t``."""
    abar = abar_like(scheduler, timesteps, x_t)
    alpha, sigma = abar.sqrt(), (1 - abar).sqrt()
    if scheduler.config.prediction_type == "epsilon":
        # x0 = (x_t - sqrt(1 - abar) eps) / sqrt(abar)
        return (x_t - sigma * model_output) / alpha, model_output
    # x0 = sqrt(abar) x_t - sqrt(1 - abar) v,  eps = sqrt(1 - abar) x_t + sqrt(abar) v
    return alpha * x_t - sigma * model_output, sigma * x_t + alpha * model_output


def predicted_x0(
    scheduler: DDPMScheduler, x_t: torch.Tensor, timesteps: torch.Tensor, model_output: torch.Tensor
) -> torch.Tensor:
    """The clean clip implied by a model output (in model range)."""
    return x0_and_eps(scheduler, x_t, timesteps, model_output)[0]


@torch.no_grad()
def guess_x0(
    model,
    scheduler: DDPMScheduler,
    clips: torch.Tensor,
    noise: torch.Tensor,
    timesteps: torch.Tensor,
    class_labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """Noise clean ``clips`` (in [0, 1]) to ``timesteps`` with ``noise`` and return the model's
    guess of the clean clips, ``x0_hat``, in [0, 1]."""
    x_t = scheduler.add_noise(to_model_range(clips), noise, timesteps)
    output = model(x_t, timesteps) if class_labels is None else model(x_t, timesteps, class_labels)
    return from_model_range(predicted_x0(scheduler, x_t, timesteps, output))


def guided(
    model, x: torch.Tensor, t: torch.Tensor, class_labels: torch.Tensor | None, guidance_scale: float
) -> torch.Tensor:
    """Classifier-free guidance: ``out_null + w (out_label - out_null)``; ``w = 1`` is plain conditional."""
    if class_labels is None or guidance_scale == 1.0:
        return model(x, t, class_labels)
    null = torch.full_like(class_labels, model.config.num_classes)
    both = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([class_labels, null]))
    conditional, unconditional = both.chunk(2)
    return unconditional + guidance_scale * (conditional - unconditional)


def mixed_noise(
    shape: tuple[int, ...], generator: torch.Generator | None, correlation: float
) -> torch.Tensor:
    """Gaussian noise ``(B, C, F, H, W)`` whose frames are correlated: PYoCo's mixed noise prior
    (Ge et al., ICCV 2023; docs/papers.md section 5), a noise draw shared by all frames of a
    clip plus one per frame::

        eps_f = sqrt(rho) eps_shared + sqrt(1 - rho) eps_ind_f,   Corr(eps_f, eps_g) = rho (f != g)

    Each element stays standard normal, so the noise schedule is unchanged; ``rho = 0`` draws
    exactly ``torch.randn(shape, generator)``.
    """
    independent = torch.randn(shape, generator=generator)
    if correlation == 0:
        return independent
    batch, channels, _, height, width = shape
    shared = torch.randn((batch, channels, 1, height, width), generator=generator)  # (B, C, 1, H, W)
    return correlation**0.5 * shared + (1 - correlation) ** 0.5 * independent
