"""The synth cache never hands out a template older than its inputs: every input is in the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import synth_cache


@pytest.fixture
def app_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in repository holding one file of each kind of app source."""
    for relative in ("app.py", "cdk.json", "stacks/shared/thing.py", "lambdas/work/lwk_work/handlers.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(f"# {relative}\n")
    monkeypatch.setattr(synth_cache, "REPO_ROOT", tmp_path)
    return tmp_path


def _key(**overrides: str) -> str:
    return synth_cache.cache_key(nag=False, overrides=overrides)


@pytest.mark.parametrize(
    "relative", ["app.py", "cdk.json", "stacks/shared/thing.py", "lambdas/work/lwk_work/handlers.py"]
)
def test_an_edit_to_any_app_source_changes_the_key(app_tree: Path, relative: str) -> None:
    before = _key()
    (app_tree / relative).write_text("# edited\n")
    assert _key() != before, f"an edit to {relative} must make a new synth"


def test_a_new_or_removed_file_changes_the_key_and_bytecode_does_not(app_tree: Path) -> None:
    before = _key()
    cache = app_tree / "stacks" / "shared" / "__pycache__"
    cache.mkdir()
    (cache / "thing.cpython-313.pyc").write_bytes(b"\0")
    assert _key() == before, "compiled bytecode is not an input"
    (app_tree / "stacks" / "new.py").write_text("")
    assert _key() != before
    (app_tree / "stacks" / "new.py").unlink()
    assert _key() == before


def test_the_environment_the_app_reads_the_overrides_and_nag_change_the_key(
    app_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _key()
    assert _key(**{"kit.profile": "hardened"}) != before
    assert synth_cache.cache_key(nag=True, overrides={}) != before
    for name in ("CDK_DEFAULT_ACCOUNT", "LWK_BUNDLING_ARCH", "AWS_REGION"):
        with monkeypatch.context() as patch:
            patch.setenv(name, "x")
            assert _key() != before, name
    monkeypatch.setenv("UNRELATED_SETTING", "x")
    assert _key() == before


def test_the_kit_fixture_comes_from_the_cache_with_its_assets_linked(kit: synth_cache.KitAssembly) -> None:
    manifest = json.loads((kit.outdir / "manifest.json").read_text())
    assert manifest["artifacts"], "the cached assembly has no artifacts"
    assets = list(kit.outdir.glob("asset.*"))
    assert assets and all(a.is_symlink() and a.resolve().parent == synth_cache.ASSETS.resolve() for a in assets)
    assert all(a.resolve().is_dir() or a.resolve().is_file() for a in assets)


def test_prune_removes_old_entries_and_the_assets_only_they_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, assets = tmp_path / "synth", tmp_path / "synth" / "assets"
    monkeypatch.setattr(synth_cache, "CACHE", cache)
    monkeypatch.setattr(synth_cache, "ASSETS", assets)
    for name in ("asset.kept", "asset.orphan"):
        (assets / name).mkdir(parents=True)
    fresh, old = cache / "fresh", cache / "old"
    for entry, asset in ((fresh, "asset.kept"), (old, "asset.orphan")):
        entry.mkdir()
        (entry / asset).symlink_to(assets / asset)
    now = fresh.stat().st_mtime
    synth_cache.prune(now=now + synth_cache.KEEP_UNUSED_SECONDS / 2)
    assert fresh.exists() and old.exists()
    os.utime(old, (now - synth_cache.KEEP_UNUSED_SECONDS, now - synth_cache.KEEP_UNUSED_SECONDS))
    synth_cache.prune(now=now + 1)
    assert fresh.exists() and not old.exists()
    assert (assets / "asset.kept").exists() and not (assets / "asset.orphan").exists()


def test_prune_keeps_a_synth_another_process_is_still_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A copy of the repository (tests/test_forking.py) shares this cache: its session's start must
    # not remove what a running session is writing, only what a finished one abandoned.
    cache = tmp_path / "synth"
    monkeypatch.setattr(synth_cache, "CACHE", cache)
    monkeypatch.setattr(synth_cache, "ASSETS", cache / "assets")
    dead = _finished_pid()
    running, abandoned = cache / f"key.{os.getpid()}.partial", cache / f"key.{dead}.partial"
    for entry in (running, abandoned):
        entry.mkdir(parents=True)
    synth_cache.prune()
    assert running.exists() and not abandoned.exists()


def _finished_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_prune_leaves_the_cache_alone_while_another_session_uses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "synth"
    monkeypatch.setattr(synth_cache, "CACHE", cache)
    monkeypatch.setattr(synth_cache, "ASSETS", cache / "assets")
    (cache / "assets" / "asset.orphan").mkdir(parents=True)
    # Another session (here a child process) holds the cache's session lock, shared.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_SH); "
         "print('held', flush=True); time.sleep(30)", str(cache / synth_cache.SESSION_LOCK_NAME)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        synth_cache.prune()
        assert (cache / "assets" / "asset.orphan").exists()
    finally:
        holder.kill()
        holder.wait()
    synth_cache.prune()  # alone now
    assert not (cache / "assets" / "asset.orphan").exists()


def test_shared_assets_are_linked_by_their_real_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A repository copy reaches the store through its own `.cache` link; an entry it writes outlives
    # the copy, so its links must not go through that link.
    real = tmp_path / "real-cache"
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / ".cache").symlink_to(real, target_is_directory=True)
    real.mkdir()
    monkeypatch.setattr(synth_cache, "ASSETS", tmp_path / "copy" / ".cache" / "assets")
    outdir = tmp_path / "out"
    (outdir / "asset.abc").mkdir(parents=True)
    (outdir / "asset.abc" / "handler.py").write_text("")
    synth_cache.share_assets(outdir)
    assert os.readlink(outdir / "asset.abc") == str(real / "assets" / "asset.abc")


def test_an_entry_whose_assets_are_gone_is_synthesized_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = tmp_path / "entry"
    entry.mkdir()
    (entry / "asset.gone").symlink_to(tmp_path / "no-such-copy" / "asset.gone")
    assert synth_cache._has_dangling_assets(entry)
    (entry / "asset.gone").unlink()
    (tmp_path / "asset.here").mkdir()
    (entry / "asset.here").symlink_to(tmp_path / "asset.here")
    assert not synth_cache._has_dangling_assets(entry)
