"""The web-like pool: negatively correlated qualities, scarce golden clips, resumable builds."""

import json
import os
import platform
import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy import stats

from tqd_lite.paths import data_dir
from tqd_lite.quality.corpus import dilemma_statistics, normalise_and_split
from tqd_lite.quality.scores import motion_score, visual_score
from tqd_lite.world import pool
from tqd_lite.world.pool import CLIP_FOLDER, PoolConfig, build_pool, sample_pool


def test_sampling_is_deterministic_and_knobs_follow_the_gaussian_copula():
    config = PoolConfig(num_clips=4000, seed=3)
    a, b = sample_pool(config), sample_pool(config)
    assert a == b
    q = np.array([c.spec.visual_quality for c in a])
    m = np.array([c.spec.motion_intensity for c in a])
    for knob in (q, m):  # uniform marginals
        assert stats.kstest(knob, "uniform").pvalue > 0.01
    # for uniform marginals Pearson = Spearman = (6 / pi) arcsin(rho / 2) under a Gaussian copula
    expected = 6 / np.pi * np.arcsin(config.latent_correlation / 2)
    assert np.corrcoef(q, m)[0, 1] == pytest.approx(expected, abs=0.04)


def test_measured_scores_mirror_the_papers_dilemma():
    """r(VQ, MQ) near the paper's -0.24 and golden clips about a fifth of the pool (measured, not set)."""
    clips = sample_pool(PoolConfig(num_clips=400, seed=1))
    batch = torch.stack([c.render() for c in clips])
    raw = {
        "file": np.array([c.file for c in clips]),
        "motion_raw": motion_score(batch).numpy(),
        "visual_raw": visual_score(batch).numpy(),
    }
    stats = dilemma_statistics(normalise_and_split(raw))
    assert -0.35 < stats["correlation_vq_mq"] < -0.12
    assert 0.15 < stats["golden_share"] < 0.28


def test_build_is_resumable_and_refuses_another_config(tmp_path):
    config = PoolConfig(num_clips=5, seed=0)
    assert build_pool(tmp_path, config, progress=False) == 5
    (tmp_path / CLIP_FOLDER / "clip_00002.mp4").unlink()  # as if killed mid-build
    assert build_pool(tmp_path, config, progress=False) == 1
    assert build_pool(tmp_path, config, progress=False) == 0
    assert (tmp_path / "manifest.csv").read_text().count("\n") == 6
    with pytest.raises(ValueError, match="already holds a pool built with"):
        build_pool(tmp_path, PoolConfig(num_clips=5, seed=1), progress=False)


def test_a_pool_rendered_by_older_code_is_not_silently_reused(tmp_path, monkeypatch):
    config = PoolConfig(num_clips=2, seed=0)
    build_pool(tmp_path, config, progress=False)
    monkeypatch.setattr(pool, "rendering_fingerprint", lambda config: "changed-code")
    with pytest.raises(ValueError, match="older rendering code.*rm -r"):
        build_pool(tmp_path, config, progress=False)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"latent_correlation": -1.0}, "latent_correlation"),
        ({"motion_artefact_share": 2.0}, "motion_artefact_share"),
        ({"num_clips": 0}, "num_clips"),
    ],
)
def test_pool_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PoolConfig(**kwargs)


def test_golden_share_implied_by_correlation_matches_the_copula():
    from tqd_lite.tqd.dilemma import golden_share_from_correlation

    assert golden_share_from_correlation(0.0) == pytest.approx(0.25)
    # simulate: Gaussian copula with latent rho, median thresholds
    rng = np.random.default_rng(0)
    z = rng.multivariate_normal([0, 0], [[1, -0.5], [-0.5, 1]], size=200_000)
    share = np.mean((z[:, 0] > 0) & (z[:, 1] > 0))
    spearman = stats.spearmanr(z[:, 0], z[:, 1])[0]
    assert golden_share_from_correlation(spearman) == pytest.approx(share, abs=0.005)


def test_measurement_agreement_compares_scores_with_the_manifest_knobs(tmp_path):
    from tqd_lite.quality.corpus import score_folder
    from tqd_lite.tqd.dilemma import measurement_agreement

    build_pool(tmp_path, PoolConfig(num_clips=60, seed=2), progress=False)
    raw, _ = score_folder(tmp_path / CLIP_FOLDER, 8, 16, progress=False)
    agreement = measurement_agreement(normalise_and_split(raw), tmp_path)
    assert agreement["spearman_visual_knob_vq"] > 0.7 and agreement["spearman_motion_knob_mq"] > 0.5
    assert 0.0 <= agreement["golden_with_both_knobs_high"] <= 1.0


def test_the_rendering_fingerprint_follows_what_a_clip_looks_like_not_the_code_text(monkeypatch):
    config = pool.PoolConfig(num_clips=4)
    before = pool.rendering_fingerprint(config)
    assert pool.rendering_fingerprint(config) == before  # a pure function of what decides the pool
    assert pool.rendering_fingerprint(pool.PoolConfig(num_clips=5)) != before
    # the same pixels from other code (a moved or reformatted module): nothing to redo
    original = pool.PoolClip.render
    monkeypatch.setattr(pool.PoolClip, "render", lambda self: original(self).clone())
    assert pool.rendering_fingerprint(config) == before
    # other pixels (a change in rendering): the pool is stale
    monkeypatch.setattr(pool.PoolClip, "render", lambda self: original(self) * 0.9)
    assert pool.rendering_fingerprint(config) != before


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the OpenBLAS core types named are x86-64's")
def test_the_pool_is_the_same_whatever_blas_kernels_the_cpu_picks():
    """numpy's ``multivariate_normal`` takes an SVD through the BLAS: OpenBLAS's SSE and AVX2 kernels
    drew knobs a few ulps apart, which changed the rendering fingerprint, so a pool built on one
    CPU was refused on another (and the sample's recorded fingerprint failed on AVX-512 CPUs)."""
    code = "from tqd_lite.world.pool import *; print(rendering_fingerprint(PoolConfig(num_clips=48)))"
    printed = {
        core: subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "OPENBLAS_CORETYPE": core},
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        for core in ("Nehalem", "Haswell")
    }  # fmt: skip
    recorded = json.loads((data_dir() / "sample" / "pool.json").read_text())["rendering"]
    assert printed == {"Nehalem": recorded, "Haswell": recorded}
