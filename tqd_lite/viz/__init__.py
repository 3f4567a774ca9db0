"""Figures shared by the notebooks and result files, and the notebooks' interactive explorers."""

from tqd_lite.viz.plots import (
    block_gap_plot,
    degradation_sweep_plot,
    dilemma_scatter,
    frame_strip,
    mse_control_plot,
    noise_level_densities,
    sampler_over_similarity,
    similarity_figure,
    stamp,
)
from tqd_lite.viz.widgets import GradientExplorer, knob_explorer

__all__ = [
    "GradientExplorer",
    "block_gap_plot",
    "degradation_sweep_plot",
    "dilemma_scatter",
    "frame_strip",
    "knob_explorer",
    "mse_control_plot",
    "noise_level_densities",
    "sampler_over_similarity",
    "similarity_figure",
    "stamp",
]
