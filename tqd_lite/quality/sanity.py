"""The metric sanity table: every metric against golden clips and every way a clip can go wrong.

A metric is trusted only if it reacts to each input below as its kind should, by a margin
declared here (:data:`DECLARATIONS`), which ``tests/test_sanity.py`` reads:

* **Reference**: ``REFERENCE_CLIPS`` freshly rendered golden-distribution clips (both knobs in
  [0.5, 1], no motion artefact: what the pool calls golden). **Golden interval**: each metric
  is measured on ``GOLDEN_DRAWS`` further independent sets of golden renders; their mean plus or
  minus a t-based 95% prediction interval is what "the same as golden" means.
* **Inputs**: each is a set of ``clips`` clips made from another fresh golden set: positives, the
  visual family, the motion family, failure modes (:mod:`tqd_lite.world.failures`), the content
  negative (the background alone), and the family "mud": synthetic muddy fields and frozen
  samples of an undertrained model (:mod:`tqd_lite.quality.undertrained`, held out of every learned
  metric). Distances, realism and visual scores must call mud worse than golden.
* **Rules**: ``same`` (inside the golden interval, widened by the metric's tolerance), ``worse``
  (beyond it on the bad side), ``not_better`` (not beyond it on the good side), ``zero`` (within
  the metric's zero tolerance of 0), ``above_negatives`` (better than every negative input that
  the metric must rank as worse), ``worse_than_visual`` (worse than every visually damaged input:
  noise, speckle, flicker and cuts are rejected before any blur), ``small`` (moves less than half
  as far as the mildest full-strength visual damage), and monotone series (each step of a
  strength sweep no better than the one before, within the
  tolerance). A metric may be declared **blind** to an input, with the reason; blind cells are
  shown but kept out of verdicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import stats
from tqdm.auto import tqdm

from tqd_lite.quality.tracker import DYNAMIC_THRESHOLD
from tqd_lite.world import failures
from tqd_lite.world.degrade import MOTION_DEGRADATIONS, VISUAL_DEGRADATIONS
from tqd_lite.world.render import (
    WORLD,
    ClipSpec,
    WorldStyle,
    render_clip_with_truth,
    render_clips,
    world_style,
)

GOLDEN_KNOBS = (0.5, 1.0)  # both knobs uniform in this range: the world's golden clips
REFERENCE_CLIPS = 1024
GOLDEN_DRAWS = 20
STRENGTHS = (0.25, 0.5, 1.0)
NOISE_SIGMAS = (0.02, 0.05, 0.15)
MOTION_STRENGTHS = (0.5, 1.0)


def golden_specs(n: int, *, size: int, num_frames: int, seed: int) -> list[ClipSpec]:
    """``n`` golden-distribution specs: independent scenes, both knobs uniform in ``GOLDEN_KNOBS``."""
    rng = np.random.default_rng(seed)
    kinds = sorted(VISUAL_DEGRADATIONS)
    return [
        ClipSpec(
            seed=int(rng.integers(2**31 - 1)),
            visual_quality=float(rng.uniform(*GOLDEN_KNOBS)),
            motion_intensity=float(rng.uniform(*GOLDEN_KNOBS)),
            visual_degradation=kinds[int(rng.integers(len(kinds)))],
            num_frames=num_frames,
            size=size,
        )
        for _ in range(n)
    ]


def golden_renders(n: int, *, size: int, num_frames: int, seed: int, world: str = WORLD.name) -> torch.Tensor:
    """``n`` golden-distribution clips ``(n, 3, F, H, W)`` in [0, 1], rendered in the named world
    style (:data:`~tqd_lite.world.render.WORLD_STYLES`)."""
    return render_specs(
        golden_specs(n, size=size, num_frames=num_frames, seed=seed), style=world_style(world)
    )


def render_specs(specs: list[ClipSpec], *, sprites: bool = True, style: WorldStyle = WORLD) -> torch.Tensor:
    """The clips of ``specs`` ``(n, 3, F, H, W)`` in the world ``style``; ``sprites=False``: their
    empty scenes."""
    if not sprites:
        return torch.stack([render_clip_with_truth(s, sprites=False, style=style)[0] for s in specs])
    return render_clips(specs, style)


def _with(specs: list[ClipSpec], **changes) -> list[ClipSpec]:
    return [ClipSpec(**{**s.to_dict(), **changes}) for s in specs]


def _double_speed(specs: list[ClipSpec]) -> torch.Tensor:
    """The same scenes at twice the speed: render twice the frames, keep every second one."""
    long = render_specs(_with(specs, num_frames=2 * specs[0].num_frames))
    return long[:, :, ::2].contiguous()


def _half_speed(specs: list[ClipSpec]) -> torch.Tensor:
    """Half the motion intensity: every sprite and the camera move exactly half as fast."""
    return render_specs(
        [ClipSpec(**{**s.to_dict(), "motion_intensity": s.motion_intensity / 2}) for s in specs]
    )


def sanity_inputs(
    *,
    size: int,
    num_frames: int,
    clips: int,
    seed: int,
    set_c: torch.Tensor | None = None,
    undertrained: torch.Tensor | None = None,
) -> dict[str, tuple[str, torch.Tensor]]:
    """Every input of the table, ``name -> (family, clips (B, 3, F, H, W))``, from fresh golden renders.

    ``set_c``: real clips of the pool (a positive); ``undertrained``: frozen samples of an
    undertrained model (:mod:`tqd_lite.quality.undertrained`, family "mud").
    """
    specs = golden_specs(clips, size=size, num_frames=num_frames, seed=seed)
    golden = render_specs(specs)
    generator = torch.Generator().manual_seed(seed)
    shape = tuple(golden.shape)
    still = render_specs(_with(specs, motion_intensity=0.0))
    inputs: dict[str, tuple[str, torch.Tensor]] = {"golden renders": ("positive", golden)}
    if set_c is not None:
        inputs["real Set-C"] = ("positive", set_c)
    for kind in sorted(VISUAL_DEGRADATIONS):
        for s in STRENGTHS:
            inputs[f"{kind} {s}"] = ("visual", VISUAL_DEGRADATIONS[kind](golden, s))
    for sigma in NOISE_SIGMAS:
        inputs[f"noise sigma {sigma}"] = ("noise", failures.gaussian_noise(golden, sigma, generator))
    inputs["uniform noise"] = ("failure", failures.uniform_noise(shape, generator))
    inputs["saturated RGB noise"] = ("failure", failures.saturated_noise(shape, generator))
    inputs["speckled colour fields"] = ("failure", failures.speckled_fields(shape, generator))
    inputs["contrast x1.5"] = ("mild", failures.contrast(golden, 1.5))
    inputs["hue shift 45"] = ("mild", failures.hue_shift(golden, 45.0))
    inputs["static scenes"] = ("still", still)
    inputs["static + flicker"] = ("still", failures.brightness_flicker(still, generator))
    inputs["flat grey + noise"] = ("failure", failures.flat_grey(shape, generator))
    inputs["shuffled frames"] = ("temporal", failures.shuffle_frames(golden, generator))
    inputs["hard cuts"] = ("temporal", failures.hard_cuts(golden))
    for kind in sorted(MOTION_DEGRADATIONS):
        for s in MOTION_STRENGTHS:
            inputs[f"{kind} {s}"] = ("motion", MOTION_DEGRADATIONS[kind](golden, s))
    inputs["half speed"] = ("speed", _half_speed(specs))
    inputs["normal speed"] = ("speed", golden)
    inputs["double speed"] = ("speed", _double_speed(specs))
    inputs["background alone"] = ("content", render_specs(specs, sprites=False))
    # its own generator, so that adding it left every other input as it was
    inputs["muddy fields"] = ("mud", failures.muddy_fields(golden, torch.Generator().manual_seed(seed + 1)))
    if undertrained is not None:
        inputs["undertrained samples"] = ("mud", undertrained)
    return inputs


NEGATIVES = (
    *(f"{k} 1.0" for k in sorted(VISUAL_DEGRADATIONS)),
    "noise sigma 0.15",
    "uniform noise",
    "saturated RGB noise",
    "speckled colour fields",
    "static scenes",
    "static + flicker",
    "flat grey + noise",
    "shuffled frames",
    "hard cuts",
    *(f"{k} 1.0" for k in sorted(MOTION_DEGRADATIONS)),
    "background alone",
    "muddy fields",
    "undertrained samples",
)
FULL_VISUAL = tuple(f"{k} 1.0" for k in sorted(VISUAL_DEGRADATIONS))
SERIES = {
    **{f"{k} strengths": [f"{k} {s}" for s in STRENGTHS] for k in sorted(VISUAL_DEGRADATIONS)},
    "noise sigmas": [f"noise sigma {s}" for s in NOISE_SIGMAS],
    **{
        f"{k} strengths": ["golden renders", *(f"{k} {s}" for s in MOTION_STRENGTHS)]
        for k in sorted(MOTION_DEGRADATIONS)
    },
    "speeds": ["double speed", "normal speed", "half speed"],  # quality of motion falls along it
}


@dataclass(frozen=True)
class Declaration:
    """What one metric promises: its direction, tolerances, and rule per input (and per series).

    ``higher_is_better``: +1 or -1. ``same_tolerance``: how far outside the golden interval "the
    same" may stray (in the metric's units). ``zero_tolerance``: what still reads as 0.
    ``rules``: input name -> rule; ``series``: series name -> "monotone"; ``blind``: input -> why.
    """

    kind: str
    higher_is_better: int
    same_tolerance: float
    zero_tolerance: float
    rules: dict[str, str]
    series: tuple[str, ...] = ()
    blind: dict[str, str] = field(default_factory=dict)
    legacy: bool = False  # the old metrics: shown to document what fools them, never trusted


REJECTED_FIRST = (  # a person rejects these before any blurred, downsampled or quantised clip
    "uniform noise",
    "saturated RGB noise",
    "speckled colour fields",
    "flat grey + noise",
    "hard cuts",
    "static + flicker",
)


def declarations(input_families: dict[str, str], *, size: int) -> dict[str, Declaration]:
    """The declaration of every metric in the suite (and of the legacy metrics), for these inputs.

    ``size``: the frame size the table measured; each size has its own learned metrics, and a
    metric may be blind at one size only (precision to the background alone at 32x32).
    """
    fam = input_families
    strongest = {n for n in fam if n.endswith(" 1.0")} | {"noise sigma 0.15"}
    visual_series = tuple(k for k in SERIES if k != "speeds" and not any(m in k for m in MOTION_DEGRADATIONS))
    motion_series = tuple(k for k in SERIES if any(m in k for m in MOTION_DEGRADATIONS))

    def rules(worse_at_full: tuple[str, ...] = (), **by_family: str) -> dict[str, str]:
        """Rules by family; the strongest setting of the families in ``worse_at_full`` must be worse."""
        out = {n: by_family[f] for n, f in fam.items() if f in by_family}
        out.update({n: "worse" for n in out if n in strongest and fam[n] in worse_at_full})
        out["golden renders"] = "same"
        if "real Set-C" in fam:
            out["real Set-C"] = "above_negatives"
        return out

    distance = rules(
        ("visual", "noise", "motion"),
        visual="not_better", noise="not_better", failure="worse", mild="small", still="worse",
        temporal="worse", motion="not_better", content="worse", mud="worse",
    )  # fmt: skip
    distance.update({n: "worse_than_visual" for n in REJECTED_FIRST if n in fam})
    # The world's colours are a palette (world.render.WORLD): a 45-degree hue shift paints clips in
    # colours the world never has, outside everything the judge learned, so its reads and the
    # distances may call them worse; none may call them better. (In the classic world of free
    # colours it was a nuisance that had to leave them unmoved; the first simple-world table read
    # judge_world 0.85 and judge_motion 0.61 for it, golden 0.99 and 0.67-0.72.)
    off_palette = {n: "not_better" for n in ("hue shift 45",) if n in fam}
    realism = rules(
        visual="not_better", noise="not_better", failure="worse", mild="same", still="not_better",
        temporal="worse", motion="not_better", content="worse", mud="worse",
    )  # fmt: skip
    realism["static + flicker"] = "worse"
    visual = rules(
        ("visual", "noise"),
        visual="not_better", noise="not_better", failure="worse", mild="same", still="same", motion="same",
        mud="worse",
    )  # fmt: skip
    motion = rules(
        ("motion",),
        visual="same", noise="not_better", failure="worse", mild="same", still="zero", temporal="worse",
        motion="not_better", content="not_better", mud="not_better",
    )  # fmt: skip
    for judged in (distance, realism, visual, motion):
        judged.update(off_palette)
    flicker = rules(
        visual="same", mild="not_better", still="not_better", motion="not_better", mud="not_better"
    )
    # the synthetic mud's colours drift from frame to frame: that is flicker
    flicker["static + flicker"] = flicker["hard cuts"] = flicker["muddy fields"] = "worse"
    content = rules(
        visual="not_better", noise="not_better", failure="worse", mild="same", still="same", temporal="same",
        motion="same", content="zero", mud="not_better",
    )  # fmt: skip
    jumps = "random jumps are fast; whether motion is coherent is dynamic degree's job"
    # Seen in notebook 01's figure: strong quantisation (and full downsampling) of a golden clip,
    # whose visual knob is already down to 0.5, erases the sprites to faint blobs; what cannot be
    # seen cannot be tracked, so the tracker's motion reads fall with them.
    erased = "the sprites are erased to faint blobs: what cannot be seen cannot be tracked"
    tracker_erased = {n: erased for n in ("quantise 0.25", "quantise 0.5", "quantise 1.0", "downsample 1.0")}
    noise_is_not_flicker = "per-frame noise moves region means: temporal noise, not flicker"
    # Seen in the first simple-world table at 16 px (quantise 1.0 read 0.0101 against a bound of 0.0099)
    erased_flicker = (
        "the sprites are erased to faint blobs the tracker cannot find, so the index no longer leaves "
        "them out and their motion counts as colour change of the background"
    )
    # Seen in the same table (contrast x1.5 read 0.765 against golden's 0.60-0.67)
    contrast_is_detail = (
        "the visual knob is high-frequency energy (world.render.visual_strength calibrates it on "
        "quality.scores.visual_score); a 1.5x stretch multiplies that energy by 2.25, so a judge that "
        "learned the knob reads the clip as sharper"
    )
    smeared_blobs = (
        "it counts the smeared blobs of mud as sprites (more per frame than golden clips have); whether "
        "they are the world's sprites is for judge_world and FD"
    )
    precision_blind = {
        "undertrained samples": "smeared blobs on plausible backgrounds fall inside golden k-NN balls "
        "(0.82-0.88 at 16 px, 0.91 at 32 px); judge_world and FD reject them"
    }
    if size == 32:  # results/full/sanity/precision_probe.json (benchmarks/probe_precision.py)
        precision_blind["background alone"] = (
            "at 32x32 the judge's features put backgrounds without sprites inside the golden k-NN balls "
            "(1.0 at k=3 against 128 references, 0.93 against 1024); judge_world, FD and the sprite "
            "count reject them"
        )
    # Seen in the 16-px tables after the judge learned muddy fields with motion target 0
    garbled_still = (
        "strongly quantised or downsampled sprites are erased to blobs, like mud, which the judge "
        "learned as not moving: its motion read falls with the visual damage"
    )

    return {
        "judge_visual": Declaration(
            kind="visual", higher_is_better=+1, same_tolerance=0.05, zero_tolerance=0.0, rules=visual,
            series=visual_series,
            blind={
                "hard cuts": "mixes the visual quality of several clips",
                "contrast x1.5": contrast_is_detail,
            },
        ),
        "judge_motion": Declaration(
            kind="motion", higher_is_better=+1, same_tolerance=0.05, zero_tolerance=0.1, rules=motion,
            series=(*motion_series, "speeds"),
            blind=dict.fromkeys(tracker_erased, garbled_still),
        ),
        "judge_world": Declaration(
            kind="realism", higher_is_better=+1, same_tolerance=0.05, zero_tolerance=0.0, rules=realism
        ),
        "dynamic_degree": Declaration(
            kind="motion", higher_is_better=+1, same_tolerance=0.1, zero_tolerance=0.05, rules=motion,
            series=motion_series,
            blind={"background alone": "no sprite to track: reads 0 by construction", **tracker_erased},
        ),
        # "zero": below the dynamic threshold, the speed from which a clip counts as moving
        "tracked_speed": Declaration(
            kind="motion", higher_is_better=+1, same_tolerance=0.01, zero_tolerance=DYNAMIC_THRESHOLD,
            rules=motion,
            series=("speeds",),
            blind={
                "shuffled frames": jumps,
                "hard cuts": jumps,
                "noise sigma 0.15": "heavy noise jitters the detections, which adds speed; dynamic degree "
                "(whose steps must agree) gives no credit for it",
                **tracker_erased,
            },
        ),
        "sprite_count": Declaration(
            kind="content", higher_is_better=+1, same_tolerance=0.15, zero_tolerance=0.1,
            # the tracker finds 0.16 spurious sprites per frame on held-out renders (its calibration),
            # most of them in the background's wave: the background alone reads fewer sprites, not none
            rules={**content, "background alone": "worse"},
            blind={
                "contrast x1.5": "a 1.5x stretch saturates sprite colours; the tracker misses one in six",
                **{n: smeared_blobs for n, f in fam.items() if f == "mud"},
            },
        ),
        "flicker": Declaration(
            kind="flicker", higher_is_better=-1, same_tolerance=0.005, zero_tolerance=0.0, rules=flicker,
            blind={
                **{n: noise_is_not_flicker for n, f in fam.items() if f in ("noise", "failure")},
                **dict.fromkeys(tracker_erased, erased_flicker),
            },
        ),
        # FD of a hundred-odd clips has a heavy upper tail: one golden set in twelve read 0.59 against the
        # others' 0.08-0.23 (judge features, 16x16), so "the same" allows 0.5 beyond the interval
        "fd": Declaration(
            kind="distance", higher_is_better=-1, same_tolerance=0.5, zero_tolerance=0.0, rules=distance,
            series=(*visual_series, *motion_series),
        ),
        # KID has FD's heavy upper tail: a 96-clip golden set read 0.063 against an interval ending at 0.051
        "kid": Declaration(
            kind="distance", higher_is_better=-1, same_tolerance=0.05, zero_tolerance=0.0, rules=distance,
            series=(*visual_series, *motion_series),
        ),
        # precision falls under a contrast stretch (0.84 against 0.91-0.96 at 16x16): it may fall, not rise.
        # It counts clips: at 128 clips a step is 0.008, so "the same" allows two clips (0.02) beyond.
        "precision": Declaration(
            kind="realism", higher_is_better=+1, same_tolerance=0.02, zero_tolerance=0.0,
            rules={**realism, **{n: "not_better" for n, f in fam.items() if f == "mild"}},
            blind=precision_blind,
        ),
        # the old metrics, kept as columns to document what fooled them
        "old_dynamic_degree": Declaration(
            kind="motion", higher_is_better=+1, same_tolerance=0.1, zero_tolerance=0.05, rules=motion,
            legacy=True,
        ),
        "old_vq_raw": Declaration(
            kind="visual", higher_is_better=+1, same_tolerance=0.0, zero_tolerance=0.0, rules=visual,
            legacy=True,
        ),
        "old_fd": Declaration(
            kind="distance", higher_is_better=-1, same_tolerance=0.0, zero_tolerance=0.0, rules=distance,
            legacy=True,
        ),
    }  # fmt: skip


@dataclass
class SanityTable:
    """Values ``input -> metric -> value``, the golden interval per metric, and the verdicts."""

    values: dict[str, dict[str, float]]
    families: dict[str, str]
    golden: dict[str, tuple[float, float, float]]  # metric -> (mean, low, high)
    settings: dict

    def interval(self, metric: str) -> tuple[float, float]:
        return self.golden[metric][1], self.golden[metric][2]


def golden_interval(draws: list[float]) -> tuple[float, float, float]:
    """Mean and t-based 95% prediction interval of one more golden draw: mean +- t s sqrt(1 + 1/K)."""
    draws = np.asarray(draws, dtype=np.float64)
    k = len(draws)
    half = stats.t.ppf(0.975, k - 1) * draws.std(ddof=1) * np.sqrt(1 + 1 / k)
    return float(draws.mean()), float(draws.mean() - half), float(draws.mean() + half)


def check_cell(table: SanityTable, metric: str, name: str, rule: str, d: Declaration) -> str | None:
    """``None`` when the value obeys ``rule``, else a sentence saying how it was fooled."""
    value = table.values[name][metric]
    low, high = table.interval(metric)
    good_side_beyond = (
        value > high + d.same_tolerance if d.higher_is_better > 0 else value < low - d.same_tolerance
    )
    bad_side_beyond = value < low if d.higher_is_better > 0 else value > high
    if rule == "same" and not (low - d.same_tolerance <= value <= high + d.same_tolerance):
        return f"{name}: {value:.4g} outside golden [{low:.4g}, {high:.4g}] +- {d.same_tolerance}"
    if rule == "worse" and not bad_side_beyond:
        return f"{name}: {value:.4g} not worse than golden [{low:.4g}, {high:.4g}]"
    if rule == "not_better" and good_side_beyond:
        return f"{name}: {value:.4g} better than golden [{low:.4g}, {high:.4g}]"
    if rule == "zero" and abs(value) > d.zero_tolerance:
        return f"{name}: {value:.4g} should read 0 (tolerance {d.zero_tolerance})"
    if rule in ("worse_than_visual", "small"):
        sign = d.higher_is_better
        worst_visual = min(sign * table.values[n][metric] for n, f in table.families.items() if f == "visual")
        if rule == "worse_than_visual" and not sign * value < worst_visual:
            return f"{name}: {value:.4g} not worse than every visual damage (worst {sign * worst_visual:.4g})"
        golden = table.golden[metric][0]
        mildest = min(abs(table.values[n][metric] - golden) for n in FULL_VISUAL if n in table.values)
        if rule == "small" and abs(value - golden) > mildest / 2:
            return (
                f"{name}: moves {abs(value - golden):.4g}, over half the mildest full-strength visual damage"
            )
    if rule == "above_negatives":
        sign = d.higher_is_better
        beaten = [
            n
            for n in NEGATIVES
            if n in table.values
            and sign * table.values[n][metric] >= sign * value
            and d.rules.get(n) in ("worse", "worse_than_visual")
            and n not in d.blind
        ]
        if beaten:
            return f"{name}: {value:.4g} does not rank above {', '.join(beaten)}"
    return None


def check_series(table: SanityTable, metric: str, series: str, d: Declaration) -> str | None:
    """Each step along a series may not be better than the step before, beyond the tolerance."""
    names = [n for n in SERIES[series] if n in table.values]
    low, high = table.interval(metric)
    slack = (high - low) / 2 + d.same_tolerance
    values = [d.higher_is_better * table.values[n][metric] for n in names]
    for a, b, na, nb in zip(values[:-1], values[1:], names[:-1], names[1:], strict=True):
        if b > a + slack:
            sign = d.higher_is_better
            return f"{series}: {nb} ({sign * b:.4g}) better than {na} ({sign * a:.4g})"
    return None


def verdicts(table: SanityTable, *, include_legacy: bool = False) -> dict[str, list[str]]:
    """metric -> the list of ways it was fooled (empty: it passes the table)."""
    out = {}
    for metric, d in declarations(table.families, size=table.settings["size"]).items():
        if metric not in table.golden or (d.legacy and not include_legacy):
            continue
        failures_ = [
            check_cell(table, metric, name, rule, d)
            for name, rule in d.rules.items()
            if name in table.values and name not in d.blind and rule != "blind"
        ]
        failures_ += [check_series(table, metric, s, d) for s in d.series]
        out[metric] = [f for f in failures_ if f]
    return out


def build_table(
    measure: Callable[[torch.Tensor], dict[str, float]],
    *,
    size: int,
    num_frames: int,
    clips: int,
    seed: int = 0,
    set_c: torch.Tensor | None = None,
    undertrained: torch.Tensor | None = None,
    golden_draws: int = GOLDEN_DRAWS,
    progress: bool = True,
) -> SanityTable:
    """Measure every input, and ``golden_draws`` independent golden sets for the intervals.

    ``measure(clips) -> {metric: value}`` closes over the reference (see :mod:`tqd_lite.quality.suite`).
    """
    inputs = sanity_inputs(
        size=size, num_frames=num_frames, clips=clips, seed=seed, set_c=set_c, undertrained=undertrained
    )
    values = {
        name: measure(batch)
        for name, (_, batch) in tqdm(inputs.items(), desc="sanity inputs", disable=not progress)
    }
    draws = [
        measure(render_specs(golden_specs(clips, size=size, num_frames=num_frames, seed=seed + 1000 + k)))
        for k in tqdm(range(golden_draws), desc="golden draws", disable=not progress)
    ]
    golden = {metric: golden_interval([d[metric] for d in draws]) for metric in draws[0]}
    settings = {
        "size": size,
        "num_frames": num_frames,
        "clips": clips,
        "seed": seed,
        "golden_draws": golden_draws,
    }
    return SanityTable(values, {n: f for n, (f, _) in inputs.items()}, golden, settings)
