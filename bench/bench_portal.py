"""Public portal listing at 100,000 notices vs a trivial endpoint of the same server.

    python bench/bench_portal.py --notices 100000 --requests 200

Builds the demo market on a temporary SQLite file (or, with ``--postgres ADMIN_URL``, a fresh
PostgreSQL database created for the run and dropped after it), bulk-inserts public notices
spread over categories, methods and regions, serves the real app with uvicorn on loopback, and
compares median latencies of portal pages with ``/healthz`` measured in the same run (DESIGN
§6: within 3x of a trivial endpoint). The paths take turns, one request each per round, so
that machine load varies alike for all. Loopback only; bounded in count and time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sunlit.app import create_app  # noqa: E402
from sunlit.demo.loader import DemoPaths, load  # noqa: E402
from sunlit.kernel import clock  # noqa: E402
from sunlit.kernel.db import Database  # noqa: E402
from sunlit.migrate import upgrade  # noqa: E402
from sunlit.notices.models import Notice  # noqa: E402
from sunlit.projects.models import TenderProject  # noqa: E402
from sunlit.settings import Settings  # noqa: E402

CATEGORIES = ["engineering", "procurement"]
METHODS = ["open", "invited"]
REGIONS = ["320505", "320506", "320507", "320508", "320509", "320581", "320582", "320583"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fill(database: Database, n: int) -> None:
    with database.session_scope() as db:
        tp = db.scalars(select(TenderProject)).first()
        assert tp is not None, "demo data has no tender project"
        tp_id, code = tp.id, tp.code
    now = clock.now()
    rows = []
    for i in range(n):
        published = now - dt.timedelta(minutes=i)
        rows.append(
            {
                "id": uuid.uuid4().hex,
                "tender_project_id": tp_id,
                "parent_id": None,
                "kind": "tender_notice",
                "title": f"苏州市第{i}号道路改造工程施工招标公告",
                "content": "招标公告正文" * 20,
                "status": "published",
                "public": True,
                "tender_project_code": code,
                "tender_project_name": f"道路改造工程{i}",
                "category": CATEGORIES[i % len(CATEGORIES)],
                "method": METHODS[i % len(METHODS)],
                "region_code": REGIONS[i % len(REGIONS)],
                "tenderer_name": "苏州市轨道交通集团有限公司",
                "agency_name": "",
                "deadline": published + dt.timedelta(days=25),
                "previous_deadline": None,
                "new_deadline": None,
                "published_at": published,
                "modified_at": published,
                "created_by": None,
                "created_at": published,
            }
        )
    with database.engine.begin() as conn:
        for start in range(0, n, 20_000):
            conn.execute(insert(Notice), rows[start : start + 20_000])


def medians_ms(client: httpx.Client, paths: dict[str, str], requests: int) -> dict[str, float]:
    """Median latency per path; the paths take turns (one request each per round), so a
    change of machine load during the run touches the baseline and the pages alike."""
    samples: dict[str, list[float]] = {label: [] for label in paths}
    for path in paths.values():
        client.get(path).raise_for_status()  # warm
    for _ in range(requests):
        for label, path in paths.items():
            t0 = time.perf_counter()
            r = client.get(path)
            samples[label].append((time.perf_counter() - t0) * 1000)
            r.raise_for_status()
    return {label: statistics.median(ms) for label, ms in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--postgres", default=None, help="admin URL of a PostgreSQL server (default: SQLite)"
    )
    args = parser.parse_args()

    pg_admin = None
    pg_name = f"sunlit_bench_portal_{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.postgres:
            pg_admin = create_engine(make_url(args.postgres), isolation_level="AUTOCOMMIT")
            with pg_admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
            url = make_url(args.postgres).set(database=pg_name)
            database = Database(url.render_as_string(hide_password=False))
        else:
            database = Database(f"sqlite:///{root / 'sunlit.db'}")
        upgrade(database)
        load(database, DemoPaths(root))
        t0 = time.perf_counter()
        fill(database, args.notices)
        if args.postgres:
            # What autovacuum does shortly after a bulk load: statistics for the planner, and
            # the GIN indexes' pending lists merged (until then every trigram search scans
            # them: 10-20 ms at 100,000 fresh rows).
            with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        print(f"inserted {args.notices:,} notices in {time.perf_counter() - t0:.1f} s")
        port = free_port()
        settings = Settings(
            data_dir=root, database_url=database.url, secret_key="bench", checkpoint_minutes=0
        )
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, database), host="127.0.0.1", port=port, log_level="warning"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        paths = {
            "/healthz (baseline)": "/healthz",
            "/notices (first page)": "/notices",
            "/notices?category=…&region=… (filtered)": (
                "/notices?category=engineering&region=320505"
            ),
            "/notices?page=100 (last page under the cap)": "/notices?page=100",
            "/notices?q=第4242号 (text search, one match)": "/notices?q=第4242号",
            "/notices?q=第4242 (text search, 11 matches)": "/notices?q=第4242",
            "/notices?q=地铁站改造 (text search, no match)": "/notices?q=地铁站改造",
            "/notices?q=轨道交通集团 (text search, every notice)": "/notices?q=轨道交通集团",
            "/notices?q=道路 (2 characters: plain scan)": "/notices?q=道路",
        }
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            results = medians_ms(client, paths, args.requests)
        server.should_exit = True
        thread.join(10)
        database.dispose()
        if pg_admin is not None:
            with pg_admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            pg_admin.dispose()

    base = results["/healthz (baseline)"]
    where = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"\n{args.notices:,} public notices, {where}, {args.requests} sequential rounds "
        "(one request per path per round)\n"
    )
    print("| request | median ms | ÷ /healthz |")
    print("|---|---:|---:|")
    for label, ms in results.items():
        print(f"| {label} | {ms:.2f} | {ms / base:.1f} |")


if __name__ == "__main__":
    main()
