"""MCM distillation: a few-step consistency student from a many-step teacher (docs/papers.md section 2).

One step (LCM, with MCM's three changes marked)::

    x0       = real clip, or [mixed trajectories, prob. p] the student's one-step sample   (B, C, F, H, W)
    n        ~ U{0..N-1};  t = solver_timesteps[n];  s = max(t - k, 0)          # k = T / N = 20
    x_t      = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps        (pure noise eps at t = T - 1)
    x_s      = DDIM step of the teacher with guidance w ~ U[w_min, w_max]       # no gradient
    f_S      = c_skip(t) x_t + c_out(t) x0_hat_student(x_t, t)
    f_T      = c_skip(s) x_s + c_out(s) x0_hat_target(x_s, s)                   # EMA target, no gradient
    L        = pseudo_huber(M(f_S), M_ema(f_T))     [disentangled motion: M a motion representation]
             + lambda * -D(aug(2 frames of f_S))    [image discriminator vs high-quality images]

The discriminator D then takes one hinge step on the same frames (detached) against real
high-quality images. Every random draw of step i comes from a generator seeded by
``(seed, i)``, so a resumed run continues as the uninterrupted one would.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import DDPMScheduler
from diffusers.training_utils import EMAModel
from tqdm.auto import tqdm

from tqd_lite.diffusion.checkpoints import write_model_folder
from tqd_lite.diffusion.noise import to_model_range
from tqd_lite.diffusion.pipeline import VideoPipeline
from tqd_lite.diffusion.train import ClipBank, atomic_save, step_generator
from tqd_lite.fields import check_field_types, check_ranges
from tqd_lite.files import load_tensors
from tqd_lite.mcm.consistency import (
    MOTION_REPRESENTATIONS,
    MotionHead,
    boundary_scalings,
    consistency_output,
    guided_teacher_step,
    lcm_scheduler,
    motion_representation,
    pseudo_huber,
    solver_timesteps,
    x0_and_eps,
)
from tqd_lite.mcm.discriminator import (
    FrameDiscriminator,
    diff_augment,
    discriminator_hinge_loss,
    generator_hinge_loss,
    random_frames,
)

REPRESENTATIONS = (*MOTION_REPRESENTATIONS, "learned")
CHECKPOINT_FILE = "distill_checkpoint.pt"


@dataclass(frozen=True)
class DistillConfig:
    """Everything that decides a distillation run (a checkpoint refuses another config)."""

    representation: str = "learned"  # M: one of REPRESENTATIONS ("raw" is plain LCM)
    discriminator: bool = True
    adversarial_weight: float = 1.0  # lambda (paper: 1)
    mixed_share: float = 0.5  # p: share of batches whose trajectory starts at a student sample
    guidance_min: float = 5.0  # w ~ U[guidance_min, guidance_max], LCM form (w = 0: conditional)
    guidance_max: float = 15.0  # the paper's U[5, 15]; mcm.experiments.GUIDANCE says why it suits the toy
    steps: int = 300
    batch_size: int = 16
    # 3e-4: in 150-step probes of plain LCM from the golden quick model, 1e-4 left the 4-step FD
    # at 11.6 and 3e-4 reached 10.7 (teacher DDIM, 4 steps: 13.3) [probe, not a result file]
    learning_rate: float = 3e-4
    discriminator_learning_rate: float = 2e-4
    target_decay: float = 0.95  # EMA of the target network
    head_decay: float = 0.95  # EMA of the learnable head on the target side (paper: 0.95)
    frames_per_clip: int = 2  # frames of each one-step prediction the discriminator sees
    huber_c: float = 0.001
    max_grad_norm: float = 1.0  # the student's gradient clipping (diffusers' LCM script: 1.0)
    timestep_scaling: float = 4.0
    num_solver_steps: int = 50
    seed: int = 0

    def __post_init__(self):
        check_field_types(self)
        if self.representation not in REPRESENTATIONS:
            raise ValueError(
                f"unknown motion representation {self.representation!r}; expected one of {REPRESENTATIONS}"
            )
        check_ranges(
            self,
            {
                "mixed_share": 0 <= self.mixed_share <= 1,
                "guidance_min": 0 <= self.guidance_min <= self.guidance_max,
                "adversarial_weight": self.adversarial_weight >= 0,
                "steps": self.steps >= 1,
                "batch_size": self.batch_size >= 1,
                "learning_rate": self.learning_rate > 0,
                "discriminator_learning_rate": self.discriminator_learning_rate > 0,
                "target_decay": 0 <= self.target_decay < 1,
                "head_decay": 0 <= self.head_decay < 1,
                "frames_per_clip": self.frames_per_clip >= 1,
                "huber_c": self.huber_c > 0,
                "max_grad_norm": self.max_grad_norm > 0,
                "timestep_scaling": self.timestep_scaling > 0,
                "num_solver_steps": self.num_solver_steps >= 1,
                "seed": self.seed >= 0,
            },
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def model_config(model: torch.nn.Module) -> dict:
    """A denoiser's diffusers config without diffusers' private entries."""
    return {k: v for k, v in dict(model.config).items() if not k.startswith("_")}


def check_compatible(teacher: dict, student: dict) -> None:
    """A student must have its teacher's architecture and classes (it starts as a copy): compare
    their :func:`model_config`."""
    different = sorted(k for k in set(teacher) | set(student) if teacher.get(k) != student.get(k))
    if different:
        detail = ", ".join(
            f"{k}: teacher {teacher.get(k)!r} vs student {student.get(k)!r}" for k in different
        )
        raise ValueError(f"teacher and student configs differ ({detail})")


def mixed_trajectory(share: float, generator: torch.Generator) -> bool:
    """Whether this batch's trajectory starts at the student's own sample: probability ``share``
    (exactly never at 0 and always at 1)."""
    return bool(torch.rand((), generator=generator) < share)


@dataclass
class DistillBatch:
    """One step's random draws (CPU tensors)."""

    x0: torch.Tensor  # (B, C, F, H, W) real clips in model range
    labels: torch.Tensor  # (B,)
    noise: torch.Tensor  # (B, C, F, H, W)
    start_noise: torch.Tensor  # (B, C, F, H, W) for the student's one-step sample (mixed)
    solver_index: torch.Tensor  # (B,) n
    guidance: torch.Tensor  # (B,) w
    mixed: bool
    real_images: torch.Tensor  # (B frames_per_clip, 3, H, W) high-quality images in [0, 1]
    generator: torch.Generator  # for the discriminator's frame choice and augmentations


