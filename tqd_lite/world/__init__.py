"""The toy video world: clips rendered with two knobs (visual quality, motion intensity), their
degradations, the web-like pool, video files and the one clip layout ``(B, C, F, H, W)``.
"""

from tqd_lite.world.clips import all_frames, check_clip
from tqd_lite.world.degrade import DEGRADATIONS, MOTION_DEGRADATIONS, VISUAL_DEGRADATIONS
from tqd_lite.world.pool import PoolConfig, build_pool, read_manifest
from tqd_lite.world.render import ClipSpec, render_clip, render_clips
from tqd_lite.world.video_io import read_clip, resolve_backend, write_video

__all__ = [
    "ClipSpec",
    "DEGRADATIONS",
    "MOTION_DEGRADATIONS",
    "PoolConfig",
    "VISUAL_DEGRADATIONS",
    "all_frames",
    "build_pool",
    "check_clip",
    "read_clip",
    "read_manifest",
    "render_clip",
    "render_clips",
    "resolve_backend",
    "write_video",
]
