"""Real footage (matplotlib's sample photographs, panned and zoomed): the scorer and the judge read
a blurred twin as less sharp and a still twin as not moving, from video files on disk."""

import numpy as np
import pytest

from tqd_lite.quality.corpus import score_folder
from tqd_lite.quality.learned import metric_path
from tqd_lite.world.footage import HELD_OUT_PHOTO, SAMPLE_PHOTOS, footage_triplets
from tqd_lite.world.video_io import write_video

SIZE, FRAMES, CLIPS_PER_PHOTO = 16, 8, 3


@pytest.fixture(scope="module")
def footage_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("footage")
    triplets = footage_triplets(size=SIZE, num_frames=FRAMES, clips_per_photo=CLIPS_PER_PHOTO)
    for kind, clips in triplets.items():
        for i, clip in enumerate(clips):
            write_video(folder / f"{kind}_{i:02d}.mp4", clip)
    return folder, len(triplets["moving"])


def _by_kind(table: dict, column: str, n: int) -> dict[str, np.ndarray]:
    index = {name: i for i, name in enumerate(table["file"])}
    return {
        kind: np.array([table[column][index[f"{kind}_{i:02d}.mp4"]] for i in range(n)])
        for kind in ("moving", "blurred", "still")
    }


def test_the_scorer_on_real_footage(footage_folder):
    folder, n = footage_folder
    raw, report = score_folder(folder, FRAMES, SIZE, progress=False)
    assert not report.bad
    visual, motion = _by_kind(raw, "visual_raw", n), _by_kind(raw, "motion_raw", n)
    assert np.all(visual["blurred"] < visual["moving"])  # every blurred twin has less detail
    assert np.all(motion["still"] < 0.05) and np.all(motion["moving"] > 0.3)  # pixels per frame


def _judged(folder, n) -> dict:
    from tqd_lite.quality.suite import judge_folder

    if not (metric_path("judge", SIZE) / "config.json").is_file():
        pytest.fail(f"data/metrics/judge_{SIZE} is missing: `python -m tqd_lite train-metrics --size {SIZE}`")
    table, _ = judge_folder(folder, num_frames=FRAMES, size=SIZE, progress=False)
    return {column: _by_kind(table, column, n) for column in ("judge_visual", "judge_motion")}


def test_the_judge_sees_a_still_photograph_as_still(footage_folder):
    motion = _judged(*footage_folder)["judge_motion"]
    assert np.all(motion["still"] < motion["moving"])
    assert motion["still"].mean() < 0.1


def test_the_judge_rates_a_blurred_photograph_lower_on_the_photo_it_never_saw(footage_folder):
    visual = _judged(*footage_folder)["judge_visual"]
    assert np.all(visual["blurred"] < visual["moving"])
    # the judge trained on panned clips of the other two photos (judge._photo_example); these are new
    first = SAMPLE_PHOTOS.index(HELD_OUT_PHOTO) * CLIPS_PER_PHOTO
    held_out = slice(first, first + CLIPS_PER_PHOTO)
    assert np.all(visual["blurred"][held_out] < visual["moving"][held_out] - 0.05)


def test_the_judge_command_writes_a_table_and_names_bad_files(footage_folder, tmp_path, capsys):
    from tqd_lite.cli import main

    folder, n = footage_folder
    out = tmp_path / "judgements.csv"
    assert main(["judge", str(folder), "--size", "16", "--out", str(out), "--no-progress"]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].split(",") == [
        "file", "judge_visual", "judge_motion", "judge_world", "sprite_count", "tracked_speed"
    ]  # fmt: skip
    assert len(lines) == 1 + 3 * n
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "broken.mp4").write_bytes(b"not a video")
    assert main(["judge", str(empty), "--size", "16", "--no-progress"]) == 2
    assert "broken.mp4" in capsys.readouterr().err
