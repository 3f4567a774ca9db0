"""Trained models as diffusers folders, and the way back from a training checkpoint.

A *model folder* is what :func:`export_weights` writes and ``VideoPipeline.from_pretrained``
reads, with nothing else to look up::

    data/models/golden_quick/
      model_index.json                              the pipeline: unet + scheduler
      unet/config.json                              the denoiser's class, sizes, clip shape
      unet/diffusion_pytorch_model.safetensors      EMA weights in fp16 (half the size; loaded as fp32)
      scheduler/scheduler_config.json               DDIM over the training schedule
      provenance.json                               command, profile, seed, device, commit; the
                                                    training config and step; what else the run measured

Safetensors hold tensors only, so loading a model folder runs no code; a resume checkpoint
(``checkpoint.pt``) is read with ``weights_only=True`` (:func:`~tqd_lite.diffusion.train.read_checkpoint`).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path

import torch
from diffusers import DDIMScheduler, LCMScheduler

from tqd_lite.diffusion.model import MODEL_CLASSES, build_model, check_trained_clip_shape
from tqd_lite.diffusion.pipeline import VideoPipeline, ddim_pipeline
from tqd_lite.diffusion.train import TrainConfig, read_checkpoint
from tqd_lite.files import first_line, load_json

PROVENANCE_FILE = "provenance.json"
MODEL_INDEX = "model_index.json"
SCHEDULERS = {cls.__name__: cls for cls in (DDIMScheduler, LCMScheduler)}  # what a model folder may name


def is_model_folder(path: str | Path) -> bool:
    return (Path(path) / MODEL_INDEX).is_file()


def model_provenance(folder: str | Path) -> dict:
    """The ``provenance.json`` of a model folder."""
    path = Path(folder) / PROVENANCE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder} has no {PROVENANCE_FILE}: not a model folder that tqd-lite wrote")
    return load_json(path, "model provenance file")


def _load_unet(folder: Path) -> torch.nn.Module:
    """The folder's unet through ``from_pretrained``; only tqd-lite's own denoiser classes are
    accepted, so a folder cannot make us import anything else."""
    entry = _index_entry(folder, "unet")
    classes = {cls.__name__: cls for cls in MODEL_CLASSES.values()}
    if entry not in classes:
        raise ValueError(f"{folder / MODEL_INDEX}: unet is {entry!r}, expected one of {sorted(classes)}")
    try:
        return classes[entry].from_pretrained(folder, subfolder="unet").float()
    except Exception as error:  # a missing, truncated or foreign config.json or safetensors file
        raise ValueError(f"{folder / 'unet'} is not a readable model ({first_line(error)})") from None


def _index_entry(folder: Path, part: str) -> str | None:
    """The class name ``model_index.json`` gives ``part`` (``"unet"``, ``"scheduler"``)."""
    index = load_json(folder / MODEL_INDEX, "diffusers model index")
    entry = index.get(part) if isinstance(index, dict) else None
    return entry[1] if isinstance(entry, list) and len(entry) == 2 else None


def load_denoiser(path: str | Path, preset: str | None = None, use_ema: bool = True) -> torch.nn.Module:
    """A denoiser, fp32, on the CPU, in eval mode, from a model folder or a training checkpoint
    (its EMA weights by default, ``use_ema=False`` for the raw ones).

    ``preset``: if given, the model must have been trained as that preset.
    """
    path = Path(path)
    if is_model_folder(path):
        if not use_ema:
            raise ValueError(
                f"{path} is a model folder: it holds the EMA weights only (use_ema=False needs a checkpoint)"
            )
        saved_preset = None if preset is None else training_config_of(path).preset
        if preset is not None and saved_preset != preset:
            raise ValueError(f"{path} holds a {saved_preset!r} model, not the {preset!r} preset asked for")
        return _load_unet(path).eval()
    if path.is_dir():
        raise FileNotFoundError(f"{path} has no {MODEL_INDEX}: expected a model folder or a checkpoint file")
    state = read_checkpoint(path)
    saved = state["model_config"]
    if preset is not None and saved["preset"] != preset:
        raise ValueError(f"{path} holds a {saved['preset']!r} model, not the {preset!r} preset asked for")
    model = build_model(saved["preset"], saved["num_classes"])
    if "clip_shape" in state:  # checkpoints before it recorded none: the caller gives the shape
        model.register_to_config(num_frames=state["clip_shape"][0], sample_size=state["clip_shape"][1])
    weights = state["ema"] if use_ema and "ema" in state else state["model"]
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        first = "; ".join(str(error).splitlines()[:2])
        raise ValueError(
            f"{path}: its weights do not fit the {saved['preset']!r} preset of this code ({first} ...); "
            f"was it made by another version of tqd_lite?"
        ) from None
    return model.eval()


def training_config_of(path: str | Path) -> TrainConfig:
    """The :class:`~tqd_lite.diffusion.train.TrainConfig` a model folder or checkpoint was trained with."""
    path = Path(path)
    saved = model_provenance(path) if is_model_folder(path) else read_checkpoint(path)
    if "train_config" not in saved:
        raise ValueError(
            f"{path} records no training config (a distilled student records its distill_config)"
        )
    return _train_config(saved["train_config"], path)


def _train_config(record: dict, path: str | Path) -> TrainConfig:
    """The recorded training config, or an error naming the file that holds a bad one."""
    try:
        return TrainConfig(**record)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: its recorded training config is not valid here ({error})") from None


def check_clip_shape(model, path: str | Path, num_frames: int, size: int) -> None:
    """A model that records its training clip shape is used at that shape only (analysis, distillation)."""
    check_trained_clip_shape(model, num_frames, size, name=str(path), remedy="pick the profile of its shape")


def load_pipeline(path: str | Path, use_ema: bool = True) -> VideoPipeline:
    """A :class:`~tqd_lite.diffusion.pipeline.VideoPipeline` for a model folder, with the folder's own
    scheduler (DDIM for diffusion models, ``LCMScheduler`` for distilled students), or for a
    training checkpoint, with DDIM over its training schedule (its EMA weights unless ``use_ema``
    is False)."""
    path = Path(path)
    unet = load_denoiser(path, use_ema=use_ema)
    if not is_model_folder(path):
        return ddim_pipeline(unet, training_config_of(path))
    entry = _index_entry(path, "scheduler")
    if entry not in SCHEDULERS:
        raise ValueError(
            f"{path / MODEL_INDEX}: scheduler is {entry!r}, expected one of {sorted(SCHEDULERS)}"
        )
    try:
        scheduler = SCHEDULERS[entry].from_pretrained(path, subfolder="scheduler")
    except Exception as error:  # a missing or broken scheduler_config.json
        raise ValueError(f"{path / 'scheduler'} is not a readable scheduler ({first_line(error)})") from None
    return VideoPipeline(unet=unet, scheduler=scheduler, noise_correlation=_noise_correlation(path))


def _noise_correlation(folder: Path) -> float:
    """The frame-noise correlation ``model_index.json`` records (folders exported before it was
    recorded were all trained with 0), or an error naming the file."""
    value = load_json(folder / MODEL_INDEX, "diffusers model index").get("noise_correlation", 0.0)
    if not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(
            f"{folder / MODEL_INDEX}: noise_correlation is {value!r}, expected a number in [0, 1)"
        )
    return float(value)


def export_weights(
    checkpoint: str | Path,
    out: str | Path,
    provenance_block: dict,
    extra: dict | None = None,
    *,
    clip_shape: tuple[int, int] | None = None,
) -> Path:
    """Write a checkpoint's EMA weights as a model folder (see the module docstring).

    ``extra``: more to record in ``provenance.json`` (e.g. the run's evaluations).
    ``clip_shape``: ``(num_frames, size)`` of the training clips, recorded in the unet's config so
    the pipeline samples that shape by default (default: what the checkpoint recorded).
    """
    state = read_checkpoint(checkpoint)
    clip_shape = clip_shape or state.get("clip_shape")
    config = _train_config(state["train_config"], checkpoint)
    model = build_model(config.preset, config.num_classes)
    model.load_state_dict(state["ema"])
    if clip_shape is not None:
        model.register_to_config(num_frames=clip_shape[0], sample_size=clip_shape[1])
    record = {
        "provenance": provenance_block,
        **{k: state[k] for k in ("model_config", "train_config", "step", "history")},
        **(extra or {}),
    }
    return write_model_folder(ddim_pipeline(model, config), record=record, out=out)


def write_model_folder(pipe: VideoPipeline, *, record: dict, out: str | Path) -> Path:
    """``save_pretrained`` of ``pipe`` (fp16 weights) plus ``provenance.json`` (``record``),
    written to a temporary folder first and then moved into place, so an interrupted export
    leaves no half folder."""
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    # a copy: the caller's model keeps its fp32 weights
    half = VideoPipeline(
        unet=copy.deepcopy(pipe.unet).half(),
        scheduler=pipe.scheduler,
        noise_correlation=pipe.config.noise_correlation,
    )
    half.save_pretrained(tmp)
    (tmp / PROVENANCE_FILE).write_text(json.dumps(record, indent=2) + "\n")
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out
