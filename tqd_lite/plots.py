"""Figures: frame strips, the VQ-MQ scatter, and the metric's response to degradations."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from tqd_lite.clips import check_clip
from tqd_lite.corpus import CATEGORIES, GOLDEN_THRESHOLD, dilemma_statistics
from tqd_lite.degrade import MOTION_DEGRADATIONS

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
