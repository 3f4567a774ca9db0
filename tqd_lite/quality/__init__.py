"""Measuring clips: the motion and visual scores (MQ, VQ) of real clips, scored corpora and their
Set-A/B/C splits; for generated clips, the sprite tracker, the quality judge, the distances on its
features, and the metric sanity table every one of them passes.
"""

from tqd_lite import lazy_exports

# name -> the module of this subpackage that defines it, imported on first use
_EXPORTS = {
    "MetricSuite": "suite",
    "PercentileNormaliser": "scores",
    "SPLITS": "corpus",
    "VideoClipDataset": "dataset",
    "corpus_normalisers": "splits",
    "dilemma_statistics": "corpus",
    "ensure_scored_pool": "splits",
    "evaluate_clips": "metrics",
    "judge_folder": "suite",
    "load_judge": "learned",
    "load_tracker": "learned",
    "sanity_inputs": "sanity",
    "frechet_distance": "metrics",
    "load_encoder": "encoder",
    "load_split": "splits",
    "motion_score": "scores",
    "score_folder": "corpus",
    "scored_folder": "splits",
    "visual_score": "scores",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
