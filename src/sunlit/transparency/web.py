"""The public page explaining how anyone can check a record (如何验证一条记录)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from sunlit.kernel.errors import DomainError
from sunlit.kernel.web import add_template_dir, get_db, render
from sunlit.transparency import keys, queries

add_template_dir(Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)
Db = Annotated[Session, Depends(get_db)]


@router.get("/transparency", response_class=HTMLResponse)
def transparency_page(request: Request, db: Db) -> HTMLResponse:
    latest = queries.latest_checkpoint(db)
    meta = queries.log_meta(db)
    try:
        key: keys.PlatformKey | None = keys.platform_key(request.app.state.settings)
    except DomainError:
        key = None
    return render(
        request,
        "transparency/index.html",
        {
            "latest": latest,
            "latest_note": queries.signed_note(latest) if latest else None,
            "meta": meta,
            "key": key,
            "recent": queries.list_checkpoints(db, limit=10),
        },
    )
