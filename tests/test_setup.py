"""The set-up files agree with each other: pyproject, environment.yml, README, Makefile, CI."""

import re
from pathlib import Path

import pytest
import tomllib
import yaml
from packaging.requirements import Requirement

from tqd_lite.profiles import PROFILES, get_profile
from tqd_lite.quality.targets import MIN_TARGET_CLIPS

ROOT = Path(__file__).resolve().parents[1]


def _normalised(requirements) -> set[str]:
    out = set()
    for line in requirements:
        r = Requirement(line)
        out.add(f"{r.name.lower()}{r.specifier};{r.marker}" if r.marker else f"{r.name.lower()}{r.specifier}")
    return out


def test_environment_yml_lists_the_same_packages_and_ranges_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _normalised(project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_block = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _normalised(line for line in pip_block if not line.startswith("-e")) == declared
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.removeprefix("python") == project["requires-python"]


def test_ranges_not_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        assert "==" not in str(Requirement(line).specifier), f"pinned dependency in pyproject.toml: {line}"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^make (\w+)\s*(?:#.*)?$", readme, flags=re.M)
    assert "test" in commands and "reproduce" in commands
    ci = [
        line
        for line in (ROOT / ".ci/run").read_text().splitlines()
        if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert ci == ["make test"]


def test_profiles_and_unknown_profile_error(monkeypatch):
    assert get_profile("quick").frame_size < get_profile("full").frame_size
    monkeypatch.setenv("TQD_PROFILE", "full")
    assert get_profile() is PROFILES["full"]
    with pytest.raises(ValueError, match="unknown profile 'huge'.*expected one of"):
        get_profile("huge")


def test_every_profile_evaluates_a_training_run_on_enough_clips_for_the_targets():
    # targets-curve measures a run's evaluation samples against the targets afterwards
    for profile in PROFILES.values():
        assert profile.eval_clips >= MIN_TARGET_CLIPS, profile.name


def test_only_the_optional_sizes_of_a_profile_may_be_zero():
    quick = PROFILES["quick"]
    assert quick.with_overrides(validation_clips=0).validation_clips == 0  # 0: no validation loss
    with pytest.raises(ValueError, match="Profile.validation_clips is out of range: -1"):
        quick.with_overrides(validation_clips=-1)
    with pytest.raises(ValueError, match="Profile.eval_clips is out of range: 0"):
        quick.with_overrides(eval_clips=0)


def test_readme_profile_table_matches_the_profiles():
    readme = (ROOT / "README.md").read_text()
    for name, profile in PROFILES.items():
        row = re.search(
            rf"^\| `{name}` \| (\d+)x(\d+)x(\d+) \| (\d+) clips \| "
            rf"`([\w-]+)` \| (\d+) steps of (\d+) clips, (half) on single frames first, "
            rf"(uniform timesteps|timesteps from a logit-normal of mean [\d.]+), "
            rf"(\d+) samples every (\d+) steps \| "
            rf"(\d+) timesteps x (\d+) pairs of (\d+)-clip batches, strengths? ([\d., ]+) \| "
            rf"(\d+) frame steps, then (\d+) steps of (\d+) clips from a pool of (\d+), (\d+) samples, "
            rf"seeds ([\d, ]+) \(variants ([\d, ]+)\) \| "
            rf"(\d+) steps of (\d+) clips, (\d+) samples, seeds ([\d, ]+) \(variants ([\d, ]+)\) \|",
            readme,
            flags=re.M,
        )
        assert row, f"no README row for profile {name}"
        h, w, f, pool, preset, steps, batch, share, timesteps, eval_clips, eval_every, *rest = row.groups()
        grad_t, grad_pairs, grad_batch, strengths, *tqd = rest
        assert (int(h), int(w), int(f), int(pool)) == (
            profile.frame_size,
            profile.frame_size,
            profile.num_frames,
            profile.pool_size,
        )
        assert (preset, int(steps), int(batch), {"half": 0.5}[share]) == (
            profile.model_preset,
            profile.train_steps,
            profile.train_batch_size,
            profile.train_frame_share,
        )
        mean = profile.train_logit_mean
        assert timesteps == (
            "uniform timesteps" if mean is None else f"timesteps from a logit-normal of mean {mean:g}"
        )
        assert (int(eval_clips), int(eval_every)) == (profile.eval_clips, profile.eval_every)
        assert (int(grad_t), int(grad_pairs), int(grad_batch)) == (
            len(profile.grad_timesteps),
            profile.grad_pairs,
            profile.grad_batch_size,
        )
        assert tuple(float(x) for x in strengths.split(",")) == profile.grad_strengths
        tqd_base, tqd_steps, tqd_batch, tqd_pool, tqd_samples, tqd_seeds, tqd_variant_seeds, *mcm = tqd
        assert (int(tqd_base), int(tqd_steps), int(tqd_batch), int(tqd_pool), int(tqd_samples)) == (
            profile.tqd_base_steps,
            profile.tqd_steps,
            profile.tqd_batch_size,
            profile.tqd_pool_size,
            profile.tqd_eval_clips,
        )
        assert tuple(int(x) for x in tqd_seeds.split(",")) == profile.tqd_seeds
        assert tuple(int(x) for x in tqd_variant_seeds.split(",")) == profile.tqd_variant_seeds
        mcm_steps, mcm_batch, mcm_samples, mcm_seeds, mcm_variant_seeds = mcm
        assert (int(mcm_steps), int(mcm_batch), int(mcm_samples)) == (
            profile.mcm_steps,
            profile.mcm_batch_size,
            profile.mcm_eval_clips,
        )
        assert tuple(int(x) for x in mcm_seeds.split(",")) == profile.mcm_seeds
        assert tuple(int(x) for x in mcm_variant_seeds.split(",")) == profile.mcm_variant_seeds
