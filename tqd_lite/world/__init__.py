"""The toy video world: clips rendered with two knobs (visual quality, motion intensity), their
degradations, the web-like pool, video files and the one clip layout ``(B, C, F, H, W)``.
"""

from tqd_lite import lazy_exports

# name -> the module of this subpackage that defines it, imported on first use
_EXPORTS = {
    "ClipSpec": "render",
    "DEGRADATIONS": "degrade",
    "MOTION_DEGRADATIONS": "degrade",
    "PoolConfig": "pool",
    "VISUAL_DEGRADATIONS": "degrade",
    "all_frames": "clips",
    "build_pool": "pool",
    "check_clip": "clips",
    "footage_triplets": "footage",
    "read_clip": "video_io",
    "read_manifest": "pool",
    "SceneTruth": "render",
    "render_clip": "render",
    "render_clip_with_truth": "render",
    "render_clips": "render",
    "resolve_backend": "video_io",
    "write_video": "video_io",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
