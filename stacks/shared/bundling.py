"""Python Lambda assets bundled on this machine, without Docker.

`python_code("name")` copies `lambdas/name/` (minus tests and caches) and pip-installs that folder's
own `requirements.txt` for Lambda's platform (arm64, CPython 3.13, manylinux wheels only) into the
asset. The asset hash is computed from the source files and the target platform alone, so it is
the same on every machine and unchanged by pip's output (wheel metadata, timestamps).

`LWK_BUNDLING_ARCH=host` (set by `make deploy-local`, never needed for AWS) bundles for this Linux
machine's own architecture instead, and `lambda_architecture()` gives the functions the same one: a
local emulator runs the Lambda code on the host, where arm64 wheels of native packages such as
`pydantic_core` cannot be imported on an x86_64 machine. An environment variable rather than a `kit`
setting, because it describes where the code runs, not the deployment, and cannot end up in cdk.json.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

from stacks.shared.build_cache import build_once

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"
# Installed dependencies are kept per requirements hash, so repeated synths do not run pip again.
DEPENDENCY_CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "lambda-dependencies"
REQUIREMENTS_FILE = "requirements.txt"

BUNDLING_ARCH_VARIABLE = "LWK_BUNDLING_ARCH"
HOST_ARCH = "host"

# Lambda's Python 3.13 platform; pip takes only wheels built for it. The kit runs on arm64 (Graviton).
_PIP_PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
_LAMBDA_ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}
_HOST_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
DEFAULT_ARCH = "arm64"

# `ops/`: a workload's operator commands (the destinations replay command), run from a laptop with
# the package's modules, never in Lambda.
_EXCLUDED_DIRS = {"__pycache__", "tests", ".pytest_cache", ".mypy_cache", "ops"}
_EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


class BundlingError(RuntimeError):
    """A Lambda source folder could not be bundled."""


def target_arch(environ: Mapping[str, str] | None = None) -> str:
    """`arm64` (Lambda's, the default) or, with `LWK_BUNDLING_ARCH=host`, this Linux machine's own."""
    environ = os.environ if environ is None else environ
    requested = environ.get(BUNDLING_ARCH_VARIABLE, "")
    if requested == "":
        return DEFAULT_ARCH
    if requested != HOST_ARCH:
        raise BundlingError(
            f"{BUNDLING_ARCH_VARIABLE}={requested!r}: allowed are {HOST_ARCH!r} (local emulators) or unset (AWS)"
        )
    system, machine = platform.system(), platform.machine().lower()
    if system != "Linux" or machine not in _HOST_MACHINES:
        # Lambda's wheels are manylinux wheels: a macOS or Windows host cannot import them anyway.
        raise BundlingError(
            f"{BUNDLING_ARCH_VARIABLE}={HOST_ARCH}: needs Linux on x86_64 or arm64, this is {system} {machine}"
        )
    return _HOST_MACHINES[machine]


def pip_platform_args(arch: str) -> tuple[str, ...]:
    return (
        "--platform", _PIP_PLATFORMS[arch],
        "--implementation", "cp",
        "--python-version", "3.13",
        "--only-binary=:all:",
    )  # fmt: skip


def lambda_architecture() -> lambda_.Architecture:
    """The architecture the bundled wheels were built for: what every Python function must declare."""
    return _LAMBDA_ARCHITECTURES[target_arch()]


def _included(relative: Path) -> bool:
    return (
        not _EXCLUDED_DIRS.intersection(relative.parts[:-1])
        and relative.suffix not in _EXCLUDED_SUFFIXES
        and not relative.name.startswith("test_")
        # A script beside the package (`python -m lambdas.<workload>.<script>`) is a command, not a handler.
        and not (len(relative.parts) == 1 and relative.suffix == ".py")
    )


def source_files(source_dir: Path) -> list[Path]:
    """The files of a Lambda source folder that belong in its asset, sorted."""
    return sorted(p for p in source_dir.rglob("*") if p.is_file() and _included(p.relative_to(source_dir)))


def source_hash(source_dir: Path, arch: str = DEFAULT_ARCH) -> str:
    digest = hashlib.sha256(" ".join(pip_platform_args(arch)).encode())
    for path in source_files(source_dir):
        digest.update(path.relative_to(source_dir).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _install_dependencies(requirements: Path, arch: str) -> Path:
    platform_args = pip_platform_args(arch)
    key = hashlib.sha256(requirements.read_bytes() + " ".join(platform_args).encode()).hexdigest()[:32]

    def install(staging: Path) -> None:
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
            "--requirement", str(requirements), "--target", str(staging), *platform_args,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BundlingError(f"pip could not install {requirements} for Lambda:\n{result.stderr.strip()}")

    return build_once(DEPENDENCY_CACHE_DIR / key, install)


def _link_or_copy(source: str, target: str) -> None:
    # Hard links make a synth into a fresh cdk.out cheap (botocore alone is thousands of files);
    # across file systems, copy.
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@jsii.implements(cdk.ILocalBundling)
class _LocalPythonBundling:
    def __init__(self, source_dir: Path, arch: str) -> None:
        self._source_dir = source_dir
        self._arch = arch

    def try_bundle(self, output_dir: str, *args: Any, **kwargs: Any) -> bool:
        output = Path(output_dir)
        requirements = self._source_dir / REQUIREMENTS_FILE
        if requirements.is_file():
            shutil.copytree(
                _install_dependencies(requirements, self._arch), output, dirs_exist_ok=True, copy_function=_link_or_copy
            )
        for path in source_files(self._source_dir):
            relative = path.relative_to(self._source_dir)
            if relative.name == REQUIREMENTS_FILE and len(relative.parts) == 1:
                continue
            (output / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, output / relative)
        return True


def python_code(name: str) -> lambda_.Code:
    """The asset for `lambdas/<name>/`, bundled locally with its own pinned requirements."""
    source_dir = LAMBDAS_DIR / name
    if not source_dir.is_dir():
        raise BundlingError(f"no Lambda source folder {source_dir}")
    arch = target_arch()
    return lambda_.Code.from_asset(
        str(source_dir),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=source_hash(source_dir, arch),
        bundling=cdk.BundlingOptions(
            # Never pulled: local bundling always succeeds or raises. CDK requires an image anyway.
            image=lambda_.Runtime.PYTHON_3_13.bundling_image,
            local=_LocalPythonBundling(source_dir, arch),
        ),
    )
