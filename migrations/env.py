"""Alembic environment: the URL comes from SUNLIT_* settings or the caller's config."""

from __future__ import annotations

from alembic import context

from sunlit.models import metadata
from sunlit.settings import get_settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().effective_database_url


# Database objects that migrations create by hand, outside the models' metadata: the SQLite
# full-text index of notices (an FTS5 table, its shadow tables and its key table) and the
# PostgreSQL trigram indexes. Autogenerate must not offer to drop them.
UNMODELLED_TABLES = ("notices_fts", "notice_search_keys")
UNMODELLED_INDEX_SUFFIX = "_trgm"


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    if not reflected or name is None:
        return True
    if type_ == "table" and name.startswith(UNMODELLED_TABLES):
        return False
    return not (type_ == "index" and name.endswith(UNMODELLED_INDEX_SUFFIX))


def run() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run_with(connectable)
        return
    from sunlit.kernel.db import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        _run_with(connection)
    engine.dispose()


def _run_with(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTER
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
