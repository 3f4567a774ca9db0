"""Video files: the decord round trip, the PyAV fallback, and every kind of bad file."""

import sys
import warnings

import pytest
import torch

from tqd_lite.world import video_io
from tqd_lite.world.render import ClipSpec, render_clip
from tqd_lite.world.video_io import VideoReadError, read_clip, read_frames, resolve_backend, write_video

CODEC_TOLERANCE = 3 / 255  # yuv444p at crf 0: RGB -> YUV -> RGB rounding only


@pytest.mark.parametrize("backend", video_io.BACKENDS)
@pytest.mark.parametrize("size", [16, 32])  # 16 takes decord's padded-row repair, 32 its get_batch path
def test_round_trip_within_codec_error(tmp_path, backend, size):
    clip = render_clip(ClipSpec(seed=2, size=size, visual_quality=0.7, motion_intensity=0.8))
    path = write_video(tmp_path / "clip.mp4", clip)
    back = read_clip(path, num_frames=8, size=size, backend=backend)
    assert back.shape == clip.shape and back.dtype == torch.float32
    assert (back - clip).abs().max() <= CODEC_TOLERANCE
    assert not list(tmp_path.glob(".*partial*")), "the atomic writer left a partial file"


@pytest.mark.parametrize("width,height", [(16, 16), (24, 16), (48, 32), (50, 30), (26, 26)])
def test_decord_and_pyav_give_identical_frames_at_any_size(tmp_path, width, height):
    """decord pads rows for some widths (16, 24, 48, ...); the reader must undo it exactly."""
    frames = torch.randint(20, 230, (4, height, width, 3), generator=torch.Generator().manual_seed(width))
    path = write_video(tmp_path / "odd.mp4", frames.permute(3, 0, 1, 2).float() / 255)
    assert torch.equal(read_frames(path, backend="decord"), read_frames(path, backend="pyav"))


@pytest.mark.parametrize("backend", video_io.BACKENDS)
def test_frames_are_tensors_and_indices_are_clamped(video_folder, backend):
    folder, _ = video_folder
    frames = read_frames(folder / "clip_1.mp4", [0, 7, 8, 100, -3], backend=backend)
    assert isinstance(frames, torch.Tensor) and frames.dtype == torch.uint8 and frames.shape == (5, 16, 16, 3)
    assert torch.equal(frames[1], frames[2]) and torch.equal(
        frames[1], frames[3]
    )  # clamped to the last frame
    assert torch.equal(frames[4], frames[0])


def test_fallback_to_pyav_when_decord_is_missing_warns_once(monkeypatch, video_folder):
    folder, _ = video_folder
    monkeypatch.setitem(sys.modules, "decord", None)  # makes `import decord` raise ImportError
    monkeypatch.setattr(video_io, "_fallback_warned", False)
    with pytest.warns(UserWarning, match="decord is not installed"):
        assert resolve_backend() == "pyav"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fallback = read_frames(folder / "clip_2.mp4")  # second use: no warning
    monkeypatch.undo()
    assert torch.equal(fallback, read_frames(folder / "clip_2.mp4", backend="decord"))


def _bad_files(tmp_path, good):
    data = good.read_bytes()
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "corrupt.mp4").write_bytes(b"\x00\x01not a video" * 200)
    (tmp_path / "truncated.mp4").write_bytes(data[: len(data) // 2])
    write_video(tmp_path / "short.mp4", render_clip(ClipSpec(seed=1, num_frames=3)))
    write_video(tmp_path / "big.mp4", render_clip(ClipSpec(seed=1, size=32)))
    return {
        "empty.mp4": "file is empty",
        "corrupt.mp4": "cannot be decoded, corrupt or truncated",
        "truncated.mp4": "cannot be decoded, corrupt or truncated",
        "short.mp4": "too short: 3 frames, expected at least 8",
        "big.mp4": "wrong frame size: 32x32 \\(HxW\\), expected 16x16",
        "missing.mp4": "file not found",
    }


@pytest.mark.parametrize("backend", video_io.BACKENDS)
def test_bad_files_raise_errors_naming_the_file_and_the_problem(tmp_path, video_folder, backend):
    folder, _ = video_folder
    for name, problem in _bad_files(tmp_path, folder / "clip_0.mp4").items():
        with pytest.raises(VideoReadError, match=f"{name}: {problem}") as caught:
            read_clip(tmp_path / name, num_frames=8, size=16, backend=backend)
        assert caught.value.path.endswith(name)


def test_unknown_backend_and_missing_folder():
    with pytest.raises(ValueError, match="unknown video backend 'ffmpeg'"):
        resolve_backend("ffmpeg")
    with pytest.raises(FileNotFoundError, match="video folder not found: /nonexistent.*make-data"):
        video_io.list_videos("/nonexistent")
