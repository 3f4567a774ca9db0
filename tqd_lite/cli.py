"""Command line: ``python -m tqd_lite COMMAND --profile quick|full``.

Commands
  make-data       render the web-like pool of a profile to video files and score it
  make-sample     write the small committed sample under data/sample/
  score FOLDER    score any folder of videos (yours too) and write a CSV
  train-encoder   train the Fréchet-distance encoder for one frame size
  reproduce WHAT  run an experiment end to end and write its result files
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tqd_lite.profiles import PROFILE_ENV_VAR, PROFILES, get_profile

SAMPLE_CLIPS = 48


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=None,
        help=f"experiment sizes (default: ${PROFILE_ENV_VAR} or 'quick')",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars (for logs)")


def cmd_make_data(args) -> None:
    from tqd_lite.corpus import dilemma_statistics
    from tqd_lite.dilemma import ensure_scored_pool
    from tqd_lite.paths import pool_dir

    profile = get_profile(args.profile)
    if args.num_clips is not None:
        profile = profile.with_overrides(pool_size=args.num_clips)
    folder = Path(args.out) if args.out else pool_dir(profile.name)
    table = ensure_scored_pool(profile, args.seed, folder, progress=not args.no_progress)
    print(f"pool: {folder}")
    print(json.dumps(dilemma_statistics(table), indent=2))


def cmd_make_sample(args) -> None:
    from tqd_lite.dilemma import ensure_scored_pool
    from tqd_lite.paths import data_dir
    from tqd_lite.provenance import provenance, write_result

    # a small pool with the quick profile's clip size, built and scored like any pool
    sample = get_profile("quick").with_overrides(pool_size=SAMPLE_CLIPS)
    folder = data_dir() / "sample"
    block = provenance(sample.name, args.seed, "cpu", num_clips=SAMPLE_CLIPS)
    ensure_scored_pool(sample, args.seed, folder, progress=not args.no_progress)
    write_result(folder / "provenance.json", {"contents": "clips/*.mp4, manifest.csv, scores.csv"}, block)
    print(f"sample: {folder}")


def cmd_score(args) -> None:
    from tqd_lite.corpus import dilemma_statistics, normalise_and_split, score_folder, write_scores

    raw, report = score_folder(
        args.folder, args.num_frames, args.size, args.backend, progress=not args.no_progress
    )
    table = normalise_and_split(raw, seed=args.seed)
    out = write_scores(table, args.out or Path(args.folder) / "scores.csv")
    print(report.summary())
    print(f"scores: {out}")
    print(json.dumps(dilemma_statistics(table), indent=2))


def cmd_train_encoder(args) -> None:
    import torch

    from tqd_lite.encoder import EncoderTrainingConfig, save_encoder, train_encoder
    from tqd_lite.provenance import provenance

    profile = get_profile(args.profile)
    config = EncoderTrainingConfig(
        size=args.size or profile.frame_size,
        num_frames=profile.num_frames,
        train_clips=profile.encoder_train_clips,
        steps=profile.encoder_steps if args.steps is None else args.steps,
        seed=args.seed,
    )
    device = "cuda" if torch.cuda.is_available() else "cpu"
    block = provenance(profile.name, args.seed, device)  # before training: the code as it was run
    model, info = train_encoder(config, device, progress=not args.no_progress)
    last = info["losses"][-50:]
    block.update(train_seconds=round(info["train_seconds"], 1), final_loss=round(sum(last) / len(last), 4))
    print(f"encoder: {save_encoder(model.cpu(), config, block)}")


def cmd_reproduce(args) -> None:
    from tqd_lite.dilemma import run_dilemma

    profile = get_profile(args.profile)
    start = time.perf_counter()
    report = run_dilemma(profile, args.seed, progress=not args.no_progress)
    d = report["dilemma"]
    print(
        f"dilemma: r(VQ, MQ) = {d['correlation_vq_mq']:.3f}, golden share = {d['golden_share']:.1%} "
        f"({d['num_clips']} clips)"
    )
    print(f"results: results/{profile.name}/dilemma/ ({time.perf_counter() - start:.0f} s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tqd_lite", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("make-data", help="render and score the web-like pool of a profile")
    _add_common(p)
    p.add_argument("--num-clips", type=int, default=None, help="pool size (default: the profile's)")
    p.add_argument("--out", default=None, help="pool folder (default: data/pools/PROFILE)")
    p.set_defaults(func=cmd_make_data)

    p = sub.add_parser("make-sample", help="write the small committed sample, data/sample/")
    _add_common(p)
    p.set_defaults(func=cmd_make_sample)

    p = sub.add_parser("score", help="score a folder of videos; writes FOLDER/scores.csv")
    _add_common(p)
    p.add_argument("folder", help="folder of video files (.mp4, .mkv, .avi, .mov, .webm)")
    p.add_argument("--num-frames", type=int, default=8, help="frames read from the start of each video")
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="required frame size (default: any; motion is measured in pixels per frame, so a folder "
        "mixing resolutions ranks MQ unfairly)",
    )
    p.add_argument("--backend", choices=["decord", "pyav"], default=None, help="decoder (default: decord)")
    p.add_argument("--out", default=None, help="CSV path (default: FOLDER/scores.csv)")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("train-encoder", help="train the Fréchet-distance encoder for one frame size")
    _add_common(p)
    p.add_argument("--size", type=int, default=None, help="frame size (default: the profile's)")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: by size)")
    p.set_defaults(func=cmd_train_encoder)

    p = sub.add_parser("reproduce", help="run an experiment end to end; results under results/PROFILE/")
    _add_common(p)
    p.add_argument("what", choices=["dilemma", "all"], help="which experiment ('all': every one so far)")
    p.set_defaults(func=cmd_reproduce)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
