"""Pages of the expert domain (Chinese)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
