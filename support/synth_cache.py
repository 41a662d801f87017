"""Synthesize the kit's app once per distinct input, for every test worker and every run.

A synth is a pure function of the app's code (`stacks/`, `lambdas/`, `app.py`), `cdk.json`, the
overrides, the installed CDK packages and the environment the app reads (`CDK_*`, `LWK_*`, `AWS_*`).
The suite asks for the same few synths (the default profile, the hardened one, cdk-nag on and off)
from every pytest-xdist worker, and a second `make test` asks for them again unchanged. So the
cloud assembly is kept under `.cache/synth/<key>/`, keyed by a digest of all of those inputs; a
change to any file of the app makes a new key, so a test never reads a template older than the code.

A synth that cdk-nag fails is a result too: its assembly (with `validation-report.json`) and the
error text are kept, and every caller gets the same `RuntimeError` again. Any other error (a bad
setting, a bug) is raised and nothing is kept.

Bundled assets are large and shared by most keys: each is stored once under `.cache/synth/assets/`
and linked from the assemblies that use it.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.shared.build_cache import build_once
from support.paths import REPO_ROOT

CACHE = REPO_ROOT / ".cache" / "synth"
ASSETS = CACHE / "assets"
# What the app's templates are made from. `tests/` and `support/` are not: they only read templates.
APP_SOURCES = ("app.py", "cdk.json", "stacks", "lambdas")
PACKAGES = ("aws-cdk-lib", "constructs", "cdk-nag", "jsii")
# What the app and the CDK read from the environment (accounts, regions, the bundling platform).
ENVIRONMENT_PREFIXES = ("CDK_", "LWK_", "AWS_")
SYNTH_ERROR = "synth-error.txt"
# Entries not used for this long are removed by `prune` (assets no entry links to go with them).
KEEP_UNUSED_SECONDS = 3 * 24 * 3600


@dataclass(frozen=True)
class KitAssembly:
    """The synthesized app: templates by workload key (`order-intake`, ...) and the deploy identity's
    under `github` (stack `<app>-github`, per account, no stage in its name)."""

    outdir: Path
    templates: dict[str, dict[str, Any]]
    stack_names: dict[str, str]

    def template(self, workload: str) -> Any:
        from aws_cdk.assertions import Template

        return Template.from_json(self.templates[workload])


def cdk_json_context() -> dict[str, Any]:
    """The context `cdk synth` would see from cdk.json, without the CLI."""
    return dict(json.loads((REPO_ROOT / "cdk.json").read_text())["context"])


def _source_files() -> list[Path]:
    files: list[Path] = []
    for name in APP_SOURCES:
        path = REPO_ROOT / name
        if path.is_file():
            files.append(path)
        else:
            files.extend(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return sorted(files)


def cache_key(*, nag: bool, overrides: Mapping[str, Any]) -> str:
    """The digest of every input of a synth (see the module docstring)."""
    digest = hashlib.sha256()

    def add(label: str, value: bytes) -> None:
        digest.update(f"{label}:{len(value)}:".encode())
        digest.update(value)

    for path in _source_files():
        add(str(path.relative_to(REPO_ROOT)), path.read_bytes())
    add("synth_cache.py", Path(__file__).read_bytes())
    add("python", sys.version.encode())
    for package in PACKAGES:
        add(package, importlib.metadata.version(package).encode())
    environment = {k: v for k, v in sorted(os.environ.items()) if k.startswith(ENVIRONMENT_PREFIXES)}
    add("environment", json.dumps(environment).encode())
    add("overrides", json.dumps(dict(overrides), sort_keys=True, default=str).encode())
    add("nag", str(nag).encode())
    return digest.hexdigest()[:32]


def share_assets(outdir: Path) -> None:
    """Move each bundled asset to the shared store (once) and link it from `outdir`."""
    ASSETS.mkdir(parents=True, exist_ok=True)
    for asset in sorted(outdir.glob("asset.*")):
        if asset.is_symlink():
            continue
        stored = ASSETS / asset.name
        if stored.exists():
            shutil.rmtree(asset) if asset.is_dir() else asset.unlink()
        else:
            try:
                asset.rename(stored)
            except OSError:
                if not stored.exists():
                    raise
                shutil.rmtree(asset) if asset.is_dir() else asset.unlink()
        # The real path: a copy of the repository reaches this store through its own `.cache` link,
        # which is gone with the copy, while the entry stays for every later session.
        asset.symlink_to(stored.resolve())


def _synthesize(staging: Path, *, nag: bool, overrides: Mapping[str, Any]) -> None:
    from stacks.kit_app import create_app

    app = create_app(outdir=str(staging), context={**cdk_json_context(), **overrides}, nag=nag)
    try:
        app.synth()
    except RuntimeError as error:
        if "alidation" not in str(error):  # only cdk-nag's verdict is a result worth keeping
            raise
        (staging / SYNTH_ERROR).write_text(str(error))
    share_assets(staging)


def _has_dangling_assets(entry: Path) -> bool:
    """An entry linked to its assets through a path that is gone (a repository copy's `.cache`, from
    before links were resolved): unusable, so it is synthesized again."""
    return entry.is_dir() and any(link.is_symlink() and not link.exists() for link in entry.glob("asset.*"))


def _materialise(entry: Path, outdir: Path) -> None:
    """`outdir` as a cdk.out of its own: the entry's files copied, its assets linked."""
    outdir.mkdir(parents=True, exist_ok=True)
    for item in entry.iterdir():
        if item.name == SYNTH_ERROR:
            continue
        target = outdir / item.name
        if item.is_symlink():
            target.symlink_to(item.resolve())
        elif item.is_dir():
            shutil.copytree(item, target, symlinks=True)
        else:
            shutil.copy2(item, target)


