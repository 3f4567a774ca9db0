"""Timestep policies against closed forms: TQD's Beta moments, uniform and base-sampler limits,
the direction of the shift, quality dropout's expected share, the hard gate, SANA-Video 2.0's
logit offsets, the marginal-matched shuffle, bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from tqd_lite.tqd.experiments import ARMS
from tqd_lite.tqd.sampler import (
    LATER_FIELDS,
    TimestepPolicy,
    base_quantile,
    beta_density,
    keep_probability,
    to_ddpm_timesteps,
    tqd_beta_parameters,
)

N = 100_000


def draws(policy: TimestepPolicy, mq: float, vq: float, n: int = N, seed: int = 0) -> np.ndarray:
    g = torch.Generator().manual_seed(seed)
    return policy.noise_levels(torch.full((n,), mq), torch.full((n,), vq), g).numpy()


def logit_normal_cdf(s: np.ndarray, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    return stats.norm.cdf((np.log(s) - np.log1p(-s) - mean) / std)


@pytest.mark.parametrize("mq, vq", [(0.9, 0.1), (0.3, 0.7), (0.5, 0.5), (1.0, 0.0)])
def test_tqd_levels_have_the_betas_mean_and_variance(mq, vq):
    policy = TimestepPolicy(sampler="tqd", kappa_base=2.0, kappa_max=8.0)
    levels = draws(policy, mq, vq)
    # mu = 0.5 + 0.5 (mq - vq), clamped to [0.01, 0.99]; kappa = 2 + 6 |mq - vq|
    mu = min(max(0.5 + 0.5 * (mq - vq), 0.01), 0.99)
    kappa = 2.0 + 6.0 * abs(mq - vq)
    variance = mu * (1 - mu) / (kappa + 1)
    assert levels.mean() == pytest.approx(mu, abs=4 * np.sqrt(variance / N))
    assert levels.var() == pytest.approx(variance, rel=0.03)
    assert levels.min() >= 0 and levels.max() < 1


def test_the_most_lopsided_clips_pile_up_at_the_end_of_the_schedule():
    # mq = 1, vq = 0: Beta(7.92, 0.08); with beta < 1 the density has a pole at pure noise
    timesteps, _ = TimestepPolicy(sampler="tqd")(
        torch.ones(20_000), torch.zeros(20_000), torch.Generator().manual_seed(0)
    )
    share_last = (timesteps == 999).float().mean().item()
    # P(s >= 0.999) under Beta(7.92, 0.08), the formula as published
    assert share_last == pytest.approx(stats.beta.sf(0.999, 7.92, 0.08), abs=0.02)
    assert share_last > 0.5


def test_balanced_clips_with_kappa_base_2_are_uniform():
    levels = draws(TimestepPolicy(sampler="tqd", kappa_base=2.0), 0.3, 0.3, n=20_000)
    assert stats.kstest(levels, "uniform").pvalue > 0.01


def test_reading_b_gives_balanced_clips_exactly_the_base_sampler():
    policy = TimestepPolicy(sampler="tqd", reading="B", base="logit_normal", logit_mean=-0.5, logit_std=1.2)
    levels = draws(policy, 0.6, 0.6, n=20_000)
    result = stats.kstest(levels, lambda s: logit_normal_cdf(s, -0.5, 1.2))
    assert result.pvalue > 0.01
    base = draws(TimestepPolicy(sampler="logit_normal", logit_mean=-0.5, logit_std=1.2), 0.6, 0.6, n=20_000)
    assert stats.ks_2samp(levels, base).pvalue > 0.01  # diffusers' own logit-normal draw
    # and reading A of the same policy is not the base (it is uniform)
    assert stats.kstest(draws(TimestepPolicy(sampler="tqd"), 0.6, 0.6, n=20_000), "uniform").pvalue > 0.01


def test_kappa_base_4_is_close_to_logit_normal_0_1():
    # a check of the fact docs/papers.md states (not of library code): what kappa_base = 4 gives a
    # balanced clip, Beta(2, 2), is within a KS distance of about 0.02 of logit-normal(0, 1)
    s = np.linspace(1e-4, 1 - 1e-4, 20_001)
    distance = np.abs(stats.beta.cdf(s, 2, 2) - logit_normal_cdf(s)).max()
    assert 0.01 < distance < 0.03


def test_base_quantile_inverts_the_logit_normal_cdf():
    u = torch.linspace(0.01, 0.99, 99, dtype=torch.float64)
    s = base_quantile(u, "logit_normal", 0.3, 0.8).numpy()
    assert np.allclose(logit_normal_cdf(s, 0.3, 0.8), u.numpy(), atol=1e-9)
    assert torch.equal(base_quantile(u, "uniform"), u)


def test_motion_rich_clips_get_noisier_timesteps_than_visually_rich_ones():
    policy = TimestepPolicy(sampler="tqd")
    g = torch.Generator().manual_seed(1)
    mq = torch.tensor([0.9, 0.1] * 5000)
    vq = torch.tensor([0.1, 0.9] * 5000)
    timesteps, _ = policy(mq, vq, g)
    motion_rich, visual_rich = timesteps[0::2].float(), timesteps[1::2].float()
    # Beta(0.9 * 6.8, 0.1 * 6.8): mean 0.9, so about t = 900 vs t = 100
    assert motion_rich.mean() == pytest.approx(900, abs=10)
    assert visual_rich.mean() == pytest.approx(100, abs=10)
    for reading in ("A", "B"):
        levels = TimestepPolicy(sampler="tqd", reading=reading, base="logit_normal").noise_levels(mq, vq, g)
        assert levels[0::2].median() > 0.5 > levels[1::2].median()


def test_sharper_peaks_for_larger_gaps():
    policy = TimestepPolicy(sampler="tqd", kappa_base=2.0, kappa_max=16.0)
    alpha, beta = tqd_beta_parameters(
        torch.tensor([0.55, 0.7, 0.9]), torch.tensor([0.45, 0.3, 0.1]), policy.kappa_base, policy.kappa_max
    )
    kappa = alpha + beta
    assert torch.allclose(kappa, torch.tensor([3.4, 7.6, 13.2]))  # 2 + 14 |gap|
    variances = [draws(policy, m, v, n=20_000).var() for m, v in [(0.55, 0.45), (0.7, 0.3), (0.9, 0.1)]]
    assert variances[0] > variances[1] > variances[2]


def test_beta_density_is_the_closed_form_of_the_draws():
    policy = TimestepPolicy(sampler="tqd")
    levels = draws(policy, 0.8, 0.3)
    counts, edges = np.histogram(levels, bins=20, range=(0, 1), density=True)
    inside = np.linspace(edges[:-1], edges[1:], 101)  # (101, bins): the density averaged over each bin
    expected = beta_density(policy, 0.8, 0.3, inside).mean(axis=0)
    assert np.allclose(counts, expected, atol=0.05)


def test_hard_dropout_keeps_the_expected_share():
    mq = torch.tensor([0.9, 0.2, 0.1, 0.6])
    vq = torch.tensor([0.1, 0.3, 0.05, 0.6])
    policy = TimestepPolicy(dropout="hard")
    g = torch.Generator().manual_seed(2)
    kept = torch.stack([policy.loss_weights(mq, vq, g) for _ in range(20_000)])
    assert set(kept.unique().tolist()) <= {0.0, 1.0}
    assert torch.allclose(kept.mean(0), keep_probability(mq, vq), atol=0.015)  # 0.9, 0.3, 0.1, 0.6


def test_mean_one_weights_are_the_keep_probability_over_its_mean():
    mq = torch.tensor([0.9, 0.2, 0.1, 0.6])
    vq = torch.tensor([0.1, 0.3, 0.05, 0.6])
    weights = TimestepPolicy(dropout="mean_one").loss_weights(mq, vq)
    assert weights.sum().item() == pytest.approx(4.0)
    assert torch.allclose(weights, torch.tensor([0.9, 0.3, 0.1, 0.6]) / 0.475)
    assert torch.equal(TimestepPolicy().loss_weights(mq, vq), torch.ones(4))


def test_the_hard_gate_splits_the_schedule():
    policy = TimestepPolicy(sampler="hard_gate", gate_level=0.4)
    mq = torch.tensor([0.9, 0.1, 0.8, 0.2] * 2000)
    vq = torch.tensor([0.1, 0.9, 0.8, 0.2] * 2000)  # motion-rich, visually rich, golden, poor
    levels = policy.noise_levels(mq, vq, torch.Generator().manual_seed(0))
    motion, visual, golden, poor = (levels[i::4] for i in range(4))
    assert motion.min() >= 0.4 and visual.max() < 0.4
    for both in (golden, poor):
        assert both.min() < 0.05 and both.max() > 0.95


def test_logit_offsets_move_the_medians_of_motion_rich_and_visually_rich_clips():
    """SANA-Video 2.0: +-1.1 on the logit gives medians of about 0.75 and 0.25 (docs/papers.md)."""
    policy = TimestepPolicy(sampler="logit_offset", logit_mean=0.3)
    mq = torch.tensor([0.9, 0.1, 0.8, 0.2] * 5000)
    vq = torch.tensor([0.1, 0.9, 0.8, 0.2] * 5000)  # motion-rich, visually rich, golden, poor
    levels = policy.noise_levels(mq, vq, torch.Generator().manual_seed(0)).numpy()
    for cls, offset in enumerate((1.1, -1.1, 0.0, 0.0)):
        assert stats.kstest(levels[cls::4], lambda s, m=0.3 + offset: logit_normal_cdf(s, m)).pvalue > 0.01
    at_zero = TimestepPolicy(sampler="logit_offset").noise_levels(mq, vq, torch.Generator().manual_seed(1))
    medians = [float(at_zero[cls::4].median()) for cls in range(2)]
    assert medians == pytest.approx([0.75, 0.25], abs=0.01)


def test_the_shuffled_assignment_draws_each_clip_from_the_other_clips_scores():
    """The marginal-matched control: clip i's expected level is the mean of the others' Beta means."""
    mq, vq = torch.tensor([0.9, 0.1, 0.5, 0.7]), torch.tensor([0.1, 0.9, 0.5, 0.2])
    mu = (0.5 + 0.5 * (mq - vq)).double()  # each clip's own Beta mean (none clamped here)
    draws_n, drawn = 4000, {}
    for assignment, expected in (("own", mu), ("shuffled", (mu.sum() - mu) / 3)):
        policy = TimestepPolicy(sampler="tqd", assignment=assignment)
        levels = torch.stack(
            [policy.noise_levels(mq, vq, torch.Generator().manual_seed(k)) for k in range(draws_n)]
        )
        spread = levels.std(0) / draws_n**0.5
        assert torch.all((levels.mean(0) - expected).abs() < 4 * spread), (assignment, levels.mean(0))
        drawn[assignment] = levels.flatten().numpy()
    # the same levels over the batch as a whole: only which clip gets which changed
    assert stats.ks_2samp(drawn["own"], drawn["shuffled"]).pvalue > 0.01


def test_the_shuffle_keeps_each_clips_own_dropout():
    policy = TimestepPolicy(sampler="tqd", dropout="mean_one", assignment="shuffled")
    mq, vq = torch.tensor([0.9, 0.1, 0.2]), torch.tensor([0.1, 0.2, 0.1])
    _, weights = policy(mq, vq, torch.Generator().manual_seed(0))
    keep = torch.maximum(mq, vq)
    assert torch.allclose(weights, (keep / keep.mean()).float())


def test_the_recorded_tqd_arms_still_name_todays_policies():
    """Fields added since (assignment, logit_offset) are left out of a record at their defaults."""
    summary = Path(__file__).resolve().parents[1] / "results" / "full" / "tqd_short" / "summary.json"
    recorded = json.loads(summary.read_text())["policies"]
    assert recorded and all(arm.policy.to_dict() == recorded[arm.key] for arm in ARMS if arm.key in recorded)
    defaults = TimestepPolicy()
    assert all(getattr(defaults, field) == value for field, value in LATER_FIELDS.items())
    shuffled = TimestepPolicy(sampler="tqd", assignment="shuffled").to_dict()
    assert shuffled["assignment"] == "shuffled" and TimestepPolicy(**shuffled).assignment == "shuffled"


def test_policies_that_ignore_the_scores_accept_unscored_clips():
    unscored = torch.full((4,), float("nan"))
    timesteps, weights = TimestepPolicy(sampler="logit_normal")(unscored, unscored)
    assert timesteps.shape == (4,) and torch.equal(weights, torch.ones(4))
    with pytest.raises(ValueError, match="mq contains NaN"):
        TimestepPolicy(dropout="hard")(unscored, unscored)


def test_uniform_policy_is_ddpms_own_draw():
    mq = vq = torch.full((16,), 0.5)
    timesteps, weights = TimestepPolicy()(mq, vq, torch.Generator().manual_seed(7))
    assert torch.equal(timesteps, torch.randint(0, 1000, (16,), generator=torch.Generator().manual_seed(7)))
    assert torch.equal(weights, torch.ones(16))


def test_ddpm_timesteps_cover_the_schedule_evenly():
    levels = torch.tensor([0.0, 0.0009, 0.001, 0.5, 0.9999999])
    assert to_ddpm_timesteps(levels).tolist() == [0, 0, 1, 500, 999]
    timesteps, _ = TimestepPolicy(sampler="tqd")(
        torch.full((N,), 0.5), torch.full((N,), 0.5), torch.Generator().manual_seed(0)
    )
    counts = torch.bincount(timesteps, minlength=1000).numpy()
    assert stats.chisquare(counts).pvalue > 0.001


def test_draws_are_a_pure_function_of_the_generator():
    policy = TimestepPolicy(sampler="tqd", dropout="hard")
    mq, vq = torch.rand(32), torch.rand(32)
    first = policy(mq, vq, torch.Generator().manual_seed(5))
    second = policy(mq, vq, torch.Generator().manual_seed(5))
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize(
    "mq, vq, message",
    [
        ([0.2, 1.5], [0.1, 0.1], r"mq must be normalised scores in \[0, 1\]"),
        ([0.2, 0.5], [float("nan"), 0.1], "vq contains NaN at clips"),
        ([[0.2, 0.5]], [[0.1, 0.1]], r"mq must be one score per clip, shape \(B,\)"),
        ([0.2, 0.5], [0.1, 0.1, 0.3], "mq and vq must have one shape"),
    ],
)
def test_bad_scores_are_refused(mq, vq, message):
    with pytest.raises(ValueError, match=message):
        TimestepPolicy(sampler="tqd")(mq, vq)


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(kappa_base=8.0, kappa_max=4.0), r"kappa_max \(4.0\) must be >= kappa_base \(8.0\)"),
        (dict(kappa_base=0.0), "kappa_base must be positive"),
        (dict(kappa_base=-1.0, kappa_max=2.0), "kappa_base must be positive"),
        (dict(sampler="beta"), "sampler must be one of"),
        (dict(reading="C"), "reading must be one of"),
        (dict(dropout="soft"), "dropout must be one of"),
        (dict(gate_level=1.0), r"gate_level must be in \(0, 1\)"),
        (dict(sampler="uniform", assignment="shuffled"), "assignment='shuffled' needs a sampler that reads"),
        (dict(assignment="random"), "assignment must be one of"),
        (dict(logit_offset=float("inf")), "logit_offset must be a finite number"),
    ],
)
def test_bad_policies_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        TimestepPolicy(sampler=fields.pop("sampler", "tqd"), **fields)


def test_a_shuffle_needs_another_clip_in_the_batch():
    with pytest.raises(ValueError, match="needs batches of at least 2 clips"):
        TimestepPolicy(sampler="tqd", assignment="shuffled")(torch.tensor([0.5]), torch.tensor([0.5]))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32, torch.float64])
def test_flow_matching_levels_stay_below_one_in_the_models_dtype(dtype):
    """TQD sends motion-rich clips near pure noise: in float32, 1 - 1e-9 would round up to 1.0."""
    mq, vq = torch.ones(20_000), torch.zeros(20_000)
    policy = TimestepPolicy(sampler="tqd")
    levels, weights = policy.draw(mq, vq, generator=torch.Generator().manual_seed(0), dtype=dtype)
    assert levels.dtype == dtype and weights.dtype == torch.float32
    assert 0 <= levels.min() and levels.max() < 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_timesteps_and_weights_come_back_on_the_scores_device():
    mq, vq = torch.rand(8, device="cuda"), torch.rand(8, device="cuda")
    policy = TimestepPolicy(sampler="tqd", dropout="hard")
    for result in (*policy(mq, vq, generator=torch.Generator()), *policy.draw(mq, vq)):
        assert result.device == mq.device
