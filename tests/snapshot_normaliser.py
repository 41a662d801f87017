"""Makes a template snapshot change only when the infrastructure does, not when source code does."""

from __future__ import annotations

import json
import re
from typing import Any

# Lambda code lives at S3 keys named by a 64-hex content hash; asset paths carry the same hash.
_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
# `function.current_version` is a Version resource whose logical id ends in a 32-hex code hash.
_VERSION_ID = re.compile(r"(CurrentVersion)[0-9A-F]{8}[0-9a-f]{32}|(CurrentVersion)[0-9a-f]{32}")


def normalise(template: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(template, sort_keys=True)
    text = _ASSET_HASH.sub("<asset-hash>", text)
    text = _VERSION_ID.sub(r"\1\2<code-hash>", text)
    return json.loads(text)
