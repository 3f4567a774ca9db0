"""The evaluation suite for generated clips: every metric that passes the sanity table, in one call.

Which scores are which (the README's "Which metric judges what" says the same for users):

* The **pool's scores** (:mod:`tqd_lite.quality.scores`: the normal-flow motion score and the
  high-frequency visual score, normalised per corpus) stay the inputs of TQD's sampler. They
  score *real* clips, which have no failure modes to exploit.
* **Generated clips** are judged by this suite only: the judge's visual and motion quality and
  world probability (:mod:`tqd_lite.quality.judge`), the tracker's coherent-motion dynamic
  degree, speed, sprite count and flicker index (:mod:`tqd_lite.quality.tracker`), and FD, KID,
  precision and recall on the judge's features against freshly rendered golden clips
  (:mod:`tqd_lite.quality.distances`), each distance with its interval and beside its
  real-vs-real floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from tqd_lite.quality.corpus import ScanReport, iter_readable_clips
from tqd_lite.quality.distances import distribution_distances, kernel_inception_distance, precision_recall
from tqd_lite.quality.judge import QualityJudge, judge_clips, judge_features, judge_outputs
from tqd_lite.quality.learned import load_judge, load_tracker
from tqd_lite.quality.metrics import frechet_distance
from tqd_lite.quality.sanity import REFERENCE_CLIPS, golden_renders
from tqd_lite.quality.tracker import SpriteTracker, tracker_measures
from tqd_lite.world.clips import check_clip
from tqd_lite.world.render import WORLD

REFERENCE_SEED = 777  # the golden reference's renders; the sanity table's inputs use other seeds


def golden_reference(
    n: int = REFERENCE_CLIPS, *, size: int, num_frames: int, world: str = WORLD.name
) -> torch.Tensor:
    """The suite's reference: ``n`` freshly rendered golden clips ``(n, 3, F, H, W)`` of ``world``."""
    return golden_renders(n, size=size, num_frames=num_frames, seed=REFERENCE_SEED, world=world)


@dataclass
class MetricSuite:
    """The learned metrics of one frame size and the golden reference's features."""

    tracker: SpriteTracker
    judge: QualityJudge
    reference: np.ndarray  # (REFERENCE_CLIPS, feature_dim) judge features of golden renders
    size: int
    num_frames: int
    world: str = WORLD.name  # the reference's and the floor's world style

    @classmethod
    def load(
        cls, size: int, num_frames: int, *, reference_clips: int = REFERENCE_CLIPS, world: str = WORLD.name
    ) -> MetricSuite:
        """The committed tracker and judge for ``size``, and a freshly rendered golden reference of
        ``world`` (the learned metrics were trained on :data:`~tqd_lite.world.render.WORLD`)."""
        reference = golden_reference(reference_clips, size=size, num_frames=num_frames, world=world)
        return cls.with_reference(reference, world=world)

    @classmethod
    def with_reference(cls, reference: torch.Tensor, *, world: str = WORLD.name) -> MetricSuite:
        """The committed tracker and judge for the clip shape of ``reference`` (golden clips of
        ``world``)."""
        check_clip(reference, batched=True, name="reference")
        size, num_frames = reference.shape[-1], reference.shape[2]
        judge = load_judge(size)
        return cls(load_tracker(size), judge, judge_features(reference, judge), size, num_frames, world)

    def _judge(self, clips: torch.Tensor) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        check_clip(clips, batched=True, name="clips")
        if clips.shape[-1] != self.size or clips.shape[2] != self.num_frames:
            raise ValueError(
                f"clips are {clips.shape[2]} frames of {clips.shape[-1]}x{clips.shape[-1]}, but this suite "
                f"measures {self.num_frames} frames of {self.size}x{self.size}"
            )
        return judge_outputs(clips, self.judge)

    @staticmethod
    def _clip_measures(tracked: dict[str, np.ndarray], judged: dict[str, np.ndarray]) -> dict[str, float]:
        """The judge's and the tracker's columns, as set means."""
        return {
            "judge_visual": float(judged["visual"].mean()),
            "judge_motion": float(judged["motion"].mean()),
            "judge_world": float(judged["world"].mean()),
            "dynamic_degree": float(tracked["dynamic"].mean()),
            "tracked_speed": float(tracked["tracked_speed"].mean()),
            "sprite_count": float(tracked["sprite_count"].mean()),
            "flicker": float(tracked["flicker"].mean()),
        }

    def measure(self, clips: torch.Tensor) -> dict[str, float]:
        """The sanity table's columns: one number per metric for a set of clips."""
        features, judged = self._judge(clips)
        return {
            **self._clip_measures(tracker_measures(clips, self.tracker), judged),
            "fd": frechet_distance(features, self.reference),
            "kid": kernel_inception_distance(features, self.reference, subsets=20)["kid"],
            "precision": precision_recall(features, self.reference[: len(features)])["precision"],
        }

    def floor(self, n: int, seed: int = 0) -> dict[str, float]:
        """Real-vs-real: FD and KID of ``n`` further golden renders, what a perfect generator would get."""
        shape = {"size": self.size, "num_frames": self.num_frames, "world": self.world}
        golden = golden_renders(n, seed=REFERENCE_SEED + 1 + seed, **shape)
        distances = distribution_distances(judge_features(golden, self.judge), self.reference, seed=seed)
        return {f"floor_{k}": v for k, v in distances.items() if k in ("fd", "kid", "precision", "recall")}

    def evaluate(self, clips: torch.Tensor, *, seed: int = 0) -> dict[str, float]:
        """Everything about a set of generated clips: the judge's and the tracker's measures,
        ``sprite_share`` (the share of clips in which the tracker finds a sprite on average over the
        frames), distances with intervals, and the real-vs-real floor."""
        features, judged = self._judge(clips)
        tracked = tracker_measures(clips, self.tracker)
        return {
            "num_clips": int(len(clips)),
            **self._clip_measures(tracked, judged),
            "sprite_share": float((tracked["sprite_count"] >= 0.5).mean()),
            **distribution_distances(features, self.reference, seed=seed),
            **self.floor(len(clips), seed=seed),
        }


def judge_folder(
    folder: str | Path, *, num_frames: int, size: int, backend: str | None = None, progress: bool = True
) -> tuple[dict[str, np.ndarray], ScanReport]:
    """The judge's and the tracker's per-clip measurements of every readable video in ``folder``.

    Returns ``({"file", "judge_visual", "judge_motion", "judge_world", "sprite_count", "tracked_speed"},
    report)``; bad files are skipped and named in the report, as ``score`` does.
    """
    report = ScanReport()
    pairs = list(iter_readable_clips(folder, num_frames, size, backend, report, progress))
    if not pairs:
        raise ValueError(
            f"no readable {num_frames}-frame {size}x{size} videos in {folder}: {report.summary()}"
        )
    clips = torch.stack([clip for _, clip in pairs])
    judged = judge_clips(clips, load_judge(size))
    tracked = tracker_measures(clips, load_tracker(size))
    table = {"file": np.array([path.name for path, _ in pairs])}
    table.update({f"judge_{k}": v for k, v in judged.items()})
    table.update({k: tracked[k] for k in ("sprite_count", "tracked_speed")})
    return table, report
