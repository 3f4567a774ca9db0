"""TQD's gradient-similarity analysis: when does a degraded clip teach what a golden clip teaches?

For every timestep t of a grid and every degradation (docs/papers.md, section 1; method [our choice]):

1. Draw a *pair* of independent golden batches A and B (``batch_size`` clips each) and their noise.
2. Degrade A and B with every variant (the degradations of :mod:`tqd_lite.world.degrade` at each
   strength, plus pixel-MSE-matched controls, below). A degraded clip keeps the noise of its
   golden original, and all of them share t: the comparison isolates what the degradation changed.
3. Per-clip gradients of the denoising loss (:mod:`tqd_lite.tqd.gradients`), golden and degraded.
4. Cosines, per layer group:

   * ``paired_batch``: ``cos(mean_i g(a_i), mean_i g(d(a_i)))``, the minibatch gradient of a golden
     batch against that of the same batch degraded (and the same for B);
   * ``unpaired_batch``: the golden batch A against the degraded batch B (other clips, other noise),
     so the question is the one training faces: is a degraded batch a stand-in for a golden one?
   * ``paired_clip``: ``cos(g(a_i), g(d(a_i)))`` for single clips, averaged over the batch;
   * the **golden-vs-golden level** (``ceiling``): ``cos(mean g(A), mean g(B))``, one independent
     golden batch against another, the scale for the unpaired view: an unpaired degraded batch
     that reaches it stands in for golden data as well as more golden data would. It is far below
     1 because at a trained model the expected gradient is small and a minibatch gradient is
     mostly sampling noise; it can even be negative, since A and B are disjoint draws from a
     finite set of clips whose gradients nearly cancel.

Every pair is seeded by ``(seed, pair)`` and keeps its clips and noise at every t, so curves over t
differ only by t. Means and 95% confidence intervals are over pairs (one value per pair: its two
batches averaged). All pairs draw from the same held-out clips, so pairs are not fully independent
and the intervals are somewhat optimistic.

**The pixel-MSE control.** A motion degradation of a moving clip changes far more pixels than a
mild blur. If degraded gradients stayed close to golden ones simply because little changed, a
blur would look golden-like for that reason alone. The ``blur~KIND`` variants blur each clip
with the sigma whose pixel MSE equals what motion degradation KIND (at the grid's top strength)
does to that same clip: visual damage of the same size as the motion damage.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from tqd_lite.diffusion.noise import to_model_range
from tqd_lite.diffusion.train import atomic_save, step_generator
from tqd_lite.fields import check_field_types, check_ranges
from tqd_lite.files import load_tensors
from tqd_lite.stats import mean_ci
from tqd_lite.tqd.gradients import (
    GradientSet,
    check_timesteps,
    cosines,
    layer_groups,
    looped_gradients,
    per_sample_gradients,
)
from tqd_lite.world.clips import check_clip
from tqd_lite.world.degrade import (
    DEGRADATIONS,
    MOTION_DEGRADATIONS,
    VISUAL_DEGRADATIONS,
    gaussian_blur_images,
)

MEASURES = ("paired_batch", "unpaired_batch", "paired_clip")
MAIN_GROUPS = ("all", "spatial", "temporal")


@dataclass(frozen=True)
class Variant:
    """One way of degrading the golden clips."""

    kind: str  # a key of DEGRADATIONS, or "blur~KIND" for the MSE-matched control of motion KIND
    strength: float

    @property
    def name(self) -> str:
        return f"{self.kind}@{self.strength:g}"

    @property
    def family(self) -> str:
        if "~" in self.kind:
            return "control"
        return "visual" if self.kind in VISUAL_DEGRADATIONS else "motion"


@dataclass(frozen=True)
class GradientAnalysisConfig:
    """The grid of one analysis; every size is explicit so a result file can be re-run exactly."""

    timesteps: tuple[int, ...] = (5, 25, 100, 250, 400, 550, 700, 850, 950)
    pairs: int = 4  # independent (A, B) batch pairs per timestep
    batch_size: int = 8  # clips per batch
    kinds: tuple[str, ...] = tuple(DEGRADATIONS)
    strengths: tuple[float, ...] = (1.0,)
    controls: tuple[str, ...] = ("freeze", "slow_down")  # motion kinds that get a blur~KIND control
    seed: int = 0
    chunk_size: int | None = None  # clips per vectorised gradient chunk (None: a whole batch)

    def __post_init__(self):
        check_field_types(self)
        check_timesteps(self.timesteps, "timesteps")
        check_ranges(
            self,
            {
                "pairs": self.pairs >= 1,
                "batch_size": self.batch_size >= 1,
                "seed": self.seed >= 0,
                "chunk_size": self.chunk_size is None or self.chunk_size >= 1,
            },
        )
        unknown = [k for k in self.kinds if k not in DEGRADATIONS]
        if unknown:
            raise ValueError(f"unknown degradation(s) {unknown}; expected some of {sorted(DEGRADATIONS)}")
        bad_controls = [k for k in self.controls if k not in MOTION_DEGRADATIONS]
        if bad_controls:
            raise ValueError(
                f"controls must be motion degradations {sorted(MOTION_DEGRADATIONS)}, got {bad_controls}"
            )
        if not self.strengths or any(not 0 < s <= 1 for s in self.strengths):
            raise ValueError(f"strengths must be in (0, 1], got {self.strengths}")

    def variants(self) -> list[Variant]:
        plain = [Variant(kind, s) for kind in self.kinds for s in self.strengths]
        return plain + [Variant(f"blur~{kind}", max(self.strengths)) for kind in self.controls]

    def to_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------- variants
def pixel_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared pixel difference of each clip pair: ``(B,)``."""
    return (a - b).pow(2).mean(dim=(1, 2, 3, 4))


