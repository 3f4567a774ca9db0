"""Every command that takes a path refuses a crafted pickle, a truncated file and random bytes
before any work starts: nothing runs, the one-line message names the file, the exit code is 2
(issue "Bad input is refused before work starts")."""

import io
import os
import pickle
import shutil
from pathlib import Path

import pytest
import torch

from tqd_lite.cli import main
from tqd_lite.paths import golden_model_path


class _Marker:
    """Unpickling it creates a file: what a crafted checkpoint could do instead."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def _truncated() -> bytes:
    buffer = io.BytesIO()
    torch.save({"model_config": {"preset": "tiny"}, "ema": {"w": torch.zeros(4096)}}, buffer)
    data = buffer.getvalue()
    return data[: len(data) // 2]


def bad_bytes(kind: str, marker: Path) -> bytes:
    if kind == "crafted":
        return pickle.dumps({"model_config": _Marker(str(marker)), "config": _Marker(str(marker))})
    if kind == "truncated":
        return _truncated()
    return os.urandom(4096)


# command -> (the file it reads, relative to tmp_path; the name its message must give; its arguments)
WEIGHTS = "model/unet/diffusion_pytorch_model.safetensors"
GOLDEN = str(golden_model_path("quick"))
COMMANDS = {
    "sample FILE": ("model.pt", "model.pt", ["sample", "model.pt", "--out", "out"]),
    "train --out (its checkpoint)": (
        "run/checkpoint.pt",
        "run/checkpoint.pt",
        ["train", "--out", "run", "--set", "steps=1"],
    ),
    "train --config": ("config.yaml", "config.yaml", ["train", "--config", "config.yaml"]),
    "distill --teacher": ("teacher.pt", "teacher.pt", ["distill", "--teacher", "teacher.pt", "--out", "run"]),
    "distill --out (its checkpoint)": (
        "run/distill_checkpoint.pt",
        "run/distill_checkpoint.pt",
        ["distill", "--out", "run"],
    ),
    "analyze-gradients --checkpoint": (
        "model.pt",
        "model.pt",
        ["analyze-gradients", "--checkpoint", "model.pt", "--out", "out", "--set", "pairs=1"],
    ),
    "train --data (its scores.csv)": (
        "data/scores.csv",
        "data/scores.csv",
        ["train", "--data", "data", "--out", "run"],
    ),
    "analyze-gradients --out (its partial grid)": (
        "out/.v_prediction.partial.pt",
        "out/.v_prediction.partial.pt",
        ["analyze-gradients", "--checkpoint", GOLDEN, "--out", "out", "--set", "pairs=1"],
    ),
    "sample FOLDER (its weights)": (WEIGHTS, "model/unet", ["sample", "model", "--out", "out"]),
    "freeze-samples FOLDER (its weights)": (WEIGHTS, "model/unet", ["freeze-samples", "model"]),
}


@pytest.mark.parametrize("kind", ["crafted", "truncated", "random"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_bad_file_is_refused_by_name_and_nothing_runs(command, kind, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    target, named, argv = COMMANDS[command]
    if target == WEIGHTS:  # a real model folder whose weights file is then spoiled
        shutil.copytree(golden_model_path("quick"), tmp_path / "model")
    (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
    marker = tmp_path / "code_ran"
    (tmp_path / target).write_bytes(bad_bytes(kind, marker))
    assert main(argv) == 2
    message = capsys.readouterr().err.strip()
    assert len(message.splitlines()) == 1 and named in message, message
    assert not marker.exists(), "unpickling the file ran code"
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == [target.split("/")[0]], f"the command wrote {written} before refusing the file"


@pytest.mark.parametrize("kind", ["crafted", "truncated", "random"])
def test_the_csv_and_safetensors_loaders_name_a_bad_file(kind, tmp_path):
    """The package's own tables and frozen samples (pool manifests, scores, data/failures/) too."""
    from tqd_lite.files import load_csv, load_safetensors
    from tqd_lite.world.pool import read_manifest

    data = bad_bytes(kind, tmp_path / "code_ran")
    (tmp_path / "manifest.csv").write_bytes(data)
    (tmp_path / "clips.safetensors").write_bytes(data)
    with pytest.raises(ValueError, match="manifest.csv"):
        read_manifest(tmp_path)
    with pytest.raises(ValueError, match=f"{tmp_path / 'clips.safetensors'} is not a readable"):
        load_safetensors(tmp_path / "clips.safetensors", "frozen-samples file")
    with pytest.raises(FileNotFoundError, match="scores CSV not found"):
        load_csv(tmp_path / "scores.csv", "scores CSV")
    assert not (tmp_path / "code_ran").exists()
