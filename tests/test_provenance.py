"""A result's commit, also on a machine that received the working tree without its ``.git``."""

import subprocess

import pytest

from tqd_lite import provenance
from tqd_lite.paths import REPO_ROOT


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout


def test_blob_hash_is_gits_object_id():
    path = REPO_ROOT / "tqd_lite" / "provenance.py"
    assert provenance.git_blob_hash(path.read_bytes()) == git("hash-object", str(path)).strip()


@pytest.fixture
def manifest(tmp_path):
    """The manifest a device run carries: the commit, then ``git ls-files -s tqd_lite``."""
    path = tmp_path / "source.txt"
    path.write_text(git("rev-parse", "--short", "HEAD") + git("ls-files", "-s", "tqd_lite"))
    return path


def test_manifest_names_the_commit_and_whether_the_library_differs(manifest):
    dirty = bool(git("status", "--porcelain", "--", "tqd_lite").strip())
    commit = git("rev-parse", "--short", "HEAD").strip()
    assert provenance._manifest_commit(manifest) == commit + ("+dirty" if dirty else "")


def test_manifest_with_one_changed_file_is_dirty(manifest):
    head, *lines = manifest.read_text().splitlines()
    mode, blob, rest = lines[0].split(" ", 2)
    manifest.write_text("\n".join([head, f"{mode} {'0' * 40} {rest}", *lines[1:]]) + "\n")
    assert provenance._manifest_commit(manifest).endswith("+dirty")


def test_a_named_manifest_wins_over_git(manifest, monkeypatch):
    monkeypatch.setenv(provenance.SOURCE_MANIFEST, str(manifest))
    head, *lines = manifest.read_text().splitlines()
    manifest.write_text("\n".join(["0000000", *lines]) + "\n")  # another commit than git's HEAD
    assert provenance._git_commit().startswith("0000000")
