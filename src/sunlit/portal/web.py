"""Public portal pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from sunlit.identity import queries as identity_queries
from sunlit.kernel.web import add_template_dir, get_db, render
from sunlit.transparency import queries as transparency_queries

add_template_dir(Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)
Db = Annotated[Session, Depends(get_db)]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: Db) -> HTMLResponse:
    return render(
        request,
        "portal/home.html",
        {
            "cas": identity_queries.trusted_cas(db),
            "checkpoint": transparency_queries.latest_checkpoint(db),
        },
    )
