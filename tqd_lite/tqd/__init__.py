"""TQD (Luo et al., CVPR 2026): the motion-vision dilemma, the gradient analysis behind it, the
timestep sampler with quality dropout (``sampler.py`` needs only torch, scipy and diffusers), and
the Set-A/B/C experiments.
"""

from tqd_lite.tqd.dilemma import (
    category_examples,
    degradation_sweep,
    golden_share_from_correlation,
    measurement_agreement,
    run_dilemma,
)
from tqd_lite.tqd.experiments import ARMS, policy_on_corpus, run_experiments
from tqd_lite.tqd.gradient_analysis import (
    GradientAnalysisConfig,
    Variant,
    analyze,
    apply_variant,
    crossing_timestep,
    curve,
    pixel_mse,
)
from tqd_lite.tqd.gradient_run import (
    analysis_clips,
    default_analysis_config,
    default_checkpoints,
    gap_report,
    gap_table,
    load_analysis_model,
    load_grids,
    model_record,
    run_gradient_analysis,
    summary_lines,
)
from tqd_lite.tqd.report import answers, load_summary, markdown_table, paper_side_by_side, results_figure
from tqd_lite.tqd.sampler import TimestepPolicy, tqd_beta_parameters

__all__ = [
    "ARMS",
    "GradientAnalysisConfig",
    "TimestepPolicy",
    "Variant",
    "analysis_clips",
    "analyze",
    "answers",
    "apply_variant",
    "category_examples",
    "crossing_timestep",
    "curve",
    "default_analysis_config",
    "default_checkpoints",
    "degradation_sweep",
    "gap_report",
    "gap_table",
    "golden_share_from_correlation",
    "load_analysis_model",
    "load_grids",
    "load_summary",
    "markdown_table",
    "measurement_agreement",
    "model_record",
    "paper_side_by_side",
    "pixel_mse",
    "policy_on_corpus",
    "results_figure",
    "run_dilemma",
    "run_experiments",
    "run_gradient_analysis",
    "summary_lines",
    "tqd_beta_parameters",
]
