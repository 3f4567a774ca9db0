"""Per-clip timestep samplers and loss weights: uniform, logit-normal, TQD's Beta, a hard gate,
SANA-Video 2.0's logit offsets; quality dropout; and a control that shuffles which clip's scores
a level is drawn from. A small module any diffusers training script can import (it needs
only torch, scipy and diffusers).

A noise level ``s`` is continuous in [0, 1) with 1 = pure noise, the convention of flow matching
(``sigma`` in diffusers' ``FlowMatchEulerDiscreteScheduler``); for DDPM it becomes the integer
timestep ``floor(s T)``, where a high timestep is noisier.

Adding TQD to an ordinary diffusers training loop (docs/papers.md section 1)::

    policy = TimestepPolicy(sampler="tqd", dropout="hard")      # kappa_base=2, kappa_max=8
    T = noise_scheduler.config.num_train_timesteps
    timesteps, weights = policy(mq, vq, generator=g, num_train_timesteps=T)  # (B,) long, (B,) float
    noisy = noise_scheduler.add_noise(x0, noise, timesteps)
    per_clip = (model(noisy, timesteps).sample - target).pow(2).flatten(1).mean(1)
    loss = (weights * per_clip).mean()

For flow matching, ``levels, weights = policy.draw(mq, vq, generator=g, dtype=x0.dtype)`` gives
``sigma`` directly (a script that maps its draws through a shifted ``scheduler.sigmas``, as SD3's
does, applies that shift on top, which moves TQD's windows too). Every random number comes from
``generator`` (a CPU generator: draws are made on the CPU), so a step's draw is a pure function of
its seed; the results come back on the device of ``mq``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch
from diffusers.training_utils import compute_density_for_timestep_sampling
from scipy.special import betaincinv
from scipy.stats import beta as beta_distribution

SAMPLERS = ("uniform", "logit_normal", "tqd", "hard_gate", "logit_offset")
BASES = ("uniform", "logit_normal")
READINGS = ("A", "B")
DROPOUTS = ("none", "hard", "mean_one")
ASSIGNMENTS = ("own", "shuffled")
SCORED_SAMPLERS = ("tqd", "hard_gate", "logit_offset")  # the samplers whose levels read the scores
# fields added after TQD's runs were recorded, with the value those runs had: to_dict leaves them
# out while they hold it, so that an old record still names the same policy
LATER_FIELDS = {"assignment": "own", "logit_offset": 1.1}


def check_scores(mq, vq) -> tuple[torch.Tensor, torch.Tensor]:
    """``mq`` and ``vq`` as float tensors of one shape ``(B,)``, each in [0, 1] without NaN."""
    mq, vq = (torch.as_tensor(x, dtype=torch.float64).cpu() for x in (mq, vq))
    for name, x in (("mq", mq), ("vq", vq)):
        if x.ndim != 1:
            raise ValueError(f"{name} must be one score per clip, shape (B,); got shape {tuple(x.shape)}")
        if torch.isnan(x).any():
            first = torch.isnan(x).nonzero().flatten().tolist()[:5]
            raise ValueError(f"{name} contains NaN at clips {first}")
        if x.numel() and (x.min() < 0 or x.max() > 1):
            raise ValueError(
                f"{name} must be normalised scores in [0, 1]; got {x.min().item():.3g}..{x.max().item():.3g}"
            )
    if mq.shape != vq.shape:
        raise ValueError(f"mq and vq must have one shape; got {tuple(mq.shape)} and {tuple(vq.shape)}")
    return mq, vq


def tqd_beta_parameters(
    mq: torch.Tensor, vq: torch.Tensor, kappa_base: float, kappa_max: float, mu_margin: float = 0.01
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(alpha, beta)`` of each clip's Beta over noise levels (docs/papers.md section 1, TQD sampler).

    ``mu_margin`` keeps the centre off 0 and 1, where the Beta would degenerate (our choice: 0.01).
    """
    gap = mq - vq  # > 0: richer in motion than in visuals
    # mu = 0.5 + 0.5 (mq - vq): motion-rich clips centre on high noise, visually rich on low noise
    mu = (0.5 + 0.5 * gap).clamp(mu_margin, 1 - mu_margin)
    # kappa = kappa_base + (kappa_max - kappa_base) |mq - vq|: the larger the gap, the sharper the peak
    kappa = kappa_base + (kappa_max - kappa_base) * gap.abs()
    # t ~ Beta(mu kappa, (1 - mu) kappa): mean mu, variance mu (1 - mu) / (kappa + 1)
    return mu * kappa, (1 - mu) * kappa


