"""Does a world style keep TQD's dilemma? The pool's two measured numbers in each world.

    python benchmarks/probe_world_dilemma.py --out results/benchmarks/world_dilemma_16.json

Draws the quick pool's 800 clips (``world.pool.sample_pool``: the same knobs, degradations and
motion artefacts), renders them in every world style (``world.render.WORLD_STYLES``), scores them
with the pool's motion and visual scores and reports r(VQ, MQ) and the golden share
(``quality.corpus.dilemma_statistics``), the two numbers the issue "Models that generate the toy
world" asks a new world to keep (near -0.24 and 20%). The clips stay in memory: the real pool also
goes through H.264, so the project's world's row (``world.render.WORLD``) is printed beside the
committed pool's numbers as the check of that shortcut. A script, not a test (seconds per world on
2 cores).
"""

from __future__ import annotations

import argparse

import torch
from tqdm.auto import tqdm

from tqd_lite.paths import pool_dir
from tqd_lite.profiles import get_profile
from tqd_lite.provenance import provenance, write_result
from tqd_lite.quality.corpus import dilemma_statistics, normalise_and_split, read_scores
from tqd_lite.quality.scores import motion_score, visual_score
from tqd_lite.world.pool import PoolConfig, sample_pool
from tqd_lite.world.render import WORLD_STYLES


def world_dilemma(config: PoolConfig, world: str) -> dict:
    """r(VQ, MQ) and the golden share of the pool ``config`` rendered in ``world``."""
    motion, visual = [], []
    for entry in tqdm(sample_pool(config), desc=world, leave=False):
        clip = entry.render(WORLD_STYLES[world]).unsqueeze(0)  # (1, 3, F, H, W)
        motion.append(motion_score(clip))
        visual.append(visual_score(clip))
    raw = {"motion_raw": torch.cat(motion).numpy(), "visual_raw": torch.cat(visual).numpy()}
    return dilemma_statistics(normalise_and_split(raw, seed=config.seed))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    profile = get_profile(args.profile)
    config = PoolConfig.from_profile(profile)
    # the pool as make-data built it: rendered, through H.264, scored
    committed = dilemma_statistics(read_scores(pool_dir(profile.name) / "scores.csv"))
    worlds = {world: world_dilemma(config, world) for world in WORLD_STYLES}
    for name, stats in {"committed pool (H.264)": committed, **worlds}.items():
        r, golden = stats["correlation_vq_mq"], stats["golden_share"]
        print(f"{name}: r(VQ, MQ) = {r:.3f}, golden share {golden:.1%}")
    if args.out:
        block = provenance(profile.name, config.seed, "cpu", pool_clips=config.num_clips)
        write_result(args.out, {"worlds": worlds, "committed_pool": committed}, block)


if __name__ == "__main__":
    main()
