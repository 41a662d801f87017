"""Settings of the custom runtime workload (`kit.customRuntime`)."""

from __future__ import annotations

from dataclasses import dataclass

from .reader import SettingsReader


@dataclass(frozen=True)
class CustomRuntimeSettings:
    handler: str
    memory_mb: int
    timeout_seconds: int


def read_custom_runtime(reader: SettingsReader) -> CustomRuntimeSettings:
    return CustomRuntimeSettings(
        handler=reader.string(
            "handler",
            pattern=r"[A-Za-z0-9_-]+\.[A-Za-z_][A-Za-z0-9_]*",
            meaning="'file.function', naming a script beside the bootstrap and a bash function in it",
            default="function.handler",
        ),
        memory_mb=reader.integer("memoryMb", minimum=128, maximum=10240, default=128),
        timeout_seconds=reader.integer("timeoutSeconds", minimum=1, maximum=900, default=10),
    )