def beta_quantile(alpha: torch.Tensor, beta: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """The Beta(alpha, beta) quantile of ``u`` (elementwise).

    Why not ``torch.distributions.Beta``: it takes no generator, so a training step's draw could
    not be a pure function of its seed; the inverse CDF of a seeded uniform is exact and is.
    """
    return torch.from_numpy(betaincinv(alpha.double().numpy(), beta.double().numpy(), u.double().numpy()))


def base_quantile(
    u: torch.Tensor, base: str, logit_mean: float | torch.Tensor = 0.0, logit_std: float = 1.0
) -> torch.Tensor:
    """The base sampler's inverse CDF: ``u`` itself (uniform) or ``sigmoid(m + s Phi^-1(u))``."""
    if base == "uniform":
        return u
    # Phi^-1(u) = sqrt(2) erfinv(2u - 1)
    normal = math.sqrt(2.0) * torch.erfinv(2 * u.double() - 1)
    return torch.sigmoid(logit_mean + logit_std * normal)


def keep_probability(mq: torch.Tensor, vq: torch.Tensor) -> torch.Tensor:
    """Quality dropout keeps a clip with probability ``max(mq, vq)``: poor-in-both clips mostly go."""
    return torch.maximum(mq, vq)


@dataclass(frozen=True)
class TimestepPolicy:
    """How each clip of a batch gets its noise level and its loss weight, from its scores.

    ``sampler``:
      * ``"uniform"``: every level equally likely (DDPM's default);
      * ``"logit_normal"``: SD3's ``sigmoid(N(logit_mean, logit_std^2))``, drawn by diffusers'
        ``compute_density_for_timestep_sampling``;
      * ``"tqd"``: TQD's Beta (:func:`tqd_beta_parameters`). Reading ``"A"`` takes the Beta draw as
        the level; reading ``"B"`` maps it through ``base``'s inverse CDF, so a balanced clip
        (``mq == vq``) with ``kappa_base = 2`` (a uniform Beta) gets exactly the base sampler;
      * ``"hard_gate"``: a baseline. Motion-rich clips (``mq >= rich_threshold > vq``) get levels
        uniform in [gate_level, 1), visually rich ones uniform in [0, gate_level), others uniform.
      * ``"logit_offset"``: SANA-Video 2.0's discrete TQD (docs/papers.md, "SANA-Video 2.0"): the
        logit-normal base with its mean moved by ``+logit_offset`` (toward noise) for motion-rich
        clips and by ``-logit_offset`` for visually rich ones (the hard gate's classes); others
        keep the base.

    ``assignment``: ``"own"``, each clip's level drawn from its own scores; or ``"shuffled"``, the
    marginal-matched control: each clip's level is drawn from the scores of another clip of the
    batch (a random cyclic shift by 1..B-1), so the levels keep the sampler's distribution over
    the data while no clip gets its own. Quality dropout still reads each clip's own scores.

    ``dropout``: ``"none"``; ``"hard"``, weight 1 with probability ``max(mq, vq)`` else 0, redrawn
    every step (our choice; docs/papers.md allows a one-time filter too). The weights are not
    renormalised: the loss's scale then varies a little with the share kept, which Adam's
    normalised steps largely absorb. ``"mean_one"``: the weight ``max(mq, vq) / mean(max(mq, vq))``
    over the batch, the same expected share per clip without the Bernoulli noise.
    """

    sampler: str = "uniform"
    dropout: str = "none"
    kappa_base: float = 2.0  # balanced: Beta(1, 1), uniform (docs/papers.md: kappa_base = 4 ~ logit-normal)
    kappa_max: float = 8.0  # not reported by the paper; a third-party trainer uses 8
    reading: str = "A"
    base: str = "uniform"  # reading B's base sampler
    logit_mean: float = 0.0
    logit_std: float = 1.0
    gate_level: float = 0.5
    rich_threshold: float = 0.5
    mu_margin: float = 0.01
    assignment: str = "own"
    logit_offset: float = 1.1  # SANA-Video 2.0's +-1.1: medians sigmoid(+-1.1) = 0.75, 0.25 at mean 0

    def __post_init__(self):
        # the numbers checked by hand: this file imports nothing from tqd_lite, so it can be copied alone
        for field in (
            "kappa_base",
            "kappa_max",
            "logit_mean",
            "logit_std",
            "gate_level",
            "rich_threshold",
            "mu_margin",
            "logit_offset",
        ):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"TimestepPolicy.{field} must be a finite number, got {value!r}")
        for field, allowed in (
            ("sampler", SAMPLERS),
            ("dropout", DROPOUTS),
            ("reading", READINGS),
            ("base", BASES),
            ("assignment", ASSIGNMENTS),
        ):
            if getattr(self, field) not in allowed:
                value = getattr(self, field)
                raise ValueError(f"TimestepPolicy.{field} must be one of {allowed}, got {value!r}")
        if not self.kappa_base > 0:
            raise ValueError(f"TimestepPolicy.kappa_base must be positive, got {self.kappa_base!r}")
        if not self.kappa_max >= self.kappa_base:
            raise ValueError(
                f"TimestepPolicy.kappa_max ({self.kappa_max!r}) must be >= kappa_base ({self.kappa_base!r})"
            )
        if not self.logit_std > 0:
            raise ValueError(f"TimestepPolicy.logit_std must be positive, got {self.logit_std!r}")
        for field in ("gate_level", "rich_threshold"):
            if not 0 < getattr(self, field) < 1:
                raise ValueError(f"TimestepPolicy.{field} must be in (0, 1), got {getattr(self, field)!r}")
        if not 0 < self.mu_margin < 0.5:
            raise ValueError(f"TimestepPolicy.mu_margin must be in (0, 0.5), got {self.mu_margin!r}")
        if self.assignment == "shuffled" and self.sampler not in SCORED_SAMPLERS:
            raise ValueError(
                f"TimestepPolicy.assignment='shuffled' needs a sampler that reads the scores "
                f"{SCORED_SAMPLERS}, got sampler={self.sampler!r}"
            )

    def to_dict(self) -> dict:
        """The fields, less those of :data:`LATER_FIELDS` that hold the value older records had."""
        record = dataclasses.asdict(self)
        return {k: v for k, v in record.items() if k not in LATER_FIELDS or v != LATER_FIELDS[k]}

    @property
    def uses_scores(self) -> bool:
        """Whether the scores matter (uniform and logit-normal draws without dropout ignore them)."""
        return self.sampler in SCORED_SAMPLERS or self.dropout != "none"

    def _scores(self, mq, vq) -> tuple[torch.Tensor, torch.Tensor]:
        """Checked scores; unscored clips (NaN) are fine for a policy that ignores the scores."""
        if self.uses_scores:
            return check_scores(mq, vq)
        mq, vq = torch.as_tensor(mq), torch.as_tensor(vq)
        if mq.ndim != 1 or mq.shape != vq.shape:
            shapes = f"{tuple(mq.shape)} and {tuple(vq.shape)}"
            raise ValueError(f"mq and vq must both have shape (B,); got {shapes}")
        return mq, vq

    @property
    def name(self) -> str:
        """A short label: ``uniform``, ``tqd(A, 2-8)+hard``, ..."""
        label = self.sampler
        if self.sampler == "tqd":
            label += f"({self.reading}, {self.kappa_base:g}-{self.kappa_max:g})"
        if self.sampler == "logit_offset":
            label += f"(+-{self.logit_offset:g})"
        if self.assignment == "shuffled":
            label += ", shuffled"
        return label + ("" if self.dropout == "none" else f"+{self.dropout}")

    def noise_levels(self, mq, vq, generator: torch.Generator | None = None) -> torch.Tensor:
        """Each clip's noise level in [0, 1) (1 = pure noise), float64 ``(B,)``."""
        mq, vq = self._scores(mq, vq)
        n = len(mq)
        if self.sampler == "logit_normal":
            return self._base_draw("logit_normal", n, generator)
        if self.sampler == "uniform":
            return self._base_draw("uniform", n, generator)
        mq, vq = self._assigned(mq, vq, generator)
        u = torch.rand(n, generator=generator, dtype=torch.float64)
        if self.sampler == "tqd":
            alpha, beta = tqd_beta_parameters(mq, vq, self.kappa_base, self.kappa_max, self.mu_margin)
            level = beta_quantile(alpha, beta, u)
            if self.reading == "B":
                level = base_quantile(level, self.base, self.logit_mean, self.logit_std)
            return level.clamp(0.0, 1.0 - 1e-9)
        motion_rich = (mq >= self.rich_threshold) & (vq < self.rich_threshold)
        visual_rich = (vq >= self.rich_threshold) & (mq < self.rich_threshold)
        if self.sampler == "logit_offset":
            # the logit mean moved by +logit_offset (motion-rich), -logit_offset (visually rich), 0 (others)
            mean = self.logit_mean + self.logit_offset * (motion_rich.double() - visual_rich.double())
            return base_quantile(u, "logit_normal", mean, self.logit_std).clamp(0.0, 1.0 - 1e-9)
        # the hard gate: motion-rich clips in [gate_level, 1), visually rich in [0, gate_level)
        low = torch.where(motion_rich, self.gate_level, 0.0)
        high = torch.where(visual_rich, self.gate_level, 1.0)
        return low + (high - low) * u

    def _assigned(self, mq, vq, generator) -> tuple[torch.Tensor, torch.Tensor]:
        """The scores each clip's level is drawn from: its own, or another clip's of the batch."""
        if self.assignment == "own":
            return mq, vq
        if len(mq) < 2:
            raise ValueError("TimestepPolicy.assignment='shuffled' needs batches of at least 2 clips")
        # a cyclic shift by 1..B-1: no clip keeps its own scores, each gets another batch clip's
        shift = int(torch.randint(1, len(mq), (1,), generator=generator))
        return mq.roll(shift), vq.roll(shift)

    def _base_draw(self, scheme: str, n: int, generator) -> torch.Tensor:
        u = compute_density_for_timestep_sampling(
            scheme, n, logit_mean=self.logit_mean, logit_std=self.logit_std, generator=generator
        )
        return u.double().clamp(0.0, 1.0 - 1e-9)

    def loss_weights(self, mq, vq, generator: torch.Generator | None = None) -> torch.Tensor:
        """Each clip's loss weight, float32 ``(B,)`` (quality dropout; 1 without it)."""
        mq, vq = self._scores(mq, vq)
        if self.dropout == "none":
            return torch.ones(len(mq))
        keep = keep_probability(mq, vq)
        if self.dropout == "hard":
            return (torch.rand(len(mq), generator=generator, dtype=torch.float64) < keep).float()
        # mean-one: w = max(mq, vq) / mean_batch(max(mq, vq))
        return (keep / keep.mean().clamp(min=1e-12)).float()

    def draw(
        self, mq, vq, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(levels, weights)``: continuous noise levels in [0, 1) (flow matching's ``sigma``) in
        ``dtype`` (the model's; drawn in float64) and float32 loss weights, both on the device of ``mq``."""
        device = torch.as_tensor(mq).device
        levels = self.noise_levels(mq, vq, generator)
        weights = self.loss_weights(mq, vq, generator)
        # below 1 in ``dtype`` too: float32 rounds 1 - 1e-9 up to 1.0 (an index one past the end)
        return levels.to(device, dtype).clamp(max=1 - torch.finfo(dtype).eps / 2), weights.to(device)

    def __call__(
        self, mq, vq, generator: torch.Generator | None = None, num_train_timesteps: int = 1000
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(timesteps, weights)``: DDPM integer timesteps ``(B,)`` in [0, T) and float32 loss
        weights, on the device of ``mq``. Pass ``num_train_timesteps`` from your scheduler's
        ``config.num_train_timesteps`` when it is not 1000."""
        device = torch.as_tensor(mq).device
        if self.sampler == "uniform":  # DDPM's own draw: t ~ U{0, ..., T-1}
            mq, vq = self._scores(mq, vq)
            timesteps = torch.randint(0, num_train_timesteps, mq.shape, generator=generator)
            weights = self.loss_weights(mq, vq, generator)
        else:  # drawn on the CPU, moved once
            levels = self.noise_levels(mq, vq, generator)
            timesteps = to_ddpm_timesteps(levels, num_train_timesteps)
            weights = self.loss_weights(mq, vq, generator)
        return timesteps.to(device), weights.to(device)


def to_ddpm_timesteps(levels: torch.Tensor, num_train_timesteps: int = 1000) -> torch.Tensor:
    """Noise levels in [0, 1) as DDPM timesteps ``floor(s T)`` in [0, T) (uniform in, uniform out)."""
    return (levels * num_train_timesteps).floor().long().clamp(0, num_train_timesteps - 1)


def beta_density(policy: TimestepPolicy, mq: float, vq: float, levels: np.ndarray) -> np.ndarray:
    """The closed-form density of a TQD policy's reading-A levels for one clip (for plots and checks)."""
    alpha, beta = tqd_beta_parameters(
        torch.tensor([mq], dtype=torch.float64),
        torch.tensor([vq], dtype=torch.float64),
        policy.kappa_base,
        policy.kappa_max,
        policy.mu_margin,
    )
    return beta_distribution.pdf(levels, float(alpha), float(beta))