def mse_matched_blur(clips: torch.Tensor, target_mse: torch.Tensor, iterations: int = 30) -> torch.Tensor:
    """Blur each clip with the Gaussian sigma whose pixel MSE equals its ``target_mse``.

    Bisection on sigma in [0, frame width] (the blur's MSE grows with sigma). A target beyond
    what blurring the whole frame can do gets the widest blur.
    """
    out = []
    for clip, target in zip(clips, target_mse.tolist(), strict=True):
        frames = clip.permute(1, 0, 2, 3)  # (F, C, H, W)
        low, high = 0.0, float(clip.shape[-1])
        for _ in range(iterations):
            sigma = (low + high) / 2
            mse = (gaussian_blur_images(frames, sigma) - frames).pow(2).mean().item()
            low, high = (sigma, high) if mse < target else (low, sigma)
        out.append(gaussian_blur_images(frames, high).permute(1, 0, 2, 3))
    return torch.stack(out)


def apply_variant(variant: Variant, clips: torch.Tensor) -> torch.Tensor:
    """The degraded clips ``(B, 3, F, H, W)`` in [0, 1]."""
    if variant.family == "control":
        motion_kind = variant.kind.split("~", 1)[1]
        target = pixel_mse(DEGRADATIONS[motion_kind](clips, variant.strength), clips)
        return mse_matched_blur(clips, target)
    return DEGRADATIONS[variant.kind](clips, variant.strength)


# ----------------------------------------------------------------------------- the analysis
def _pair_inputs(clips: torch.Tensor, config: GradientAnalysisConfig, pair: int):
    """Pair ``pair``'s two golden batches and their noise: a pure function of (seed, pair)."""
    generator = step_generator(config.seed, pair)
    index = torch.randperm(len(clips), generator=generator)[: 2 * config.batch_size]
    batches = clips[index].chunk(2)  # A, B: (b, 3, F, H, W) each
    noises = torch.randn((2 * config.batch_size, *clips.shape[1:]), generator=generator).chunk(2)
    return batches, noises


def _cosines(a: GradientSet, b: GradientSet, groups) -> dict[str, float]:
    """Mean cosine over the rows, per group."""
    return {g: v.mean().item() for g, v in cosines(a, b, groups).items()}


def _average(first: dict, second: dict) -> dict:
    return {g: (first[g] + second[g]) / 2 for g in first}


