"""Training a video denoiser: the loop, its pluggable timestep policy, resume checkpoints.

One step (docs/papers.md section 1; DDPM)::

    t, w = policy(mq, vq)                  # per clip; uniform t and w = 1 by default (TQD: tqd/sampler.py)
    x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps
    loss = mean_b  w_b * s(t_b) * || model(x_t, t, y) - target ||^2
    s(t) = min(SNR(t), gamma) / (SNR(t) + 1)   # Min-SNR-gamma for v prediction (TrainConfig.snr_gamma)

Every random draw of step ``s`` (which clips, noise, timesteps, dropped labels) comes from a
generator seeded by ``(seed, s)``, so a run resumed from a checkpoint continues exactly as the
uninterrupted run would have (``tests/test_train.py`` checks the final weights are equal on CPU).

Devices and precision come from accelerate, chosen when :func:`train` runs, never at import:
bf16 autocast on a GPU, fp32 on a CPU unless asked (:func:`default_mixed_precision`);
``accelerate launch -m tqd_lite train ...`` runs data parallel, each process taking its share of
every global batch.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from accelerate import Accelerator
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel, compute_density_for_timestep_sampling
from torch.optim.lr_scheduler import LambdaLR
from tqdm.auto import tqdm

from tqd_lite.diffusion.model import build_model, get_preset, model_config, parameter_groups
from tqd_lite.diffusion.noise import (
    NUM_TRAIN_TIMESTEPS,
    PREDICTION_TYPES,
    guess_x0,
    make_noise_scheduler,
    min_snr_weights,
    mixed_noise,
    to_model_range,
    training_target,
)
from tqd_lite.fields import check_field_types, check_ranges
from tqd_lite.files import load_tensors
from tqd_lite.quality.dataset import VideoClipDataset

CHECKPOINT_FILE = "checkpoint.pt"

# (mq, vq, generator) -> (timesteps (B,) long in [0, T), per-clip loss weights (B,)),
# e.g. TQD's tqd_lite.tqd.sampler.TimestepPolicy (diffusion itself imports nothing from tqd)
Policy = Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class UniformTimesteps:
    """DDPM's own timestep draw, the loop's default policy: ``t ~ U{0, ..., T-1}``, weight 1.

    The same draw as ``TimestepPolicy(sampler="uniform")`` of :mod:`tqd_lite.tqd.sampler`.
    """

    def __call__(self, mq, vq, generator: torch.Generator | None = None):
        n = len(mq)
        return torch.randint(0, NUM_TRAIN_TIMESTEPS, (n,), generator=generator), torch.ones(n)

    def to_dict(self) -> dict:
        return {"sampler": "uniform", "dropout": "none"}


UNIFORM = UniformTimesteps()


@dataclass(frozen=True)
class LogitNormalTimesteps:
    """SD3's logit-normal timestep density (Esser et al., 2024, section 3.1; docs/papers.md
    section 5), drawn when ``TrainConfig.timestep_logit_mean`` is set: a noise level
    ``s = sigmoid(n)``, ``n ~ N(logit_mean, logit_std^2)``, becomes the timestep ``floor(s T)``;
    weight 1. ``logit_mean > 0`` trains more at high noise, where a clip's layout is decided
    (the quick recipe's, README "More levers at the quick size").

    The same draw, seed for seed, as ``TimestepPolicy(sampler="logit_normal", ...)`` of
    :mod:`tqd_lite.tqd.sampler` (tested), which diffusion may not import.
    """

    logit_mean: float = 0.0
    logit_std: float = 1.0

    def __post_init__(self):
        check_field_types(self)
        check_ranges(self, {"logit_std": self.logit_std > 0})

    def __call__(self, mq, vq, generator: torch.Generator | None = None):
        n = len(mq)
        # s = sigmoid(N(logit_mean, logit_std^2)), drawn by diffusers' density helper; kept below 1
        levels = compute_density_for_timestep_sampling(
            "logit_normal", n, logit_mean=self.logit_mean, logit_std=self.logit_std, generator=generator
        )
        levels = levels.double().clamp(0.0, 1.0 - 1e-9)
        # t = floor(s T), in [0, T)
        timesteps = (levels * NUM_TRAIN_TIMESTEPS).floor().long().clamp(0, NUM_TRAIN_TIMESTEPS - 1)
        return timesteps, torch.ones(n)

    def to_dict(self) -> dict:
        return {"sampler": "logit_normal", "dropout": "none", **dataclasses.asdict(self)}


# after a linear warm-up: diffusers' get_scheduler "constant" or "cosine", or "cosine_per_stage":
# the warm-up and cosine decay once over the frame stage and again over the clip stage
LR_SCHEDULES = ("constant", "cosine", "cosine_per_stage")
CLIP_STAGE_LAYERS = ("all", "temporal")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run's result (a checkpoint refuses another config)."""

    preset: str = "tiny"
    num_classes: int = 0  # 0: unconditional; labels in [0, num_classes), index num_classes = null
    prediction_type: str = "v_prediction"
    beta_schedule: str = "squaredcos_cap_v2"
    steps: int = 2000
    batch_size: int = 16
    learning_rate: float = 2e-3
    warmup_steps: int = 50
    # after warm-up: "constant"; "cosine" (decays to 0 at ``steps``); "cosine_per_stage" (decays to 0
    # at ``frame_steps``, then warms up again and decays to 0 at ``steps``: a restart for the clips)
    lr_schedule: str = "constant"
    ema_max_decay: float = 0.999  # EMA warm-up: decay = min(max, 1 - (1 + step)^(-2/3))
    class_dropout: float = 0.1  # share of labels replaced by the null class (for CFG)
    snr_gamma: float | None = 5.0  # Min-SNR-gamma weighting (None: the plain loss)
    noise_correlation: float = 0.0  # between frames of the noise (PYoCo's mixed prior; noise.mixed_noise)
    snr_shift: float = 1.0  # the schedule's SNR times this at every t (noise.shifted_betas); 1: unchanged
    # timesteps from SD3's logit-normal of this mean (LogitNormalTimesteps); None: DDPM's uniform.
    # A run given its own timestep policy (TQD's arms) leaves it None
    timestep_logit_mean: float | None = None
    # image pretraining: the first frame_steps steps learn on single frames (make_batch), F times
    # the scenes per step at about the cost of a clip batch; then whole clips
    frame_steps: int = 0
    # what learns after the frame stage: "all" layers, or only the "temporal" ones, the spatial
    # layers and embeddings frozen as Video LDM and AnimateDiff freeze their image model
    clip_stage_layers: str = "all"
    seed: int = 0

    def __post_init__(self):
        check_field_types(self)
        get_preset(self.preset)
        check_ranges(
            self,
            {
                "prediction_type": self.prediction_type in PREDICTION_TYPES,
                "steps": self.steps >= 1,
                "batch_size": self.batch_size >= 1,
                "learning_rate": self.learning_rate > 0,
                "warmup_steps": self.warmup_steps >= 0,
                "ema_max_decay": 0 <= self.ema_max_decay < 1,
                "class_dropout": 0 <= self.class_dropout <= 1,
                "num_classes": self.num_classes >= 0,
                "snr_gamma": self.snr_gamma is None or self.snr_gamma > 0,
                "lr_schedule": self.lr_schedule in LR_SCHEDULES,
                "noise_correlation": 0 <= self.noise_correlation < 1,
                "snr_shift": self.snr_shift > 0,
                "frame_steps": 0 <= self.frame_steps <= self.steps,
                "clip_stage_layers": self.clip_stage_layers in CLIP_STAGE_LAYERS,
                "seed": self.seed >= 0,
            },
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def noise_schedule(self) -> dict:
        """The fields that fix the noise schedule, as :func:`~tqd_lite.diffusion.noise.make_noise_scheduler`'s
        arguments: training, sampling and the gradient analysis build it from this one place."""
        return {
            "prediction_type": self.prediction_type,
            "beta_schedule": self.beta_schedule,
            "snr_shift": self.snr_shift,
        }


@dataclass
class ClipBank:
    """Training clips held in memory as uint8 ``(N, 3, F, H, W)`` with their scores.

    Decoding once and indexing a tensor afterwards keeps data loading out of the step time;
    uint8 is what the videos hold anyway, and a full-profile Set-A (4,000 clips, 32x32) is
    then 100 MB.
    """

    clips: torch.Tensor  # (N, 3, F, H, W) uint8
    mq: torch.Tensor  # (N,) float
    vq: torch.Tensor  # (N,) float
    labels: torch.Tensor | None = None  # (N,) long, class labels

    def __post_init__(self):
        if self.clips.ndim != 5 or self.clips.shape[1] != 3 or self.clips.dtype != torch.uint8:
            raise ValueError(
                f"ClipBank.clips must be uint8 (N, 3, F, H, W), got {self.clips.dtype} "
                f"{tuple(self.clips.shape)}"
            )
        n = len(self.clips)
        for name in ("mq", "vq", "labels"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(f"ClipBank.{name} has {len(value)} entries for {n} clips")

    @classmethod
    def from_float(cls, clips: torch.Tensor, mq=None, vq=None, labels=None) -> ClipBank:
        """From clips in [0, 1]; missing scores become NaN."""
        n = len(clips)
        nan = torch.full((n,), float("nan"))
        return cls(
            (clips.clamp(0, 1) * 255).round().to(torch.uint8),
            torch.as_tensor(mq, dtype=torch.float32) if mq is not None else nan,
            torch.as_tensor(vq, dtype=torch.float32) if vq is not None else nan,
            None if labels is None else torch.as_tensor(labels, dtype=torch.long),
        )

    @classmethod
    def from_dataset(cls, dataset: VideoClipDataset, progress: bool = True) -> ClipBank:
        """Decode every clip of ``dataset`` once."""
        clips = [dataset[i]["clip"] for i in tqdm(range(len(dataset)), desc="decoding", disable=not progress)]
        return cls.from_float(torch.stack(clips), dataset.mq, dataset.vq)

    def __len__(self) -> int:
        return len(self.clips)

    @property
    def clip_shape(self) -> tuple[int, int, int]:
        """``(F, H, W)``."""
        return tuple(self.clips.shape[2:])

    def float_clips(self, index: torch.Tensor, frame: torch.Tensor | None = None) -> torch.Tensor:
        """Clips ``index`` in [0, 1]: ``(B, 3, F, H, W)``; with ``frame`` (one per clip), only
        that frame of each, as one-frame clips ``(B, 3, 1, H, W)`` (picked before the conversion)."""
        if frame is None:
            return self.clips[index].float() / 255
        return self.clips[index, :, frame][:, :, None].float() / 255


@dataclass
class TrainResult:
    model: torch.nn.Module  # the EMA weights, on the CPU, in eval mode
    history: list[dict]  # {"step", "loss"} every log_every steps
    seconds: float  # wall time of this call's steps
    total_seconds: float  # wall time of all steps so far, across resumes
    out_dir: Path | None
    mixed_precision: str = "no"  # this call's autocast: "no" (fp32) or "bf16"


def step_generator(seed: int, step: int) -> torch.Generator:
    """The generator of all random draws of one step: a pure function of ``(seed, step)``."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


def make_batch(
    bank: ClipBank,
    config: TrainConfig,
    step: int,
    policy: Policy | None = None,
    process_index: int = 0,
    num_processes: int = 1,
) -> dict[str, torch.Tensor]:
    """Step ``step``'s batch (CPU tensors): clips drawn with replacement, noise, t, labels, weights.

    Before ``config.frame_steps`` the batch is ``B * F`` single frames instead, each a random frame
    of its own drawn clip, as one-frame clips ``(B * F, 3, 1, H, W)``: image pretraining, as video
    models are first trained on images (Video LDM, AnimateDiff; docs/papers.md section 5).
    The whole global batch is drawn on every process and each takes every ``num_processes``-th
    clip, so the draws do not depend on how many processes share the work.
    """
    g = step_generator(config.seed, step)
    frames = step < config.frame_steps
    num_frames = bank.clip_shape[0]
    size = config.batch_size * (num_frames if frames else 1)
    index = torch.randint(0, len(bank), (size,), generator=g)
    frame = torch.randint(0, num_frames, (size,), generator=g) if frames else None
    x0 = to_model_range(bank.float_clips(index, frame))  # (B, 3, F, H, W), or (B * F, 3, 1, H, W)
    noise = mixed_noise(x0.shape, g, config.noise_correlation)
    mq, vq = bank.mq[index], bank.vq[index]
    if policy is None:
        policy = resolve_policy(config, None)
    timesteps, weights = policy(mq, vq, g)
    timesteps, weights = timesteps.long(), weights.float()
    if timesteps.shape != index.shape or timesteps.min() < 0 or timesteps.max() >= NUM_TRAIN_TIMESTEPS:
        raise ValueError(
            f"the timestep policy must return {len(index)} integers in [0, {NUM_TRAIN_TIMESTEPS})"
        )
    if weights.shape != index.shape:
        raise ValueError(
            f"the timestep policy must return {len(index)} loss weights, got {tuple(weights.shape)}"
        )
    labels = None
    if config.num_classes > 0:
        labels = bank.labels[index] if bank.labels is not None else torch.zeros_like(index)
        dropped = torch.rand(index.shape, generator=g) < config.class_dropout
        labels = torch.where(dropped, config.num_classes, labels)  # the null class
    batch = {"x0": x0, "noise": noise, "timesteps": timesteps, "weights": weights, "labels": labels}
    share = slice(process_index, None, num_processes)
    return {k: (v[share] if v is not None else None) for k, v in batch.items()}


def diffusion_loss(
    model, noise_scheduler, batch: dict[str, torch.Tensor], snr_gamma: float | None = None
) -> torch.Tensor:
    """The weighted denoising loss of one batch (see the module docstring)."""
    x0, noise, t = batch["x0"], batch["noise"], batch["timesteps"]
    x_t = noise_scheduler.add_noise(x0, noise, t)
    target = training_target(noise_scheduler, x0, noise, t)
    prediction = model(x_t, t, batch["labels"]).float()
    per_clip = (prediction - target).pow(2).mean(dim=(1, 2, 3, 4))  # (B,)
    weights = batch["weights"]
    if snr_gamma is not None:
        weights = weights * min_snr_weights(noise_scheduler, t, snr_gamma)
    return (weights * per_clip).mean()


def _to(batch: dict, device) -> dict:
    return {k: (v.to(device, non_blocking=True) if v is not None else None) for k, v in batch.items()}


# --- checkpoints ---------------------------------------------------------------------------


def read_checkpoint(path: str | Path) -> dict:
    """A resume checkpoint's contents, read with ``weights_only=True``: tensors, numbers, strings,
    lists and dicts only, so a crafted file cannot run code when it is loaded."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path} (train one with `python -m tqd_lite train`)")
    state = load_tensors(path, "tqd-lite checkpoint")
    if not isinstance(state, dict) or "model_config" not in state:
        raise ValueError(f"{path} is not a tqd-lite checkpoint (no model_config)")
    return state


def atomic_save(obj, path: Path) -> None:
    """``torch.save`` to a temporary name, then rename: an interrupted save never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def resolve_policy(config: TrainConfig, policy: Policy | None) -> Policy:
    """The timestep draw of a run: ``policy`` if given, else the config's own
    (:class:`LogitNormalTimesteps` of ``config.timestep_logit_mean``, or uniform). A config with
    a density and another policy would be two draws for one timestep, an error."""
    own = UNIFORM if config.timestep_logit_mean is None else LogitNormalTimesteps(config.timestep_logit_mean)
    if policy is None or policy == own:
        return own
    if config.timestep_logit_mean is not None:
        raise ValueError(
            f"TrainConfig.timestep_logit_mean={config.timestep_logit_mean} draws the timesteps, and so "
            "would the timestep policy given: set timestep_logit_mean=None to train with the policy"
        )
    return policy


def policy_record(policy: Policy) -> dict | None:
    """What a checkpoint records of the policy: its fields, if it has any (a plain function: None)."""
    return policy.to_dict() if hasattr(policy, "to_dict") else None


# fields added to TrainConfig after models were committed, with the value those models used
LATER_FIELDS = {
    "lr_schedule": "constant",
    "noise_correlation": 0.0,
    "snr_shift": 1.0,
    "frame_steps": 0,
    "timestep_logit_mean": None,
    "clip_stage_layers": "all",
}


def recorded_train_config(record: dict) -> dict:
    """A checkpoint's or model's recorded ``TrainConfig`` dict, with the fields it predates
    filled in as the code then behaved, so that it compares equal to ``TrainConfig.to_dict()``."""
    return {**LATER_FIELDS, **record}


def _check_config(state: dict, config: TrainConfig, policy: Policy, path: Path) -> None:
    """Refuse to resume a checkpoint made by another configuration or timestep policy."""
    now = {**config.to_dict(), "timestep_policy": policy_record(policy)}
    # checkpoints from before the policy was recorded were all uniform
    saved = {
        **recorded_train_config(state["train_config"]),
        "timestep_policy": state.get("timestep_policy", UNIFORM.to_dict()),
    }
    differing = {k: (saved.get(k), v) for k, v in now.items() if saved.get(k) != v}
    if differing:
        details = ", ".join(f"{k}: checkpoint {a!r} vs now {b!r}" for k, (a, b) in differing.items())
        raise ValueError(
            f"{path} was made by another training configuration ({details}); "
            f"use another output folder or the same configuration"
        )


# --- the loop ------------------------------------------------------------------------------


def default_mixed_precision() -> str:
    """``"bf16"`` autocast on a GPU that supports it, ``"no"`` (fp32) on a CPU.

    On a CPU with bf16 units (AVX-512 BF16 or AMX; ``benchmarks/bench_peak.py``) bf16 autocast made the
    tiny preset's step 1.3-1.5x faster and drew the same probe strip as fp32, but the overfit test
    (``tests/test_overfit.py``) then failed: a sample switched clips halfway. So the CPU default
    stays fp32; ``ACCELERATE_MIXED_PRECISION=bf16`` (which ``accelerate launch --mixed_precision``
    also sets) opts in, and overrides the choice on any device.
    """
    if os.environ.get("ACCELERATE_MIXED_PRECISION"):
        return os.environ["ACCELERATE_MIXED_PRECISION"]
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "no"
    return "no"


def train(
    config: TrainConfig,
    bank: ClipBank,
    out_dir: str | Path | None = None,
    policy: Policy | None = None,
    checkpoint_every: int = 250,
    log_every: int = 10,
    progress: bool = True,
    stop_after: int | None = None,
    mixed_precision: str | None = None,
    init_weights: dict[str, torch.Tensor] | None = None,
) -> TrainResult:
    """Train (or resume training) a denoiser on ``bank``.

    ``out_dir``: where ``checkpoint.pt`` is written every ``checkpoint_every`` steps and at the
    end; if it already holds one from the same config, training resumes from it.
    ``stop_after``: stop after this global step, as if interrupted (tests, time budgets).
    ``mixed_precision``: ``"no"`` or ``"bf16"``; default :func:`default_mixed_precision`.
    ``init_weights``: a state dict to start from instead of random weights: fine-tuning a
    pretrained model, as TQD does (its EMA starts from them; the optimizer starts fresh). A
    checkpoint in ``out_dir`` takes precedence, so a resumed run continues its own weights.
    """
    if config.num_classes == 0 and bank.labels is not None:
        raise ValueError("the clip bank has labels but TrainConfig.num_classes is 0")
    if bank.labels is not None and (bank.labels.min() < 0 or bank.labels.max() >= config.num_classes):
        low, high = int(bank.labels.min()), int(bank.labels.max())
        raise ValueError(f"labels must be in [0, {config.num_classes}), got {low}..{high}")
    policy = resolve_policy(config, policy)
    if mixed_precision is None:
        mixed_precision = default_mixed_precision()
    accelerator = Accelerator(mixed_precision=mixed_precision)
    torch.manual_seed(config.seed)  # the initial weights
    model = build_model(config.preset, config.num_classes)
    if init_weights is not None:
        model.load_state_dict(init_weights)
    noise_scheduler = make_noise_scheduler(**config.noise_schedule())
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.0)
    lr_scheduler = make_lr_scheduler(optimizer, config)
    ema = EMAModel(model.parameters(), decay=config.ema_max_decay, use_ema_warmup=True, power=2 / 3)
    history: list[dict] = []
    start, seconds_before = 0, 0.0

    out_dir = Path(out_dir) if out_dir is not None else None
    checkpoint = out_dir / CHECKPOINT_FILE if out_dir is not None else None
    if checkpoint is not None and checkpoint.exists():
        state = read_checkpoint(checkpoint)
        _check_config(state, config, policy, checkpoint)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        lr_scheduler.load_state_dict(state["lr_scheduler"])
        ema.load_state_dict(state["ema_state"])
        history, start, seconds_before = state["history"], state["step"], state["train_seconds"]

    frozen_in_clip_stage = _frozen_in_clip_stage(model, config)
    model, optimizer = accelerator.prepare(model, optimizer)
    ema.to(accelerator.device)
    noise_scheduler.alphas_cumprod = noise_scheduler.alphas_cumprod.to(accelerator.device)

    def save(step: int) -> None:
        if checkpoint is None or not accelerator.is_main_process:
            return
        out_dir.mkdir(parents=True, exist_ok=True)
        ema.store(model.parameters())
        ema.copy_to(model.parameters())
        unwrapped = accelerator.unwrap_model(model)
        ema_weights = {k: v.detach().cpu().clone() for k, v in unwrapped.state_dict().items()}
        ema.restore(model.parameters())
        atomic_save(
            {
                "step": step,
                "train_config": config.to_dict(),
                "timestep_policy": policy_record(policy),
                "model_config": model_config(config.preset, config.num_classes),
                "clip_shape": list(bank.clip_shape[:2]),  # (F, H): what sampling defaults to
                "model": unwrapped.state_dict(),
                "ema": ema_weights,
                "ema_state": ema.state_dict(),
                "optimizer": optimizer.state_dict(),
                "lr_scheduler": lr_scheduler.state_dict(),
                "history": history,
                "train_seconds": seconds_before + time.perf_counter() - begun,
            },
            checkpoint,
        )

    last = config.steps if stop_after is None else min(stop_after, config.steps)
    model.train()
    running, begun = [], time.perf_counter()
    bar = tqdm(
        range(start, last),
        desc=f"training {config.preset}",
        disable=not progress,
        initial=start,
        total=config.steps,
    )
    for step in bar:
        batch = make_batch(
            bank,
            config,
            step,
            policy,
            accelerator.process_index,
            accelerator.num_processes,
        )
        loss = diffusion_loss(model, noise_scheduler, _to(batch, accelerator.device), config.snr_gamma)
        optimizer.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        if step >= config.frame_steps:
            for parameter in frozen_in_clip_stage:  # AdamW leaves a parameter without a gradient as it is
                parameter.grad = None
        optimizer.step()
        lr_scheduler.step()
        ema.step(model.parameters())
        running.append(loss.detach())
        if (step + 1) % log_every == 0 or step + 1 == last:
            mean = torch.stack(running).mean().item()
            history.append({"step": step + 1, "loss": mean})
            bar.set_postfix(loss=f"{mean:.4f}")
            running = []
        if (step + 1) % checkpoint_every == 0 or step + 1 == last:
            save(step + 1)
    seconds = time.perf_counter() - begun

    ema.copy_to(model.parameters())
    final = accelerator.unwrap_model(model).cpu().float().eval()
    return TrainResult(final, history, seconds, seconds_before + seconds, out_dir, mixed_precision)


def make_lr_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> LambdaLR:
    """The learning rate at every step (``config.lr_schedule``): diffusers' ``get_scheduler``
    ("constant_with_warmup", "cosine"), or the cosine restarted when the clips begin.

    ``"cosine_per_stage"`` gives the frame stage and the clip stage each a linear warm-up of
    ``warmup_steps`` and a cosine decay to 0 at their end: the learning-rate half of the
    two-stage probe's restart (``benchmarks/probe_image_model.py`` also started a fresh AdamW,
    which this keeps). Without a frame stage it is plain ``"cosine"``.
    """
    if config.lr_schedule == "constant":
        return get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=config.warmup_steps)
    if config.lr_schedule == "cosine" or not 0 < config.frame_steps < config.steps:
        return get_scheduler(
            "cosine", optimizer, num_warmup_steps=config.warmup_steps, num_training_steps=config.steps
        )
    frames, clips = config.frame_steps, config.steps - config.frame_steps

    def multiplier(step: int) -> float:  # each stage counts its steps from its own start
        if step < frames:
            return _warmup_cosine(step, config.warmup_steps, frames)
        return _warmup_cosine(step - frames, config.warmup_steps, clips)

    return LambdaLR(optimizer, multiplier)


def _warmup_cosine(step: int, warmup: int, length: int) -> float:
    """diffusers' cosine-with-warm-up multiplier (``get_cosine_schedule_with_warmup``), written
    out because diffusers gives it only as a scheduler bound to an optimizer: ``step / warmup``,
    then ``(1 + cos(pi p)) / 2`` with ``p`` the share of the steps after warm-up done."""
    if step < warmup:
        return step / max(1, warmup)
    progress = (step - warmup) / max(1, length - warmup)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


def _frozen_in_clip_stage(model, config: TrainConfig) -> list[torch.nn.Parameter]:
    """The parameters that stop learning after the frame stage: none, or all but the temporal ones
    (``config.clip_stage_layers``; Video LDM and AnimateDiff, docs/papers.md section 5).
    Their gradients are dropped rather than not computed, which works the same under DDP."""
    if config.clip_stage_layers == "all":
        return []
    temporal = set(parameter_groups(model)["temporal"])
    return [p for name, p in model.named_parameters() if name not in temporal]


def x0_predictions(
    model,
    noise_scheduler,
    clip: torch.Tensor,
    timesteps: list[int],
    seed: int = 0,
    class_label: int | None = None,
) -> torch.Tensor:
    """The model's x0 guess for one clip ``(3, F, H, W)`` noised to each t with the same noise.

    Returns ``(len(timesteps), 3, F, H, W)`` in [0, 1]: what the model believes the clean clip
    is, as seen from each noise level (notebook 02).
    """
    clips = clip[None].expand(len(timesteps), *clip.shape)  # (T, 3, F, H, W)
    noise = torch.randn(clip.shape, generator=torch.Generator().manual_seed(seed)).expand_as(clips)
    t = torch.tensor(timesteps)
    labels = None if class_label is None else torch.full_like(t, class_label)
    return guess_x0(model, noise_scheduler, clips, noise, t, labels)
