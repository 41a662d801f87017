"""The custom runtime workload: one bash function (bash_function.py) wired by stack.py; settings.py
reads `kit.customRuntime` and checks that the handler it names exists in the asset."""

from stacks.custom_runtime.settings import CustomRuntimeSettings, read_custom_runtime
from stacks.custom_runtime.stack import CustomRuntimeStack

__all__ = ["CustomRuntimeSettings", "CustomRuntimeStack", "read_custom_runtime"]
