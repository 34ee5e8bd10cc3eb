"""Shared support for every domain's ``sunlit`` sub-commands."""

from __future__ import annotations

import typer
from rich.console import Console

from sunlit.kernel.db import Database, DatabaseUnavailable
from sunlit.kernel.errors import DomainError

console = Console()


def open_database(migrate: bool = True) -> Database:
    """The configured database, checked (one clear line if unreachable) and migrated."""
    from sunlit.migrate import upgrade
    from sunlit.settings import get_settings

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.effective_database_url)
    try:
        database.check()
    except DatabaseUnavailable as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if migrate:
        upgrade(database)
    return database


def fail(exc: DomainError) -> typer.Exit:
    """Print a refusal in Chinese with its code; the caller raises the returned Exit."""
    console.print(f"[red]{exc.detail}[/red] ({exc.code})")
    return typer.Exit(1)