def make_batch(bank: ClipBank, images: torch.Tensor, config: DistillConfig, step: int) -> DistillBatch:
    """Step ``step``'s draws, from a generator seeded by ``(config.seed, step)``."""
    g = step_generator(config.seed, step)
    b = config.batch_size
    index = torch.randint(len(bank.clips), (b,), generator=g)
    x0 = to_model_range(bank.clips[index].float() / 255)
    labels = bank.labels[index] if bank.labels is not None else torch.zeros(b, dtype=torch.long)
    noise, start_noise = torch.randn(x0.shape, generator=g), torch.randn(x0.shape, generator=g)
    solver_index = torch.randint(config.num_solver_steps, (b,), generator=g)
    w = config.guidance_min + (config.guidance_max - config.guidance_min) * torch.rand(b, generator=g)
    mixed = mixed_trajectory(config.mixed_share, g)
    real = images[torch.randint(len(images), (b * config.frames_per_clip,), generator=g)]
    return DistillBatch(x0, labels, noise, start_noise, solver_index, w, mixed, real, g)


def _ema(module: torch.nn.Module, decay: float) -> EMAModel:
    """diffusers' EMA at a constant ``decay`` from the first update on (``update_after_step=-1``:
    by default its first update copies the weights), as LCM's ``update_ema``."""
    return EMAModel(module.parameters(), decay=float(decay), min_decay=float(decay), update_after_step=-1)


