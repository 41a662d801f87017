"""The host-architecture switch for local deploys: LWK_BUNDLING_ARCH=host (stacks/shared/bundling.py).

Off (the default, for AWS): arm64 functions and arm64 wheels, the templates the snapshots hold. On:
every function declares this machine's architecture and its native wheels import here, which is
what an emulator that runs Lambda code on the host needs.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.shared import bundling
from tests.conftest import KitAssembly, synth_kit

ELF_MACHINES = {"x86_64": 62, "arm64": 183}


def _functions(kit: KitAssembly) -> dict[str, dict]:
    return {
        f"{workload}/{logical_id}": resource["Properties"]
        for workload, template in kit.templates.items()
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def _elf_machine(library: Path) -> int:
    return int.from_bytes(library.read_bytes()[18:20], "little")


@pytest.fixture(scope="module")
def host_kit(tmp_path_factory: pytest.TempPathFactory) -> KitAssembly:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(bundling.BUNDLING_ARCH_VARIABLE, bundling.HOST_ARCH)
        return synth_kit(tmp_path_factory.mktemp("host-cdk.out"), nag=False)


def test_by_default_every_function_is_arm64(kit: KitAssembly) -> None:
    assert os.environ.get(bundling.BUNDLING_ARCH_VARIABLE) is None
    architectures = {name: props.get("Architectures") for name, props in _functions(kit).items()}
    assert architectures and {tuple(a or ()) for a in architectures.values()} == {("arm64",)}, architectures


def test_host_switch_changes_architecture_and_asset_hash_only(kit: KitAssembly, host_kit: KitAssembly) -> None:
    host = bundling.target_arch({bundling.BUNDLING_ARCH_VARIABLE: bundling.HOST_ARCH})
    default_functions, host_functions = _functions(kit), _functions(host_kit)
    assert sorted(default_functions) == sorted(host_functions)
    for name, props in host_functions.items():
        assert props["Architectures"] == [host], name
        default = default_functions[name]
        # Python assets are rebuilt for the host (their hash names the platform); the bash one is not.
        if default["Runtime"].startswith("python"):
            assert props["Code"]["S3Key"] != default["Code"]["S3Key"], name
        unchanged = {k: v for k, v in props.items() if k not in {"Architectures", "Code"}}
        assert unchanged == {k: v for k, v in default.items() if k not in {"Architectures", "Code"}}, name


def test_host_assets_import_their_native_wheels_here(host_kit: KitAssembly) -> None:
    host = bundling.target_arch({bundling.BUNDLING_ARCH_VARIABLE: bundling.HOST_ARCH})
    checked = 0
    for template in host_kit.templates.values():
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::Lambda::Function" or not resource["Properties"]["Runtime"].startswith(
                "python"
            ):
                continue
            asset = host_kit.outdir / f"asset.{resource['Properties']['Code']['S3Key'].removesuffix('.zip')}"
            for library in asset.rglob("*.so"):
                assert _elf_machine(library) == ELF_MACHINES[host], library
            # Each package that ships a native library imports here, from the asset alone.
            for package in sorted({p.relative_to(asset).parts[0] for p in asset.rglob("*.so")}):
                name = package.removesuffix(".libs")
                if not (asset / name).is_dir():
                    continue  # a wheel's bundled shared libraries, loaded by their package
                code = f"import sys; sys.path.insert(0, {str(asset)!r}); import {name}"
                result = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False)
                assert result.returncode == 0, f"{name}: {result.stderr[-2000:]}"
                checked += 1
    if not checked:
        pytest.skip("no function asset ships a native library: nothing to import")


def test_switch_values_are_checked() -> None:
    assert bundling.target_arch({}) == "arm64"
    with pytest.raises(bundling.BundlingError, match="allowed are 'host'"):
        bundling.target_arch({bundling.BUNDLING_ARCH_VARIABLE: "x86"})


def test_host_switch_refuses_a_host_lambda_wheels_cannot_run_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    with pytest.raises(bundling.BundlingError, match="needs Linux"):
        bundling.target_arch({bundling.BUNDLING_ARCH_VARIABLE: bundling.HOST_ARCH})
