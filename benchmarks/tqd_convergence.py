"""How long must TQD's runs fine-tune? The baseline arm's quality-vs-steps curve.

    python benchmarks/tqd_convergence.py --profile full --steps 2250 --every 375

Issue "TQD on trustworthy ground" asks for runs trained until the baseline's curve flattens on
the trustworthy metrics. This fine-tunes the profile's base image model (trained first if missing,
in ``results/PROFILE/tqd/base``, where the experiment reuses it) on Set-A with uniform timesteps,
seed 0, exactly as the baseline arm does but for ``--steps`` steps, and measures the samples with
the metric suite and the fixed-bucket validation loss every ``--every`` steps. The profile's
``tqd_steps`` is read off this curve (README, "TQD on trustworthy ground").
Resumable; writes ``results/PROFILE/tqd/convergence/`` (``train.json`` with provenance, figures).
A script, not a test.
"""

from __future__ import annotations

import argparse

from tqd_lite.diffusion.training_run import load_run_data, run_training
from tqd_lite.paths import results_dir
from tqd_lite.profiles import get_profile
from tqd_lite.provenance import provenance
from tqd_lite.quality.suite import MetricSuite
from tqd_lite.tqd.experiments import ARMS, _run_settings, ensure_base_model, tqd_pool_profile

CURVE_METRICS = (
    "fd",
    "kid",
    "judge_visual",
    "judge_motion",
    "dynamic_degree",
    "flicker",
    "fixed_bucket_loss",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="full")
    parser.add_argument("--steps", type=int, default=2250)
    parser.add_argument("--every", type=int, default=375)
    args = parser.parse_args()
    profile = get_profile(args.profile)
    out_dir = results_dir() / profile.name / "tqd"
    block = provenance(profile.name, 0, "cpu")
    pool = tqd_pool_profile(profile)
    data = {}
    init = ensure_base_model(profile, out_dir, data, block)
    (baseline,) = [a for a in ARMS if a.key == "set_a/baseline"]
    _, config = _run_settings(profile, 0, baseline)
    config = type(config)(**{**config.to_dict(), "steps": args.steps})
    report = run_training(
        pool,
        config,
        out_dir / "convergence",
        baseline.split,
        provenance_block={**block, "arm": baseline.key},
        eval_every=args.every,
        eval_clips=profile.tqd_eval_clips,
        policy=baseline.policy,
        run_data=data.get(baseline.split) or load_run_data(pool, baseline.split),
        evaluate_start=True,
        init=init,
        suite=MetricSuite.load(pool.frame_size, pool.num_frames),
    )
    for entry in report["evaluations"]:
        print(entry["step"], {m: round(entry[m], 4) for m in CURVE_METRICS if m in entry})


if __name__ == "__main__":
    main()