class Distiller:
    """The student, its EMA target, the motion head (and its EMA), the discriminator, and the
    frozen teacher, with one :meth:`step` of the loop above."""

    def __init__(self, teacher: torch.nn.Module, noise_scheduler: DDPMScheduler, config: DistillConfig):
        self.config = config
        self.scheduler = noise_scheduler
        self.teacher = teacher.eval().requires_grad_(False)
        self.student = copy.deepcopy(teacher).train().requires_grad_(True)  # LCM starts at the teacher
        self.target = copy.deepcopy(teacher).eval().requires_grad_(False)
        self.target_ema = _ema(self.student, config.target_decay)
        with torch.random.fork_rng(devices=[]):  # seeded initial weights: a resumed run matches
            torch.manual_seed(config.seed)
            self.head = MotionHead(channels=3) if config.representation == "learned" else None
            self.discriminator = FrameDiscriminator() if config.discriminator else None
        trainable = list(self.student.parameters())
        if self.head is not None:
            self.head_target = copy.deepcopy(self.head).requires_grad_(False)
            self.head_ema = _ema(self.head, config.head_decay)
            trainable += list(self.head.parameters())
        self.optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.0)
        if self.discriminator is not None:
            self.disc_optimizer = torch.optim.AdamW(
                self.discriminator.parameters(),
                lr=config.discriminator_learning_rate,
                betas=(0.0, 0.99),
                weight_decay=0.0,
            )
        num_train_timesteps = noise_scheduler.config.num_train_timesteps
        self.grid = solver_timesteps(num_train_timesteps, config.num_solver_steps)
        self.skip = int(self.grid[0]) + 1
        # c_skip(t), c_out(t) of every timestep, computed once (each call builds an LCMScheduler)
        self.c_skip, self.c_out = boundary_scalings(
            noise_scheduler, torch.arange(num_train_timesteps), config.timestep_scaling
        )

    # --- the pieces of one step ------------------------------------------------------------

    def consistency_function(self, model, x_t: torch.Tensor, t: torch.Tensor, labels: torch.Tensor):
        """``f(x_t, t) = c_skip(t) x_t + c_out(t) x0_hat(x_t, t)`` of ``model``."""
        x0_hat, _ = x0_and_eps(self.scheduler, x_t, t, model(x_t, t, labels).float())
        index = t.cpu()
        c_skip, c_out = self.c_skip[index].to(x_t.device), self.c_out[index].to(x_t.device)
        return consistency_output(x_t, x0_hat, c_skip, c_out)

    def represent(self, z: torch.Tensor, target_side: bool) -> torch.Tensor:
        """M(z): a fixed motion representation, or the learnable head (its EMA on the target side)."""
        if self.head is None:
            return motion_representation(z, self.config.representation)
        return self.head_target(z) if target_side else self.head(z)

    @torch.no_grad()
    def one_step_sample(self, noise: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The student's one-step sample from pure noise at t = T - 1 (mixed trajectories).

        The online student, as docs/papers.md describes it (and MCM's LoRA variant, whose online
        network is also its target); MCM's EMA-target variant uses the target network here.
        """
        t = torch.full((len(noise),), int(self.grid[-1]), device=noise.device)
        return self.consistency_function(self.student, noise, t, labels)

    def step(self, batch: DistillBatch) -> dict[str, float]:
        """One distillation step; returns its losses."""
        device = next(self.student.parameters()).device
        labels, noise = batch.labels.to(device), batch.noise.to(device)
        x0 = (
            self.one_step_sample(batch.start_noise.to(device), labels) if batch.mixed else batch.x0.to(device)
        )
        t = self.grid[batch.solver_index].to(device)  # t_{n+k}
        s = (t - self.skip).clamp(min=0)  # t_n
        x_t = self.scheduler.add_noise(x0, noise, t)
        # zero terminal SNR: at the last timestep the input is pure noise
        x_t = torch.where(
            (t == self.scheduler.config.num_train_timesteps - 1).view(-1, 1, 1, 1, 1), noise, x_t
        )

        f_student = self.consistency_function(self.student, x_t, t, labels)  # (B, C, F, H, W)
        with torch.no_grad():
            x_s = guided_teacher_step(
                self.teacher, self.scheduler, x_t, t, s, labels, batch.guidance.to(device)
            )
            f_target = self.consistency_function(self.target, x_s, s, labels)
        consistency = pseudo_huber(
            self.represent(f_student, target_side=False),
            self.represent(f_target, target_side=True),
            self.config.huber_c,
        ).mean()
        losses = {"consistency": consistency}
        loss = consistency
        if self.discriminator is not None:
            fake = random_frames((f_student + 1) / 2, self.config.frames_per_clip, batch.generator)
            self.discriminator.requires_grad_(False)
            adversarial = generator_hinge_loss(self.discriminator(diff_augment(fake, batch.generator)))
            self.discriminator.requires_grad_(True)
            loss = loss + self.config.adversarial_weight * adversarial
            losses["adversarial"] = adversarial
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.optimizer.param_groups[0]["params"], self.config.max_grad_norm)
        self.optimizer.step()
        if self.discriminator is not None:
            real = diff_augment(batch.real_images.to(device), batch.generator)
            fake = diff_augment(fake.detach(), batch.generator)
            d_loss = discriminator_hinge_loss(self.discriminator(real), self.discriminator(fake))
            self.disc_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            self.disc_optimizer.step()
            losses["discriminator"] = d_loss
        self._update_targets()
        out = {k: float(v.detach()) for k, v in losses.items()}
        if self.head is not None:
            out["head_norm_ratio"] = self.head.output_norm(f_student.detach())
        return out

    def _update_targets(self) -> None:
        self.target_ema.step(self.student.parameters())
        self.target_ema.copy_to(self.target.parameters())
        if self.head is not None:
            self.head_ema.step(self.head.parameters())
            self.head_ema.copy_to(self.head_target.parameters())

    # --- checkpoints -----------------------------------------------------------------------

    def state_dict(self) -> dict:
        state = {
            "student": self.student.state_dict(),
            "target_ema": self.target_ema.state_dict(),
            "optimizer": self.optimizer.state_dict(),
        }
        if self.head is not None:
            state |= {"head": self.head.state_dict(), "head_ema": self.head_ema.state_dict()}
        if self.discriminator is not None:
            state |= {
                "discriminator": self.discriminator.state_dict(),
                "disc_optimizer": self.disc_optimizer.state_dict(),
            }
        return state

    def load_state_dict(self, state: dict) -> None:
        self.student.load_state_dict(state["student"])
        self.target_ema.load_state_dict(state["target_ema"])
        self.target_ema.copy_to(self.target.parameters())
        self.optimizer.load_state_dict(state["optimizer"])
        if self.head is not None:
            self.head.load_state_dict(state["head"])
            self.head_ema.load_state_dict(state["head_ema"])
            self.head_ema.copy_to(self.head_target.parameters())
        if self.discriminator is not None:
            self.discriminator.load_state_dict(state["discriminator"])
            self.disc_optimizer.load_state_dict(state["disc_optimizer"])


def read_distill_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """A distillation checkpoint's contents: tensors and plain data only (no code runs)."""
    state = load_tensors(path, "distillation checkpoint", map_location=map_location)
    if not isinstance(state, dict) or not {"config", "student_config", "step"} <= set(state):
        raise ValueError(
            f"{path} is not a tqd-lite distillation checkpoint (no config, student_config, step)"
        )
    return state


@dataclass
class DistillResult:
    student: torch.nn.Module  # the online student, on the training device, in eval mode
    history: list[dict]
    seconds: float


def distill(
    teacher: torch.nn.Module,
    noise_scheduler: DDPMScheduler,
    bank: ClipBank,
    images: torch.Tensor,
    config: DistillConfig,
    out_dir: str | Path | None = None,
    checkpoint_every: int = 50,
    log_every: int = 10,
    progress: bool = True,
    stop_after: int | None = None,
    device: str | torch.device | None = None,
) -> DistillResult:
    """Distil ``teacher`` into a few-step student on ``bank`` (the teacher's own clips, with
    labels) and high-quality ``images`` ``(N, 3, H, W)``; resumes from ``out_dir``'s checkpoint.

    ``stop_after``: stop after this step, as if interrupted (tests, time budgets).
    """
    if bank.labels is None and teacher.config.num_classes > 0:
        raise ValueError("the teacher is class-conditional: the clip bank needs labels")
    if images.ndim != 4 or images.shape[1] != 3 or images.shape[-2:] != bank.clips.shape[-2:]:
        raise ValueError(
            f"images must be (N, 3, {bank.clips.shape[-2]}, {bank.clips.shape[-1]}) like the clips' frames, "
            f"got {tuple(images.shape)}"
        )
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if next(teacher.parameters()).device != device:
        raise ValueError(f"the teacher is on {next(teacher.parameters()).device}; move it to {device} first")
    distiller = Distiller(teacher, noise_scheduler, config)
    for module in (distiller.student, distiller.target, distiller.head, distiller.discriminator):
        if module is not None:
            module.to(device)
    if distiller.head is not None:
        distiller.head_target.to(device)
        distiller.head_ema.to(device)
    distiller.target_ema.to(device)

    start, history, seconds_before = 0, [], 0.0
    path = Path(out_dir) / CHECKPOINT_FILE if out_dir is not None else None
    if path is not None and path.exists():
        state = read_distill_checkpoint(path, map_location=device)
        if state["config"] != config.to_dict():
            raise ValueError(f"{path} was made with another DistillConfig; use a new --out folder")
        try:
            check_compatible(model_config(teacher), state["student_config"])
        except ValueError as error:
            raise ValueError(f"{path} was distilled from another teacher: {error}") from None
        distiller.load_state_dict(state)
        start, history, seconds_before = state["step"], state["history"], state["seconds"]

    last = config.steps if stop_after is None else min(stop_after, config.steps)
    running: list[dict] = []
    begun = time.perf_counter()
    bar = tqdm(
        range(start, last),
        desc=f"distilling ({config.representation})",
        disable=not progress,
        initial=start,
        total=config.steps,
    )
    for step in bar:
        running.append(distiller.step(make_batch(bank, images, config, step)))
        if (step + 1) % log_every == 0 or step + 1 == last:
            mean = {k: sum(r[k] for r in running) / len(running) for k in running[0]}
            history.append({"step": step + 1, **mean})
            bar.set_postfix(loss=f"{mean['consistency']:.4f}")
            running = []
        if path is not None and ((step + 1) % checkpoint_every == 0 or step + 1 == last):
            elapsed = seconds_before + time.perf_counter() - begun
            state = {
                **distiller.state_dict(),
                "config": config.to_dict(),
                "student_config": model_config(distiller.student),
                "step": step + 1,
                "history": history,
                "seconds": elapsed,
            }
            atomic_save(state, path)
    seconds = seconds_before + time.perf_counter() - begun
    return DistillResult(distiller.student.eval(), history, seconds)


def student_pipeline(student, noise_scheduler: DDPMScheduler, config: DistillConfig) -> VideoPipeline:
    """The student with its few-step sampler: diffusers' ``LCMScheduler`` on the solver grid and
    with the boundary scalings it was distilled with (1, 2, 4 or 8 steps)."""
    scheduler = lcm_scheduler(noise_scheduler, config.timestep_scaling, config.num_solver_steps)
    return VideoPipeline(unet=student, scheduler=scheduler)


def export_student(
    result: DistillResult,
    *,
    noise_scheduler: DDPMScheduler,
    config: DistillConfig,
    out: str | Path,
    record: dict,
) -> Path:
    """The student as a model folder with its :func:`student_pipeline` scheduler
    (``VideoPipeline.from_pretrained(out)`` then samples in 1-8 steps); ``record`` (provenance and
    what the run measured) goes to ``provenance.json`` with the config and loss history."""
    record = {**record, "distill_config": config.to_dict(), "history": result.history}
    pipe = student_pipeline(result.student, noise_scheduler, config)
    return write_model_folder(pipe, record=record, out=out)
