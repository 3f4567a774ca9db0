"""Measuring clips: the motion and visual scores (MQ, VQ), scored corpora and their Set-A/B/C
splits, the feature network of the Fréchet distance and the evaluation metrics.
"""

from tqd_lite.quality.corpus import SPLITS, dilemma_statistics, score_folder
from tqd_lite.quality.dataset import VideoClipDataset
from tqd_lite.quality.encoder import load_encoder
from tqd_lite.quality.metrics import evaluate_clips, frechet_distance
from tqd_lite.quality.scores import PercentileNormaliser, motion_score, visual_score
from tqd_lite.quality.splits import corpus_normalisers, ensure_scored_pool, load_split, scored_folder

__all__ = [
    "PercentileNormaliser",
    "SPLITS",
    "VideoClipDataset",
    "corpus_normalisers",
    "dilemma_statistics",
    "ensure_scored_pool",
    "evaluate_clips",
    "frechet_distance",
    "load_encoder",
    "load_split",
    "motion_score",
    "score_folder",
    "scored_folder",
    "visual_score",
]
