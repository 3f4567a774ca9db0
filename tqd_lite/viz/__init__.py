"""Figures shared by the notebooks and result files, and the notebooks' interactive explorers."""

from tqd_lite import lazy_exports

# name -> the module of this subpackage that defines it, imported on first use
_EXPORTS = {
    "GradientExplorer": "widgets",
    "block_gap_plot": "plots",
    "degradation_sweep_plot": "plots",
    "dilemma_scatter": "plots",
    "frame_strip": "plots",
    "knob_explorer": "widgets",
    "mse_control_plot": "plots",
    "noise_level_densities": "plots",
    "sampler_over_similarity": "plots",
    "similarity_figure": "plots",
    "stamp": "plots",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
