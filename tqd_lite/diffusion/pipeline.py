"""One sampler for every model of tqd-lite: :class:`VideoPipeline`, a diffusers ``DiffusionPipeline``.

The scheduler is the algorithm; the loop is the same for all of them::

    for t in scheduler.timesteps:
        x = scheduler.step(unet(x, t, y), t, x).prev_sample

* ``DDIMScheduler`` (:func:`ddim_scheduler`) for the diffusion models: the golden denoisers and
  MCM's teacher, with classifier-free guidance through the null class when ``guidance_scale != 1``;
* ``DDPMScheduler`` (:func:`ancestral_scheduler`) in DDIM's place: the same model, sampled with
  ancestral steps that draw fresh noise at every step (``sample --ancestral``);
* ``LCMScheduler(timestep_scaling=4)`` (``tqd_lite.mcm.consistency.lcm_scheduler``) for MCM's and
  LCM's students: each step maps the point to x0 with the consistency function and re-noises it
  to the next, lower timestep (docs/papers.md, section 2); at the last step ``prev_sample`` is x0.

Every clip has its own generator, seeded by ``(seed, clip index)``, for its starting noise and
for the noise of every re-noising step (diffusers' ``randn_tensor`` takes a list of generators),
so a clip does not depend on how many clips are sampled or on ``batch_size``.

A committed model is a folder that ``VideoPipeline.from_pretrained`` loads (``unet/`` with its
config and safetensors, ``scheduler/``, ``model_index.json``) next to ``provenance.json``::

    pipe = VideoPipeline.from_pretrained("data/models/golden_quick")
    clips = pipe(num_clips=4, seed=0).clips  # (4, 3, F, H, W) in [0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers import DDIMScheduler, DDPMScheduler, DiffusionPipeline
from diffusers.utils import BaseOutput

from tqd_lite.diffusion.model import check_trained_clip_shape
from tqd_lite.diffusion.noise import from_model_range, guided, make_noise_scheduler, mixed_noise


def ddim_scheduler(noise_scheduler: DDPMScheduler) -> DDIMScheduler:
    """DDIM over the training schedule. ``timestep_spacing="trailing"`` starts at t = T - 1, the
    noisiest level the model was trained on. An epsilon model's first x0 estimate
    ``(x_t - sqrt(1 - abar_t) eps_hat) / sqrt(abar_t)`` divides by ``sqrt(abar_t)``, 5e-5 at t = 999
    on the cosine schedule, so it is clipped to the data range (unclipped, samples of the quick
    epsilon model reached |x| ~ 6000); a v model's estimate needs no clip."""
    epsilon = noise_scheduler.config.prediction_type == "epsilon"
    return DDIMScheduler.from_config(noise_scheduler.config, timestep_spacing="trailing", clip_sample=epsilon)


def ancestral_scheduler(scheduler: DDIMScheduler) -> DDPMScheduler:
    """DDPM's ancestral sampler over the same schedule and timesteps as ``scheduler`` (Ho et al.
    2020, Algorithm 2): every step draws ``x_{t-1} ~ N(mu(x_t, x0_hat), sigma_t^2)`` with fresh
    noise, where DDIM with ``eta = 0`` takes the deterministic step. The noise comes from each
    clip's own generator, so a clip still depends on its seed and index only."""
    if not isinstance(scheduler, DDIMScheduler):
        raise ValueError(
            f"ancestral steps replace a DDIM scheduler (a diffusion model's), not {type(scheduler).__name__}"
        )
    return DDPMScheduler.from_config(scheduler.config)


def clip_generators(seed: int, num_clips: int) -> list[torch.Generator]:
    """One CPU generator per clip, a pure function of ``(seed, clip index)``."""
    return [torch.Generator().manual_seed(seed * 1_000_003 + i) for i in range(num_clips)]


@dataclass
class VideoPipelineOutput(BaseOutput):
    clips: torch.Tensor  # (B, C, F, H, W) in [0, 1], on the CPU


DDIM_STEPS = 50  # the sampler's default number of DDIM steps (`sample`, the targets)