def _as_tensors(tree):
    """numpy arrays inside nested dicts and lists as tensors, so the file loads with ``weights_only``."""
    if isinstance(tree, dict):
        return {k: _as_tensors(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_as_tensors(v) for v in tree]
    return torch.from_numpy(tree) if isinstance(tree, np.ndarray) else tree


def _as_arrays(tree):
    """The inverse of :func:`_as_tensors`."""
    if isinstance(tree, dict):
        return {k: _as_arrays(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_as_arrays(v) for v in tree]
    return tree.numpy() if isinstance(tree, torch.Tensor) else tree


def analyze(
    model,
    noise_scheduler,
    clips: torch.Tensor,
    config: GradientAnalysisConfig,
    progress: bool = True,
    method: str = "vmap",
    partial: str | Path | None = None,
    partial_key: dict | None = None,
) -> dict:
    """Run the grid on golden ``clips`` ``(N, 3, F, H, W)`` in [0, 1] (N >= 2 batch_size).

    The model may be on any device; the gradients are computed there. ``method``: ``"vmap"``
    (:func:`~tqd_lite.tqd.gradients.per_sample_gradients`) or ``"loop"``
    (:func:`~tqd_lite.tqd.gradients.looped_gradients`); both are exact, so it changes only the speed
    (``benchmarks/bench_gradients.py``: on 2 CPU cores vmap is faster for the tiny model at 16x16,
    the loop for the small one at 32x32).
    ``partial``: a file that keeps the finished pairs, so an interrupted grid resumes at its next
    pair (every pair's clips and noise are seeded by its index, so the result is the same); it is
    used only if made with the same config and ``partial_key`` (which should name the weights
    and the clips).
    Returns ``{"config", "timesteps", "groups", "variants", "measures", "ceiling", "seconds"}``;
    ``measures[measure][variant][group]`` and ``ceiling[batch|clip][group]`` are lists over
    timesteps of lists over pairs (see the module doc).
    """
    check_clip(clips, batched=True, name="golden clips")
    if method not in ("vmap", "loop"):
        raise ValueError(f"method must be 'vmap' or 'loop', got {method!r}")
    if len(clips) < 2 * config.batch_size:
        raise ValueError(
            f"{len(clips)} golden clips cannot fill two independent batches of {config.batch_size}; "
            f"lower batch_size to at most {len(clips) // 2}"
        )
    model = model.float().eval()
    groups = layer_groups(model)
    variants = config.variants()
    timesteps = check_timesteps(config.timesteps)
    shape = (len(timesteps), config.pairs)
    measures = {m: {v.name: {g: np.zeros(shape) for g in groups} for v in variants} for m in MEASURES}
    ceiling = {level: {g: np.zeros(shape) for g in groups} for level in ("batch", "clip")}
    mse = {v.name: [] for v in variants}
    key = {"config": config.to_dict(), **(partial_key or {})}
    done, seconds_before = 0, 0.0
    if partial is not None and Path(partial).is_file():
        state = _as_arrays(load_tensors(partial, "partial gradient grid"))  # plain data only: no code runs
        if state["key"] == key:
            done, seconds_before = state["done"], state["seconds"]
            measures, ceiling, mse = state["measures"], state["ceiling"], state["mse"]

    device = next(model.parameters()).device

    def gradients(x, noise, t) -> GradientSet:
        x, noise = to_model_range(x).to(device), noise.to(device)
        steps = torch.full((len(x),), t, device=device)
        if method == "loop":
            return GradientSet.of(looped_gradients(model, noise_scheduler, x, noise, steps))
        return GradientSet.of(
            per_sample_gradients(model, noise_scheduler, x, noise, steps, config.chunk_size)
        )

    started = time.perf_counter()
    bar = tqdm(
        total=config.pairs * len(timesteps),
        initial=done * len(timesteps),
        desc="gradient grid",
        disable=not progress,
    )
    for p in range(done, config.pairs):
        (a, b), (noise_a, noise_b) = _pair_inputs(clips, config, p)
        degraded = {v.name: (apply_variant(v, a), apply_variant(v, b)) for v in variants}
        for v in variants:
            mse[v.name] += (
                pixel_mse(degraded[v.name][0], a).tolist() + pixel_mse(degraded[v.name][1], b).tolist()
            )
        for i, t in enumerate(timesteps):
            gold_a, gold_b = gradients(a, noise_a, t), gradients(b, noise_b, t)
            mean_a, mean_b = gold_a.mean(), gold_b.mean()
            for g, value in _cosines(mean_a, mean_b, groups).items():
                ceiling["batch"][g][i, p] = value
            for g, value in _cosines(gold_a, gold_b, groups).items():
                ceiling["clip"][g][i, p] = value
            for v in variants:
                bad_a = gradients(degraded[v.name][0], noise_a, t)
                bad_b = gradients(degraded[v.name][1], noise_b, t)
                bad_mean_a, bad_mean_b = bad_a.mean(), bad_b.mean()
                values = {
                    "paired_batch": _average(
                        _cosines(mean_a, bad_mean_a, groups), _cosines(mean_b, bad_mean_b, groups)
                    ),
                    "unpaired_batch": _average(
                        _cosines(mean_a, bad_mean_b, groups), _cosines(mean_b, bad_mean_a, groups)
                    ),
                    "paired_clip": _average(_cosines(gold_a, bad_a, groups), _cosines(gold_b, bad_b, groups)),
                }
                for m, by_group in values.items():
                    for g, value in by_group.items():
                        measures[m][v.name][g][i, p] = value
            bar.update()
        if partial is not None:
            seconds = seconds_before + time.perf_counter() - started
            state = {"key": key, "done": p + 1, "seconds": seconds, "measures": measures, "ceiling": ceiling}
            atomic_save(_as_tensors({**state, "mse": mse}), Path(partial))
    bar.close()
    return {
        "config": config.to_dict(),
        "timesteps": timesteps,
        "groups": list(groups),
        "variants": [
            {
                "name": v.name,
                "kind": v.kind,
                "strength": v.strength,
                "family": v.family,
                "pixel_mse": float(np.mean(mse[v.name])),
            }
            for v in variants
        ],
        "measures": _to_lists(measures),
        "ceiling": _to_lists(ceiling),
        "seconds": seconds_before + time.perf_counter() - started,
    }


def _to_lists(tree):
    if isinstance(tree, dict):
        return {k: _to_lists(v) for k, v in tree.items()}
    return np.round(tree, 7).tolist()


# ----------------------------------------------------------------------------- reading a grid
@dataclass
class Curve:
    """Mean and 95% CI half-width of a measure at each timestep."""

    timesteps: list[int]
    mean: np.ndarray
    half_width: np.ndarray
    n: int  # values (pairs) behind each mean


def curve(grid: dict, measure: str, variant: str, group: str = "all") -> Curve:
    """One curve of a grid; ``measure`` is one of MEASURES or ``ceiling_batch`` / ``ceiling_clip``."""
    if measure.startswith("ceiling_"):
        values = np.asarray(grid["ceiling"][measure.removeprefix("ceiling_")][group], dtype=float)
    else:
        values = _variant_values(grid, measure, variant, group)
    mean, half = mean_ci(values)
    return Curve(grid["timesteps"], mean, half, values.shape[-1])


def _variant_values(grid: dict, measure: str, variant: str, group: str) -> np.ndarray:
    """(T, pairs): one variant's cosines, with a clear error for an unknown measure or variant."""
    if measure not in grid["measures"]:
        raise ValueError(f"unknown measure {measure!r}; expected one of {MEASURES} or ceiling_batch/_clip")
    if variant not in grid["measures"][measure]:
        raise ValueError(f"no variant {variant!r} in this grid; it has {list(grid['measures'][measure])}")
    return np.asarray(grid["measures"][measure][variant][group], dtype=float)


def _family_values(grid: dict, family: str, measure: str, group: str, strength: float | None) -> np.ndarray:
    """(T, pairs): per pair of batches, the mean cosine over one family's plain variants."""
    strength = max(grid["config"]["strengths"]) if strength is None else strength
    names = [v["name"] for v in grid["variants"] if v["family"] == family and v["strength"] == strength]
    if not names:
        raise ValueError(f"no {family} variants at strength {strength} in this grid")
    return np.mean([grid["measures"][measure][name][group] for name in names], axis=0)


def family_curve(grid: dict, family: str, measure: str, group: str = "all", strength: float | None = None):
    """The mean over the plain variants of one family (visual or motion) at one strength
    (default: the grid's strongest), with a CI over pairs of the per-pair family means."""
    values = _family_values(grid, family, measure, group, strength)
    mean, half = mean_ci(values)
    return Curve(grid["timesteps"], mean, half, values.shape[-1])


def gap_curve(
    grid: dict,
    measure: str = "paired_batch",
    group: str = "all",
    visual: str | None = None,
    motion: str | None = None,
) -> Curve:
    """``cos_visual - cos_motion`` per pair of batches: its mean and 95% CI at each t.

    Both sides are measured on the same pairs, so the difference is paired and its interval is
    narrower than the two curves' bands suggest. Positive = the visually degraded clips (motion
    kept) are the more golden-like. ``visual`` and ``motion`` name one variant each (e.g.
    ``"blur@1"``, ``"freeze@1"``); by default each side is its family's mean at the grid's top
    strength.
    """
    side = {}
    for family, name in (("visual", visual), ("motion", motion)):
        side[family] = (
            _family_values(grid, family, measure, group, None)
            if name is None
            else _variant_values(grid, measure, name, group)
        )
    values = side["visual"] - side["motion"]  # (T, pairs)
    mean, half = mean_ci(values)
    return Curve(grid["timesteps"], mean, half, values.shape[-1])


def crossing_timestep(
    grid: dict,
    measure: str = "paired_batch",
    group: str = "all",
    visual: str | None = None,
    motion: str | None = None,
) -> float | None:
    """Where the visually degraded clips' cosine overtakes the motion-degraded clips' as t grows.

    TQD's claim is that it does: motion-degraded (sharp, static) clips are closer to golden at low
    noise and visually degraded (motion-rich) clips at high noise. The sides are those of
    :func:`gap_curve`. Returns the first t (linearly interpolated between grid points) at
    which ``cos_visual - cos_motion`` goes from negative to positive, the first timestep of the grid
    if the visual side is ahead from the start, or None if it is never ahead. The crossing is
    read off the means; it carries no confidence interval (:func:`gap_curve` has one per t).
    """
    gap = gap_curve(grid, measure, group, visual, motion).mean
    t = np.asarray(grid["timesteps"], dtype=float)
    if gap[0] >= 0:
        return float(t[0])
    for i in range(len(t) - 1):
        if gap[i] < 0 <= gap[i + 1]:
            return float(t[i] + (t[i + 1] - t[i]) * (-gap[i]) / (gap[i + 1] - gap[i]))
    return None
