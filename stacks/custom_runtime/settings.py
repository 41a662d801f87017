"""Settings of the custom runtime workload (`kit.customRuntime`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from stacks.settings.common import CommonSettings
from stacks.settings.reader import SettingsError, SettingsReader

# The bootstrap and the handler scripts: the function's asset, as it is.
SOURCE_DIR = Path(__file__).resolve().parents[2] / "lambdas" / "custom_runtime"
# `file.function`: a script beside the bootstrap and a bash function in it (the bootstrap checks the same).
HANDLER_PATTERN = r"[A-Za-z0-9_-]+\.[A-Za-z_][A-Za-z0-9_]*"


@dataclass(frozen=True)
class CustomRuntimeSettings:
    handler: str
    memory_mb: int
    timeout_seconds: int


def read_custom_runtime(reader: SettingsReader, common: CommonSettings) -> CustomRuntimeSettings:
    settings = CustomRuntimeSettings(
        handler=reader.string(
            "handler",
            pattern=HANDLER_PATTERN,
            meaning="'file.function', naming a script beside the bootstrap and a bash function in it",
            default="function.handler",
        ),
        memory_mb=reader.integer("memoryMb", minimum=128, maximum=10240, default=128),
        timeout_seconds=reader.integer("timeoutSeconds", minimum=1, maximum=900, default=10),
    )
    handler_script(settings.handler)
    return settings


def handler_script(handler: str, source_dir: Path = SOURCE_DIR) -> Path:
    """The script a `file.function` handler names, checked to exist and to define the function.

    The bootstrap would report either mistake as a Runtime.InitError on the first invocation;
    synth reports it before anything is deployed.
    """
    if not re.fullmatch(HANDLER_PATTERN, handler):
        raise SettingsError(f"kit.customRuntime.handler: \"{handler}\" is not 'file.function'")
    file_name, function_name = handler.split(".", 1)
    script = source_dir / f"{file_name}.sh"
    shown = script.relative_to(source_dir.parents[1])
    if not script.is_file():
        raise SettingsError(f'kit.customRuntime.handler: "{handler}" names {shown}, which does not exist')
    name = re.escape(function_name)
    # `name() {`, `function name {` or `function name() {`, the brace possibly on the next line.
    definition = re.compile(rf"^\s*(function\s+{name}(\s*\(\s*\))?|{name}\s*\(\s*\))\s*\{{?\s*$", re.MULTILINE)
    if not definition.search(script.read_text()):
        raise SettingsError(f'kit.customRuntime.handler: "{handler}": {shown} defines no function {function_name}')
    return script
