"""Score a folder of videos and split it as TQD does: Set-A, Set-B, Set-C and held-out golden clips.

Each readable clip gets raw motion and visual scores (:mod:`tqd_lite.quality.scores`), normalised to
mq, vq in [0, 1] by percentile rank within the corpus. Then [our choice of thresholds]:

* **golden**: ``mq >= 0.5`` and ``vq >= 0.5`` (high in both);
* **motion-rich** / **visual-rich**: high in exactly one (the "imbalanced" clips);
* **poor**: low in both (what TQD's quality dropout mostly drops).

The splits: **Set-A** all clips, **Set-B** the imbalanced ones only (no golden clips), **Set-C**
the golden ones only (docs/papers.md, section 1). Before splitting, a quarter of the golden clips is
held out as the evaluation reference [our choice: the paper evaluates with VBench instead].
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from tqd_lite.files import load_csv
from tqd_lite.quality.scores import PercentileNormaliser, motion_score, visual_score
from tqd_lite.world.video_io import VideoReadError, list_videos, read_clip

GOLDEN_THRESHOLD = 0.5
HELDOUT_GOLDEN_SHARE = 0.25
CATEGORIES = ("golden", "motion_rich", "visual_rich", "poor")
SPLITS = ("set_a", "set_b", "set_c", "heldout_golden")
SCORES_FILE = "scores.csv"


@dataclass
class ScanReport:
    """What a folder scan found: the good files, and each bad file with the reason."""

    good: list[Path] = field(default_factory=list)
    bad: list[tuple[Path, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.good)} readable clips, {len(self.bad)} skipped"
        return text + "".join(f"\n  skipped {path.name}: {reason}" for path, reason in self.bad)


def iter_readable_clips(
    folder: str | Path,
    num_frames: int,
    size: int | None = None,
    backend: str | None = None,
    report: ScanReport | None = None,
    progress: bool = False,
) -> Iterator[tuple[Path, torch.Tensor]]:
    """Yield ``(path, clip)`` for every readable video in ``folder``; record bad ones in ``report``.

    A bad file (corrupt, truncated, empty, too short, wrong size) is skipped with its reason;
    every good file is yielded.
    """
    report = report if report is not None else ScanReport()
    for path in tqdm(list_videos(folder), desc=f"reading {Path(folder).name}", disable=not progress):
        try:
            clip = read_clip(path, num_frames=num_frames, size=size, backend=backend)
        except VideoReadError as error:
            report.bad.append((path, error.problem))
            continue
        report.good.append(path)
        yield path, clip
    if report.bad:
        warnings.warn(
            f"{folder}: skipped {len(report.bad)} unreadable clips; {report.summary()}", stacklevel=3
        )
    if not report.good:
        raise ValueError(f"{folder}: no readable clips ({report.summary()})")


def scan_folder(
    folder: str | Path, num_frames: int, size: int | None = None, backend: str | None = None
) -> ScanReport:
    """Try to read every video in ``folder``: the good files, and the bad ones with reasons."""
    report = ScanReport()
    for _ in iter_readable_clips(folder, num_frames, size, backend, report):
        pass
    return report


def score_folder(
    folder: str | Path,
    num_frames: int,
    size: int | None = None,
    backend: str | None = None,
    progress: bool = True,
) -> tuple[dict[str, np.ndarray], ScanReport]:
    """Raw motion and visual scores of every readable video in ``folder`` (bad files skipped, reported).

    Returns ``({"file", "motion_raw", "visual_raw"}, report)``.
    """
    if num_frames < 2:
        raise ValueError(f"num_frames must be >= 2 to measure motion, got {num_frames}")
    report = ScanReport()
    files, motion, visual = [], [], []
    with torch.no_grad():
        for path, clip in iter_readable_clips(folder, num_frames, size, backend, report, progress):
            files.append(path.name)
            motion.append(motion_score(clip).item())
            visual.append(visual_score(clip).item())
    raw = {"file": np.array(files), "motion_raw": np.array(motion), "visual_raw": np.array(visual)}
    return raw, report


def categorise(mq: np.ndarray, vq: np.ndarray, threshold: float = GOLDEN_THRESHOLD) -> np.ndarray:
    """golden / motion_rich / visual_rich / poor for each clip."""
    high_m, high_v = np.asarray(mq) >= threshold, np.asarray(vq) >= threshold
    return np.select([high_m & high_v, high_m, high_v], ["golden", "motion_rich", "visual_rich"], "poor")


def split_corpus(category: np.ndarray, heldout_share: float = HELDOUT_GOLDEN_SHARE, seed: int = 0) -> dict:
    """Boolean masks for Set-A, Set-B, Set-C and the held-out golden clips."""
    if not 0.0 <= heldout_share < 1.0:
        raise ValueError(f"heldout_share must be in [0, 1), got {heldout_share}")
    golden = np.flatnonzero(category == "golden")
    rng = np.random.default_rng(seed)
    heldout = np.zeros(category.shape, dtype=bool)
    heldout[rng.permutation(golden)[: round(heldout_share * golden.size)]] = True
    training = ~heldout
    return {
        "set_a": training,
        "set_b": training & np.isin(category, ["motion_rich", "visual_rich"]),
        "set_c": training & (category == "golden"),
        "heldout_golden": heldout,
    }


def normalise_and_split(raw: dict[str, np.ndarray], seed: int = 0) -> dict[str, np.ndarray]:
    """Add mq, vq (percentile ranks), the category and split masks to raw scores."""
    table = dict(raw)
    table["mq"] = PercentileNormaliser(raw["motion_raw"]).transform(raw["motion_raw"])
    table["vq"] = PercentileNormaliser(raw["visual_raw"]).transform(raw["visual_raw"])
    table["category"] = categorise(table["mq"], table["vq"])
    table.update(split_corpus(table["category"], seed=seed))
    return table


def dilemma_statistics(table: dict[str, np.ndarray]) -> dict[str, float]:
    """The two numbers of TQD's dilemma: r(VQ, MQ) (Pearson on the normalised scores) and the golden share."""
    counts = {c: int(np.sum(table["category"] == c)) for c in CATEGORIES}
    n = int(table["mq"].size)
    return {
        "num_clips": n,
        # None, not NaN, below three clips: NaN is not valid JSON
        "correlation_vq_mq": float(np.corrcoef(table["vq"], table["mq"])[0, 1]) if n >= 3 else None,
        "golden_share": counts["golden"] / n,
        **{f"count_{c}": count for c, count in counts.items()},
        **{f"count_{s}": int(table[s].sum()) for s in SPLITS},
    }


