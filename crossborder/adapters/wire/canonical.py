"""One JSON form for what is hashed or signed: sorted keys, no spaces, UTF-8 as written.

Its own module, free of JOSE, because the audit trail hashes entries with it
on every step, including in commands that sign nothing.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
