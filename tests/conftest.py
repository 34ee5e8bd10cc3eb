"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is taken from ``SUNLIT_TEST_PG_URL`` (default: the local server as user postgres).
Under ``CI=true`` an unreachable PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sunlit.kernel import clock as kclock
from sunlit.kernel.db import Database
from sunlit.migrate import upgrade
from sunlit.models import metadata

PG_URL = os.environ.get(
    "SUNLIT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
START = dt.datetime(2026, 11, 23, 9, 30, tzinfo=kclock.CHINA_TZ)  # a Monday morning


def pytest_report_header(config: pytest.Config) -> str:
    return f"sunlit: PostgreSQL at {make_url(PG_URL).render_as_string(hide_password=True)}"


@pytest.fixture(autouse=True)
def clock() -> Iterator[kclock.ManualClock]:
    """Every test runs on a manual clock starting at START; tests advance it explicitly."""
    manual = kclock.ManualClock(START)
    previous = kclock.set_clock(manual)
    yield manual
    kclock.set_clock(previous)


@pytest.fixture(scope="session")
def worker_id_safe(request: pytest.FixtureRequest) -> str:
    wid = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return str(wid)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    database.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database(worker_id_safe: str) -> Iterator[Database]:
    admin_url = make_url(PG_URL)
    # Unique per process: two test runs on one machine must not share a database.
    name = f"sunlit_test_{worker_id_safe}_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        message = (
            f"PostgreSQL unreachable at {admin_url.render_as_string(hide_password=True)}: {exc}"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    database = Database(admin_url.set(database=name).render_as_string(hide_password=False))
    upgrade(database)
    yield database
    database.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(database: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Database]:
    """A migrated, empty database: a fresh SQLite file, or the worker's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "sunlit.db"
        shutil.copy(sqlite_template, path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
    else:
        pg: Database = request.getfixturevalue("pg_database")
        _truncate(pg)
        yield pg


@pytest.fixture
def db(database: Database) -> Iterator:  # type: ignore[type-arg]
    with database.session_scope() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path, database: Database):  # type: ignore[no-untyped-def]
    from sunlit.settings import Settings

    return Settings(
        data_dir=tmp_path / "var",
        database_url=database.url,
        secret_key="test-secret",
        base_url="http://testserver",
    )


@pytest.fixture
def app(settings, database: Database):  # type: ignore[no-untyped-def]
    from sunlit.app import create_app

    return create_app(settings, database)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c
