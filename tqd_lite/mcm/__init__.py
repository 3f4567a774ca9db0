"""MCM (Zhai et al., NeurIPS 2024): consistency-distillation pieces, the image discriminator, the
distillation loop, its data, experiments and pictures.
"""

from tqd_lite import lazy_exports

# name -> the module of this subpackage that defines it, imported on first use
_EXPORTS = {
    "ARMS": "experiments",
    "DistillConfig": "distill",
    "Distiller": "distill",
    "FrameDiscriminator": "discriminator",
    "GUIDANCE": "experiments",
    "IMAGE_SEEDS": "experiments",
    "MotionHead": "consistency",
    "boundary_scalings_figure": "plots",
    "diff_augment": "discriminator",
    "discriminator_figure": "plots",
    "distill": "distill",
    "ensure_teacher": "experiments",
    "frames_as_still_clips": "data",
    "guidance_table": "report",
    "high_quality_images": "data",
    "history_figure": "plots",
    "lcm_scheduler": "consistency",
    "load_guidance": "report",
    "load_summary": "report",
    "load_teacher_bank": "data",
    "markdown_table": "report",
    "random_frames": "discriminator",
    "representations_figure": "plots",
    "results_figure": "report",
    "student_pipeline": "distill",
    "teacher_guidance_scale": "experiments",
    "teacher_path": "experiments",
    "trajectories_figure": "plots",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
