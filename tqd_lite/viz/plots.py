"""Figures: frame strips, the VQ-MQ scatter, and the metric's response to degradations."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from tqd_lite.quality.corpus import CATEGORIES, GOLDEN_THRESHOLD, dilemma_statistics
from tqd_lite.world.clips import check_clip
from tqd_lite.world.degrade import MOTION_DEGRADATIONS

CATEGORY_COLOURS = {
    "golden": "#d4a017",
    "motion_rich": "#1f77b4",
    "visual_rich": "#2ca02c",
    "poor": "#999999",
}


def frame_strip(clips: torch.Tensor, labels: list[str] | None = None, scale: float = 0.9, axes=None):
    """One row per clip, one column per frame: ``clips`` is ``(B, 3, F, H, W)`` in [0, 1]."""
    check_clip(clips, batched=True, name="clips")
    b, _, f = clips.shape[:3]
    if axes is None:
        _, axes = plt.subplots(b, f, figsize=(f * scale, b * scale), squeeze=False)
    for row in range(b):
        for col in range(f):
            ax = axes[row, col]
            ax.imshow(clips[row, :, col].permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0 and labels is not None:
                ax.set_ylabel(labels[row], rotation=0, ha="right", va="center", fontsize=8)
            if row == 0:
                ax.set_title(f"t={col}", fontsize=7)
    return axes


def clip_mosaic(clips: torch.Tensor, gap: int = 1) -> np.ndarray:
    """The frames of ``clips`` ``(B, 3, F, H, W)`` in [0, 1] tiled into one ``(B*(H+gap)-gap,
    F*(W+gap)-gap, 3)`` image (row: clip, column: frame), white between tiles."""
    check_clip(clips, batched=True, name="clips")
    b, _, f, h, w = clips.shape
    canvas = torch.ones(b, h + gap, f, w + gap, 3)
    # (B, 3, F, H, W) -> (B, H, F, W, 3): rows of pixels, then frames side by side
    canvas[:, :h, :, :w] = clips.clamp(0, 1).permute(0, 3, 2, 4, 1)
    return canvas.reshape(b * (h + gap), f * (w + gap), 3)[: -gap or None, : -gap or None].numpy()


def mosaic_figure(clips: torch.Tensor, scale: float = 0.9):
    """:func:`frame_strip`'s picture on a single axes, for files: drawing one image instead of
    ``B * F`` axes takes a fraction of the time (matplotlib spends ~50 ms on each axes)."""
    b, _, f, _, w = clips.shape
    figure, ax = plt.subplots(figsize=(f * scale, b * scale))
    ax.imshow(clip_mosaic(clips), interpolation="nearest")
    ax.set_xticks(
        [(w + 1) * col + (w - 1) / 2 for col in range(f)], [f"t={col}" for col in range(f)], fontsize=7
    )
    ax.xaxis.tick_top()
    ax.set_yticks([])
    return figure


def beside_figure(left: torch.Tensor, right: torch.Tensor, titles: tuple[str, str], scale: float = 0.9):
    """Two sets of clips side by side, one clip per row (e.g. a model's samples beside real ones)."""
    f = left.shape[2]
    figure, axes = plt.subplots(1, 2, figsize=(2 * f * scale, max(len(left), len(right)) * scale))
    for ax, clips, title in zip(axes, (left, right), titles, strict=True):
        ax.imshow(clip_mosaic(clips), interpolation="nearest")
        ax.set(xticks=[], yticks=[], title=title)
    figure.tight_layout()
    return figure


TARGET_PANELS = (  # (column of the suite's rows, target name, title)
    ("sprite_share", "sprites", "share of clips with a sprite"),
    ("flicker", "flicker", "flicker index"),
    ("dynamic_degree", "motion", "coherent-motion dynamic degree"),
    ("fd", "distance", "Fréchet distance to golden"),
)


def targets_curve_figure(curve: list[dict], rows: dict[str, dict]):
    """The quality-vs-steps curve of a run against its targets: one panel per target, the samples'
    values over steps, golden renders' level (dashed) and the target's bound (dotted)."""
    figure, axes = plt.subplots(1, len(TARGET_PANELS), figsize=(3.2 * len(TARGET_PANELS), 2.8))
    steps = [point["step"] for point in curve]
    for ax, (column, target, title) in zip(axes, TARGET_PANELS, strict=True):
        ax.plot(steps, [point[column] for point in curve], "o-", label="samples")
        ax.axhline(rows["golden renders"][column], color="0.4", ls="--", label="golden renders")
        bounds = [point["targets"][target]["bound"] for point in curve]
        if target == "motion":  # the bound is on the distance to golden's: draw its band
            golden = rows["golden renders"][column]
            ax.axhspan(golden - bounds[-1], golden + bounds[-1], color="g", alpha=0.1, label="target")
        else:
            ax.axhline(bounds[-1], color="g", ls=":", label="target bound")
        ax.set(xlabel="training step", title=title)
        if column == "fd":
            ax.set_yscale("log")
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def dilemma_scatter(table: dict, ax=None):
    """VQ against MQ for every clip, coloured by category, with r and the golden share."""
    ax = ax if ax is not None else plt.gca()
    stats = dilemma_statistics(table)
    for category in CATEGORIES:
        mask = table["category"] == category
        ax.scatter(
            table["mq"][mask],
            table["vq"][mask],
            s=8,
            alpha=0.7,
            c=CATEGORY_COLOURS[category],
            label=f"{category.replace('_', '-')} ({mask.sum()})",
        )
    ax.axvline(GOLDEN_THRESHOLD, color="k", lw=0.6, ls="--")
    ax.axhline(GOLDEN_THRESHOLD, color="k", lw=0.6, ls="--")
    ax.set_xlabel("motion quality MQ (percentile rank)")
    ax.set_ylabel("visual quality VQ (percentile rank)")
    ax.set_title(f"r(VQ, MQ) = {stats['correlation_vq_mq']:.2f}, golden = {stats['golden_share']:.0%}")
    ax.legend(fontsize=7, loc="lower left", framealpha=0.8)
    return ax


def degradation_sweep_plot(sweep: dict, ax=None):
    """Fréchet distance against degradation strength, one line per degradation (log scale)."""
    ax = ax if ax is not None else plt.gca()
    for kind, values in sweep.items():
        if kind == "clean":
            continue
        strengths = [0.0, *values]
        distances = [sweep["clean"], *values.values()]
        ax.plot(
            strengths,
            distances,
            marker="o",
            ms=3,
            ls="--" if kind in MOTION_DEGRADATIONS else "-",
            label=kind,
        )
    ax.set_yscale("log")
    ax.set_xlabel("degradation strength")
    ax.set_ylabel("Fréchet distance to held-out golden")
    ax.set_title("the metric sees both kinds of loss")
    ax.legend(fontsize=7, ncol=2)
    return ax


def dilemma_figure(table: dict, sweep: dict, examples: torch.Tensor, labels: list[str]):
    """The dilemma figure: scatter, metric sweep, and a strip of example clips (one per row)."""
    figure = plt.figure(figsize=(11, 8))
    grid = figure.add_gridspec(2, 2, height_ratios=[1.2, 1], hspace=0.3)
    dilemma_scatter(table, figure.add_subplot(grid[0, 0]))
    degradation_sweep_plot(sweep, figure.add_subplot(grid[0, 1]))
    rows, frames = examples.shape[0], examples.shape[2]
    # square frames, centred: padding columns on both sides leave room for the row labels
    strip = grid[1, :].subgridspec(
        rows, frames + 2, width_ratios=[3] + [1] * frames + [1.5], wspace=0.05, hspace=0.1
    )
    axes = np.array([[figure.add_subplot(strip[r, c + 1]) for c in range(frames)] for r in range(rows)])
    frame_strip(examples, labels, axes=axes)
    return figure


def stamp(figure, block: dict) -> None:
    """Print the provenance (command, profile, seed, device) in the figure's corner."""
    figure.text(
        0.01,
        0.001,
        f"{block['command']} | profile {block['profile']} | seed {block['seed']} | "
        f"{block['device']} | {block['created']}",
        fontsize=6,
        color="0.4",
        va="bottom",
    )


# ----------------------------------------------------------------------------- gradient analysis
KIND_COLOURS = {
    "blur": "#1f77b4",
    "downsample": "#17becf",
    "quantise": "#6a5acd",
    "freeze": "#d62728",
    "stutter": "#ff7f0e",
    "slow_down": "#8c564b",
}
PREDICTION_NAMES = {"v_prediction": "v prediction", "epsilon": "epsilon prediction"}


def _variant_style(variant: dict) -> dict:
    if variant["family"] == "control":
        return {"color": "0.45", "linestyle": "--", "marker": "x"}
    faded = variant["strength"] < 1.0
    return {"color": KIND_COLOURS[variant["kind"]], "linestyle": ":" if faded else "-", "marker": "o"}


def similarity_plot(
    grid: dict, measure: str = "paired_batch", group: str = "all", variants=None, ax=None, log: bool = True
):
    """``1 - cos`` (log scale) or ``cos`` against t, one line per variant with its 95% CI band.
    Lower ``1 - cos`` = more golden-like. In the unpaired view, also the golden-vs-golden level
    (black): how well one independent golden batch stands in for another. Paired comparisons share
    clips and noise, so that level is no bound for them and is not drawn."""
    from tqd_lite.tqd.gradient_analysis import curve

    ax = ax if ax is not None else plt.gca()
    chosen = [v for v in grid["variants"] if variants is None or v["name"] in variants]
    lines = [(v["name"], curve(grid, measure, v["name"], group), _variant_style(v)) for v in chosen]
    if measure == "unpaired_batch":
        reference = curve(grid, "ceiling_batch", "", group)
        lines.append(("golden vs golden", reference, {"color": "k", "linestyle": "-."}))
    # on the log scale, a band whose lower end reaches 1 - cos <= 0 is cut at the axis bottom,
    # a third of the smallest mean shown: "this CI includes perfect agreement"
    floor = min(np.nanmin(1 - c.mean[1 - c.mean > 0], initial=1.0) for _, c, _ in lines) / 3
    for name, c, style in lines:
        y, low, high = (
            (1 - c.mean, 1 - c.mean - c.half_width, 1 - c.mean + c.half_width)
            if log
            else (c.mean, c.mean - c.half_width, c.mean + c.half_width)
        )
        ax.plot(c.timesteps, y, label=name, markersize=3, linewidth=1.2, **style)
        if c.n > 1:
            ax.fill_between(
                c.timesteps, np.clip(low, floor, None) if log else low, high, color=style["color"], alpha=0.12
            )
    if log:
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor)
        ax.set_ylabel("1 - cos (log)")
    else:
        ax.set_ylabel("cos")
    ax.set_xlabel("timestep t (noisier ->)")
    ax.set_title(f"{group} parameters", fontsize=9)
    ax.grid(alpha=0.3)
    return ax