def _read_assembly(outdir: Path) -> KitAssembly:
    from stacks.settings.common import APP_NAME

    manifest = json.loads((outdir / "manifest.json").read_text())
    prefix = f"{APP_NAME}-{cdk_json_context()['kit']['stage']}-"
    templates: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}
    for artifact in manifest["artifacts"].values():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        name = artifact["properties"].get("stackName") or artifact["displayName"]
        template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
        # `lwk-dev-order-intake` -> `order-intake`; the stage-less `lwk-github` -> `github`.
        key = name.removeprefix(prefix) if name.startswith(prefix) else name.removeprefix(f"{APP_NAME}-")
        if key in templates:
            raise ValueError(f"two stacks read as {key!r}: {names[key]} and {name}")
        templates[key], names[key] = template, name
    return KitAssembly(outdir=outdir, templates=templates, stack_names=names)


def synth_kit(outdir: Path, *, nag: bool, overrides: Mapping[str, Any] | None = None) -> KitAssembly:
    """The whole app synthesized with cdk.json's settings plus `overrides`, as a cdk.out at `outdir`.

    With `nag`, cdk-nag's findings raise `RuntimeError` (its report is in `outdir` all the same).
    """
    overrides = dict(overrides or {})
    entry = CACHE / cache_key(nag=nag, overrides=overrides)
    if _has_dangling_assets(entry):
        shutil.rmtree(entry, ignore_errors=True)
    build_once(entry, lambda staging: _synthesize(staging, nag=nag, overrides=overrides))
    os.utime(entry)  # in use: `prune` keeps it
    _materialise(entry, outdir)
    if (entry / SYNTH_ERROR).exists():
        raise RuntimeError((entry / SYNTH_ERROR).read_text())
    return _read_assembly(outdir)


SESSION_LOCK_NAME = "sessions.lock"
_SESSION_LOCKS: dict[Path, Any] = {}  # open lock files by cache folder, held until this process ends


def _hold_session_lock() -> bool:
    """Take the cache's lock alone if no other session holds it (then keep it shared): True if alone."""
    path = CACHE / SESSION_LOCK_NAME
    if (held := _SESSION_LOCKS.pop(path, None)) is not None:
        held.close()  # this process's own earlier hold (a test prunes twice) must not block it
    handle = path.open("a")
    _SESSION_LOCKS[path] = handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fcntl.flock(handle, fcntl.LOCK_SH)
        return False
    # Alone: prune, then hold it shared like every other session (a later exclusive taker waits or skips).
    return True


def _writer_alive(partial: Path) -> bool:
    """Whether the process named in `<key>.<pid>.partial` is still running."""
    pid = partial.name.removesuffix(".partial").rsplit(".", 1)[-1]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: running
    return True


def prune(now: float | None = None) -> None:
    """Remove entries unused for `KEEP_UNUSED_SECONDS`, then the assets no entry links to.

    Run once per test session, before any worker starts. Other sessions may share the cache (a copy
    of the repository links it, and its suite runs inside this one): each session holds a shared lock
    on it for its whole life, and the prune runs only when it can take the lock alone, so nothing is
    removed from under a session that is reading it."""
    if not CACHE.is_dir():
        return
    if not _hold_session_lock():
        return  # another session is using the cache: it prunes next time nobody is
    now = time.time() if now is None else now
    linked: set[str] = set()
    for entry in CACHE.iterdir():
        if (
            entry.suffix == ".lock"
            and entry.name != SESSION_LOCK_NAME
            and now - entry.stat().st_mtime > KEEP_UNUSED_SECONDS
        ):
            entry.unlink(missing_ok=True)
        if entry == ASSETS or not entry.is_dir():
            continue
        # A synth still being written by another session (a copy of the repository shares this cache)
        # stays, with its assets; one whose process is gone was abandoned.
        if entry.name.endswith(".partial") and not _writer_alive(entry):
            shutil.rmtree(entry, ignore_errors=True)
            continue
        if not entry.name.endswith(".partial") and (
            now - entry.stat().st_mtime > KEEP_UNUSED_SECONDS or _has_dangling_assets(entry)
        ):
            shutil.rmtree(entry, ignore_errors=True)
            continue
        linked.update(p.name for p in entry.glob("asset.*"))
    if ASSETS.is_dir():
        for asset in ASSETS.iterdir():
            if asset.name not in linked:
                shutil.rmtree(asset, ignore_errors=True) if asset.is_dir() else asset.unlink(missing_ok=True)
    fcntl.flock(_SESSION_LOCKS[CACHE / SESSION_LOCK_NAME], fcntl.LOCK_SH)
