"""TQD (Luo et al., CVPR 2026): the motion-vision dilemma, the gradient analysis behind it, the
timestep sampler with quality dropout (``sampler.py`` needs only torch, scipy and diffusers), and
the Set-A/B/C experiments.
"""

from tqd_lite import lazy_exports

# name -> the module of this subpackage that defines it, imported on first use
_EXPORTS = {
    "ARMS": "experiments",
    "GradientAnalysisConfig": "gradient_analysis",
    "TimestepPolicy": "sampler",
    "Variant": "gradient_analysis",
    "analysis_clips": "gradient_run",
    "analyze": "gradient_analysis",
    "answers": "report",
    "apply_variant": "gradient_analysis",
    "category_examples": "dilemma",
    "crossing_timestep": "gradient_analysis",
    "curve": "gradient_analysis",
    "default_analysis_config": "gradient_run",
    "default_checkpoints": "gradient_run",
    "degradation_sweep": "dilemma",
    "gap_report": "gradient_run",
    "gap_table": "gradient_run",
    "golden_share_from_correlation": "dilemma",
    "load_analysis_model": "gradient_run",
    "load_grids": "gradient_run",
    "load_summary": "report",
    "markdown_table": "report",
    "measurement_agreement": "dilemma",
    "model_record": "gradient_run",
    "paper_side_by_side": "report",
    "pixel_mse": "gradient_analysis",
    "policy_on_corpus": "experiments",
    "results_figure": "report",
    "run_dilemma": "dilemma",
    "run_experiments": "experiments",
    "run_gradient_analysis": "gradient_run",
    "summary_lines": "gradient_run",
    "tqd_beta_parameters": "sampler",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