def write_scores(table: dict[str, np.ndarray], path: str | Path) -> Path:
    """Write the scored corpus as CSV: one row per clip, split memberships as 0/1 columns."""
    columns = SCORE_COLUMNS
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for i in range(len(table["file"])):
            row = []
            for c in columns:
                value = table[c][i]
                row.append(
                    int(value) if c in SPLITS else (f"{value:.6g}" if isinstance(value, float) else value)
                )
            writer.writerow(row)
    return Path(path)


def read_scores(path: str | Path) -> dict[str, np.ndarray]:
    """Read a scores CSV written by :func:`write_scores`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"scores file not found: {path} (make it with `python -m tqd_lite score`)")
    header, rows = load_csv(path, "scores CSV")
    missing = [c for c in SCORE_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected {list(SCORE_COLUMNS)}")
    if not rows:
        raise ValueError(f"{path}: no rows")
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        _check_score_row(path, line, row)
    table = {c: np.array([r[c] for r in rows]) for c in ("file", "category")}
    for c in ("motion_raw", "visual_raw", "mq", "vq"):
        table[c] = np.array([float(r[c]) for r in rows])
    for c in SPLITS:
        table[c] = np.array([r[c] == "1" for r in rows])
    return table


SCORE_COLUMNS = ("file", "motion_raw", "visual_raw", "mq", "vq", "category", *SPLITS)


def _check_score_row(path: Path, line: int, row: dict) -> None:
    """One CSV row: finite raw scores, mq and vq in [0, 1], a known category, 0/1 split flags;
    the error names the line and the clip file, before any clip is read or any step trained."""
    where = f"{path}, line {line} ({row['file']!r})"
    for column in ("motion_raw", "visual_raw", "mq", "vq"):
        try:
            value = float(row[column])
        except (TypeError, ValueError):
            raise ValueError(f"{where}: {column} must be a number, got {row[column]!r}") from None
        if not np.isfinite(value):
            raise ValueError(f"{where}: {column} is {row[column]!r}; every clip needs finite scores")
        if column in ("mq", "vq") and not 0 <= value <= 1:
            raise ValueError(f"{where}: {column} must be a percentile score in [0, 1], got {value:g}")
    if row["category"] not in CATEGORIES:
        raise ValueError(f"{where}: category must be one of {CATEGORIES}, got {row['category']!r}")
    for split in SPLITS:
        if row[split] not in ("0", "1"):
            raise ValueError(f"{where}: {split} must be 0 or 1, got {row[split]!r}")
