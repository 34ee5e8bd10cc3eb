"""Demo data and the one-command demo (`sunlit demo run`)."""

from __future__ import annotations

import warnings
from typing import Any


def api_client(app: Any, base_url: str) -> Any:
    """Starlette's TestClient over the real app: the demo drives the platform's own HTTP API
    in process. Its deprecation notice about httpx is not for the demo's user."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
        from fastapi.testclient import TestClient

    return TestClient(app, base_url=base_url)
