"""Guarantee tests drive the outbox and the simulator by hand: no background jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sunlit.kernel.db import Database


@pytest.fixture
def settings(tmp_path: Path, database: Database) -> Any:
    from sunlit.settings import Settings

    return Settings(
        data_dir=tmp_path / "var",
        database_url=database.url,
        secret_key="test-secret",
        base_url="http://testserver",
        checkpoint_minutes=0,
        partner_outbox_seconds=3600,
    )