def similarity_figure(grids: dict, measure: str = "paired_batch", groups=("all", "spatial", "temporal")):
    """Rows: the prediction types in ``grids`` (``{prediction type: grid}``); columns: layer groups."""
    rows = list(grids)
    figure, axes = plt.subplots(
        len(rows), len(groups), figsize=(4.2 * len(groups), 3.3 * len(rows)), squeeze=False, sharex=True
    )
    for r, prediction in enumerate(rows):
        for c, group in enumerate(groups):
            similarity_plot(grids[prediction], measure, group, ax=axes[r, c])
            axes[r, c].set_title(f"{PREDICTION_NAMES.get(prediction, prediction)}: {group}", fontsize=9)
    axes[0, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    figure.suptitle(f"Gradient cosine to golden ({measure.replace('_', ' ')}), mean and 95% CI", y=1.0)
    figure.tight_layout()
    return figure


def mse_control_plot(grid: dict, timestep: int, measure: str = "paired_batch", group: str = "all", ax=None):
    """Each variant's cosine at one timestep against how much it changed the pixels (the
    pixel-MSE control): at equal MSE, does the kind of damage still matter?"""
    from tqd_lite.tqd.gradient_analysis import curve

    ax = ax if ax is not None else plt.gca()
    if timestep not in grid["timesteps"]:
        raise ValueError(f"timestep {timestep} is not on this grid {grid['timesteps']}")
    i = grid["timesteps"].index(timestep)
    for v in grid["variants"]:
        c = curve(grid, measure, v["name"], group)
        style = _variant_style(v)
        ax.errorbar(
            v["pixel_mse"], c.mean[i], yerr=c.half_width[i], fmt=style["marker"], color=style["color"]
        )
        ax.annotate(
            v["name"], (v["pixel_mse"], c.mean[i]), fontsize=6, xytext=(3, 3), textcoords="offset points"
        )
    ax.set_xlabel("pixel MSE of the degradation")
    ax.set_ylabel("cos to golden")
    ax.set_title(f"t = {timestep} ({group} parameters)", fontsize=9)
    ax.grid(alpha=0.3)
    return ax


def block_gap_plot(grid: dict, measure: str = "paired_batch", ax=None):
    """Per UNet block and timestep: the visual family's cosine minus the motion family's.

    Red: visually degraded clips (motion kept) are the more golden-like; blue: motion-degraded
    clips (visuals kept) are. TQD predicts blue at low t and red at high t.
    """
    from tqd_lite.tqd.gradient_analysis import family_curve

    ax = ax if ax is not None else plt.gca()
    groups = ["all", "spatial", "temporal"] + [g for g in grid["groups"] if g.startswith("block:")]
    gaps = np.array(
        [
            family_curve(grid, "visual", measure, g).mean - family_curve(grid, "motion", measure, g).mean
            for g in groups
        ]
    )
    limit = np.abs(gaps).max()
    image = ax.imshow(gaps, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_yticks(range(len(groups)), [g.removeprefix("block:") for g in groups], fontsize=7)
    ax.set_xticks(range(len(grid["timesteps"])), grid["timesteps"], fontsize=7)
    ax.set_xlabel("timestep t")
    ax.set_title("cos(visual-degraded) - cos(motion-degraded)", fontsize=9)
    plt.colorbar(image, ax=ax, shrink=0.8)
    return ax


def noise_level_densities(policies: dict, score_pairs, num_draws: int = 20_000, seed: int = 0, axes=None):
    """One panel per clip ``(mq, vq)``: the density of each policy's noise levels (1 = pure noise).

    ``policies``: ``{label: TimestepPolicy}``. Histograms of seeded draws; for TQD's reading A
    the closed-form Beta density is drawn over them as a dashed line.
    """
    from tqd_lite.tqd.sampler import beta_density

    if axes is None:
        _, axes = plt.subplots(1, len(score_pairs), figsize=(2.9 * len(score_pairs), 2.6), sharey=True)
    axes = np.atleast_1d(axes)
    grid = np.linspace(0.0025, 0.9975, 200)
    for ax, (mq, vq) in zip(axes, score_pairs, strict=True):
        for i, (label, policy) in enumerate(policies.items()):
            generator = torch.Generator().manual_seed(seed)
            levels = policy.noise_levels(
                torch.full((num_draws,), mq), torch.full((num_draws,), vq), generator
            )
            colour = f"C{i}"
            ax.hist(
                levels.numpy(),
                bins=40,
                range=(0, 1),
                density=True,
                histtype="step",
                color=colour,
                label=label,
            )
            if policy.sampler == "tqd" and policy.reading == "A":
                ax.plot(grid, beta_density(policy, mq, vq, grid), "--", color=colour, lw=1)
        ax.set(title=f"mq = {mq:g}, vq = {vq:g}", xlabel="noise level (1 = pure noise)", xlim=(0, 1))
    axes[0].set_ylabel("density")
    axes[0].set_ylim(0, 6)  # the poles of the most lopsided clips run off the top
    axes[-1].legend(fontsize=7)
    axes[0].figure.tight_layout()
    return axes


def sampler_over_similarity(grid: dict, policy, clips: dict, variants=("blur@1", "freeze@1"), ax=None):
    """Notebook 03's paired-batch curves (``1 - cos``, 95% CI bands) with, on a second axis, the
    density over timesteps that ``policy`` (reading A) gives each clip of ``clips``
    (``{label: (mq, vq)}``, drawn in the colour of the matching variant): where TQD trains each
    kind of clip against where it looked golden-like. The densities' poles at the ends of the
    schedule are cut at the top of the axis."""
    from tqd_lite.tqd.sampler import beta_density

    ax = ax if ax is not None else plt.gca()
    similarity_plot(grid, "paired_batch", "all", variants=list(variants), ax=ax)
    ax.legend(loc="upper left", fontsize=7)
    twin = ax.twinx()
    levels = np.linspace(0.0025, 0.9975, 200)
    styles = {v["name"]: _variant_style(v) for v in grid["variants"]}
    for (label, (mq, vq)), variant in zip(clips.items(), variants, strict=True):
        density = beta_density(policy, mq, vq, levels) / 1000  # per timestep
        colour = styles[variant]["color"]
        twin.fill_between(levels * 1000, density, color=colour, alpha=0.15, label=f"TQD, {label} clip")
    twin.set(ylabel="TQD density per timestep", ylim=(0, 0.006))
    twin.legend(loc="lower center", fontsize=7)
    return ax, twin


def tracks_figure(
    clips: torch.Tensor, detections: list[list], labels: list[str] | None = None, scale: float = 1.0
):
    """:func:`frame_strip` with the sprite tracker's detections marked (red crosses, pixel centres)."""
    axes = frame_strip(clips, labels, scale)
    for row, per_frame in enumerate(detections):
        for col, centres in enumerate(per_frame):
            if len(centres):
                # imshow puts pixel (i, j) at (j, i); the tracker's (x, y) are pixel-corner coordinates
                axes[row, col].scatter(centres[:, 0] - 0.5, centres[:, 1] - 0.5, marker="x", c="red", s=18)
    return axes