class VideoPipeline(DiffusionPipeline):
    """A video denoiser and its sampling scheduler (see the module docstring).

    ``unet``: any tqd-lite denoiser, ``unet(x (B, C, F, H, W), t (B,), class_labels (B,) | None)``.
    ``scheduler``: ``DDIMScheduler`` or ``LCMScheduler`` (any diffusers scheduler whose ``step``
    returns ``prev_sample``).
    ``noise_correlation``: the starting noise's correlation between frames that the unet was trained
    with (``TrainConfig.noise_correlation``), the default of every call; ``save_pretrained`` records
    it in ``model_index.json`` (as diffusers' pipelines record their own settings).
    """

    model_cpu_offload_seq = "unet"

    def __init__(self, unet, scheduler, noise_correlation: float = 0.0):
        super().__init__()
        self.register_modules(unet=unet, scheduler=scheduler)
        self.register_to_config(noise_correlation=noise_correlation)

    @torch.no_grad()
    def __call__(
        self,
        *,
        num_clips: int = 1,
        num_frames: int | None = None,
        size: int | None = None,
        num_inference_steps: int = DDIM_STEPS,
        class_labels: torch.Tensor | None = None,
        guidance_scale: float = 1.0,
        seed: int = 0,
        generator: list[torch.Generator] | None = None,
        batch_size: int = 32,
        noise_correlation: float | None = None,
        progress: bool = True,
        other_shape: bool = False,
    ) -> VideoPipelineOutput:
        """Sample ``num_clips`` clips.

        ``num_frames``, ``size``: the clip shape; by default the one the unet was trained on (its
        config's ``num_frames`` and ``sample_size``, recorded when weights are exported).
        ``num_inference_steps``: scheduler steps (DDIM: e.g. 50; LCM: 1, 2, 4 or 8).
        ``class_labels``: ``(num_clips,)`` long; None is the null class (an unconditional model).
        ``guidance_scale``: classifier-free guidance ``w`` in ``out_null + w (out_label - out_null)``;
            1 is plain conditional sampling.
        ``seed``: seeds the per-clip generators; or pass ``generator``, one per clip.
        ``batch_size``: clips denoised together; the samples do not depend on it (on 2 CPU cores,
            32 clips at a time ran 2.4x faster per clip than 256).
        ``noise_correlation``: the starting noise's correlation between frames
            (``noise.mixed_noise``); by default the pipeline's, the prior its unet was trained with.
        ``other_shape``: allow a clip shape other than the one the unet records (the convolutions
            run at any size, but the model never saw it); without it that is an error.
        """
        num_frames, size = self._clip_shape(num_frames, size, other_shape)
        if noise_correlation is None:
            noise_correlation = self.config.noise_correlation
        generators = generator if generator is not None else clip_generators(seed, num_clips)
        if len(generators) != num_clips:
            raise ValueError(f"generator: one per clip expected ({num_clips}), got {len(generators)}")
        if class_labels is not None and len(class_labels) != num_clips:
            raise ValueError(f"class_labels: one per clip expected ({num_clips}), got {len(class_labels)}")
        self.unet.eval()
        chunks = []
        for start in self.progress_bar(range(0, num_clips, batch_size), disable=not progress):
            chunk = generators[start : start + batch_size]
            labels = None if class_labels is None else class_labels[start : start + batch_size]
            # (b, C, F, H, W) starting noise, each clip from its own generator
            x = torch.cat([mixed_noise((1, 3, num_frames, size, size), g, noise_correlation) for g in chunk])
            chunks.append(self._denoise(x, labels, guidance_scale, num_inference_steps, chunk))
        return VideoPipelineOutput(clips=torch.cat(chunks))

    def _denoise(self, x, class_labels, guidance_scale, num_inference_steps, generators) -> torch.Tensor:
        """Run the scheduler's loop on one batch of pure noise; returns it in [0, 1] on the CPU."""
        x = x.to(self.device)
        labels = None if class_labels is None else class_labels.to(self.device)
        self.scheduler.set_timesteps(num_inference_steps)  # also resets the scheduler's step counter
        for t in self.scheduler.timesteps:
            batch_t = torch.full((len(x),), int(t), device=x.device)
            output = guided(self.unet, x, batch_t, labels, guidance_scale).float()
            x = self.scheduler.step(output, t, x, generator=generators).prev_sample
        return from_model_range(x).cpu()

    def _clip_shape(self, num_frames: int | None, size: int | None, other_shape: bool) -> tuple[int, int]:
        """The asked clip shape, the unet's recorded one filling what is not asked."""
        config = self.unet.config
        num_frames, size = num_frames or config.get("num_frames"), size or config.get("sample_size")
        if num_frames is None or size is None:
            raise ValueError(
                "this unet does not record the clip shape it was trained on: pass num_frames and size"
            )
        if not other_shape:
            remedy = "other_shape=True, or --num-frames and --size on the command line, samples another shape"
            check_trained_clip_shape(self.unet, num_frames, size, name="this unet", remedy=remedy)
        return int(num_frames), int(size)

    def progress_bar(self, iterable, disable: bool = False):
        """diffusers' bar, on or off per call (``tqdm.auto`` underneath)."""
        self.set_progress_bar_config(desc="sampling", leave=False, disable=disable)
        return super().progress_bar(iterable)


def ddim_pipeline(unet, config) -> VideoPipeline:
    """``unet`` with DDIM over the training schedule that ``config`` (a
    :class:`~tqd_lite.diffusion.train.TrainConfig`: prediction type, beta schedule, SNR shift) names."""
    noise_scheduler = make_noise_scheduler(**config.noise_schedule())
    scheduler = ddim_scheduler(noise_scheduler)
    return VideoPipeline(unet=unet, scheduler=scheduler, noise_correlation=config.noise_correlation)
