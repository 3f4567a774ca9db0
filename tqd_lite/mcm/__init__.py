"""MCM (Zhai et al., NeurIPS 2024): consistency-distillation pieces, the image discriminator, the
distillation loop, its data, experiments and pictures.
"""

from tqd_lite.mcm.consistency import MotionHead, lcm_scheduler
from tqd_lite.mcm.data import frames_as_still_clips, high_quality_images, load_teacher_bank
from tqd_lite.mcm.discriminator import FrameDiscriminator, diff_augment, random_frames
from tqd_lite.mcm.distill import DistillConfig, Distiller, distill
from tqd_lite.mcm.experiments import (
    ARMS,
    GUIDANCE,
    IMAGE_SEEDS,
    ensure_teacher,
    teacher_guidance_scale,
    teacher_path,
)
from tqd_lite.mcm.plots import (
    boundary_scalings_figure,
    discriminator_figure,
    history_figure,
    representations_figure,
    trajectories_figure,
)
from tqd_lite.mcm.report import guidance_table, load_guidance, load_summary, markdown_table, results_figure

__all__ = [
    "ARMS",
    "DistillConfig",
    "Distiller",
    "FrameDiscriminator",
    "GUIDANCE",
    "IMAGE_SEEDS",
    "MotionHead",
    "boundary_scalings_figure",
    "diff_augment",
    "discriminator_figure",
    "distill",
    "ensure_teacher",
    "frames_as_still_clips",
    "guidance_table",
    "high_quality_images",
    "history_figure",
    "lcm_scheduler",
    "load_guidance",
    "load_summary",
    "load_teacher_bank",
    "markdown_table",
    "random_frames",
    "representations_figure",
    "results_figure",
    "teacher_guidance_scale",
    "teacher_path",
    "trajectories_figure",
]
