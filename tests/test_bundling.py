"""Local bundling: the asset holds the handler and its pinned arm64 dependencies, nothing else."""

from __future__ import annotations

import json
import multiprocessing
import re
from pathlib import Path

import pytest

from stacks.shared.bundling import LAMBDAS_DIR, source_files, source_hash
from stacks.workloads import WORKLOADS, Workload
from tests.build_cache_worker import build_slowly
from tests.conftest import KitAssembly

ELF_MACHINE_AARCH64 = 183


def _function_assets(kit: KitAssembly, workload: str) -> dict[str, Path]:
    """Logical id -> unpacked asset folder of each Lambda function in a workload's stack."""
    assets = {}
    for logical_id, resource in kit.templates[workload]["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function" and "S3Key" in resource["Properties"].get("Code", {}):
            asset_hash = resource["Properties"]["Code"]["S3Key"].removesuffix(".zip")
            assets[logical_id] = kit.outdir / f"asset.{asset_hash}"
    return assets


def _pins(requirements: Path) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text().splitlines():
        if match := re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s#]+).*", line.strip()):
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def _installed(asset: Path) -> dict[str, str]:
    found = {}
    for dist_info in asset.glob("*.dist-info"):
        name, version = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)
        found[name.lower().replace("_", "-")] = version
    return found


PYTHON_WORKLOADS = [w for w in WORKLOADS if (LAMBDAS_DIR / w.python_name / "requirements.txt").is_file()]


@pytest.mark.parametrize("workload", PYTHON_WORKLOADS, ids=lambda w: w.key)
def test_each_python_asset_has_its_handler_code_and_pinned_dependencies(kit: KitAssembly, workload: Workload) -> None:
    assets = _function_assets(kit, workload.key)
    assert assets, f"{workload.key}: no function asset in its template"
    source = LAMBDAS_DIR / workload.python_name
    for asset in assets.values():
        for path in source_files(source):
            relative = path.relative_to(source)
            if relative.as_posix() != "requirements.txt":
                assert (asset / relative).read_bytes() == path.read_bytes(), relative
        installed = _installed(asset)
        for name, version in _pins(source / "requirements.txt").items():
            assert installed.get(name) == version, f"{name}=={version} not in the asset"


def test_assets_carry_no_tests_caches_or_requirements(kit: KitAssembly) -> None:
    for workload in kit.templates:
        for asset in _function_assets(kit, workload).values():
            unwanted = [
                p.relative_to(asset).as_posix()
                for p in asset.rglob("*")
                if p.name in {"__pycache__", "tests", ".pytest_cache"}
                or p.suffix in {".pyc", ".pyo"}
                or (p.parent == asset and (p.name.startswith("test_") or p.name == "requirements.txt"))
            ]
            assert unwanted == [], f"{workload}: {unwanted[:5]}"


def test_operator_commands_stay_out_of_every_asset(kit: KitAssembly) -> None:
    # Commands run from a laptop (`ops/`, a script beside the package) carry code Lambda never needs:
    # the destinations replay command, for one.
    for entry in WORKLOADS:
        source = LAMBDAS_DIR / entry.python_name
        commands = [
            p.relative_to(source) for p in source.rglob("*.py")
            if p.parent == source or "ops" in p.relative_to(source).parts
        ]  # fmt: skip
        for asset in _function_assets(kit, entry.key).values():
            shipped = [c.as_posix() for c in commands if (asset / c).exists()]
            assert shipped == [], f"{entry.key}: {shipped}"


def test_compiled_dependencies_are_built_for_lambda_arm64(kit: KitAssembly) -> None:
    for workload in kit.templates:
        for asset in _function_assets(kit, workload).values():
            for library in asset.rglob("*.so"):
                header = library.read_bytes()[:20]
                assert header[:4] == b"\x7fELF", library
                assert int.from_bytes(header[18:20], "little") == ELF_MACHINE_AARCH64, library


def test_source_hash_depends_on_sources_only(tmp_path: Path) -> None:
    (tmp_path / "handler.py").write_text("def handler(event, context):\n    return event\n")
    (tmp_path / "requirements.txt").write_text("boto3==1.44.8\n")
    first = source_hash(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "handler.cpython-313.pyc").write_bytes(b"cache")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_handler.py").write_text("def test(): pass\n")
    assert source_hash(tmp_path) == first
    (tmp_path / "requirements.txt").write_text("boto3==1.44.9\n")
    assert source_hash(tmp_path) != first


def test_asset_hashes_are_the_same_in_another_process(kit: KitAssembly, cli_synth: Path) -> None:
    # The CLI synthesized in its own process (and, on CI, with freshly pip-installed dependencies).
    for workload, stack_name in kit.stack_names.items():
        cli_template = json.loads((cli_synth / f"{stack_name}.template.json").read_text())
        assert {
            k: r["Properties"]["Code"]
            for k, r in cli_template["Resources"].items()
            if r["Type"] == "AWS::Lambda::Function"
        } == {
            k: r["Properties"]["Code"]
            for k, r in kit.templates[workload]["Resources"].items()
            if r["Type"] == "AWS::Lambda::Function"
        }


def test_a_cache_entry_asked_for_by_several_processes_at_once_is_built_once(tmp_path: Path) -> None:
    # What pytest-xdist workers do on a cold .cache/: all synthesize, all need the same dependencies.
    target, log = tmp_path / "entry", tmp_path / "builds.log"
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=build_slowly, args=(str(target), str(log))) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    assert len(log.read_text().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["builds.log", "entry", "entry.lock"]
