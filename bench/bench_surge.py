"""Deadline surge: hundreds of concurrent sealed-bid uploads vs the raw write rate of blob store.

    python bench/bench_surge.py --bidders 200 --concurrency 64 --size-kib 256
    python bench/bench_surge.py ... --workers 2 --postgres postgresql+psycopg://postgres@127.0.0.1/postgres

Prepares, before any timing, a published section with M bidders (each an organization with a
bound certificate and a session token) and M sealed bids holding ~256 KiB of ``os.urandom``
bytes each; serves the real app with ``sunlit serve`` (one uvicorn worker, its own process) on
127.0.0.1 over a temporary SQLite file and local blob dir, the deadline 25 days ahead on the
real clock; uploads all M bids over ``PUT /api/v1/sections/{id}/bid`` from a pool of 64 httpx
threads and times it. Then checks that every upload was acknowledged with a receipt signed by
the platform and that the database holds exactly one valid bid per bidder whose digest is on
that bidder's receipt (zero lost, zero duplicated). A second round has 10% of the bidders
re-submit, each with two racing uploads, all at once: still exactly one valid bid each.

Baseline in the same run: ``LocalBlobStore.put_stream`` (temp file, fsync, rename) of the same
M bids' bytes into a fresh directory on the same file system, sequentially and from the same
number of threads. Loopback only; bounded in count, and the run aborts after 10 minutes.

``--workers N`` runs N uvicorn worker processes (the architecture's N stateless processes);
``--postgres ADMIN_URL`` puts the platform on a fresh PostgreSQL database created on that
server for the run (and dropped after it) instead of the SQLite file.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from tests.bidding.test_submission import open_section  # noqa: E402
from tests.browser.conftest import _free_port  # noqa: E402
from tests.opening.test_end_to_end import _seal  # noqa: E402

from sunlit.app import create_app  # noqa: E402
from sunlit.bidding.models import Bid  # noqa: E402
from sunlit.bidding.receipts import load_receipt, verify_receipt  # noqa: E402
from sunlit.kernel.crypto import load_public_key_any  # noqa: E402
from sunlit.kernel.db import Database  # noqa: E402
from sunlit.kernel.storage import LocalBlobStore  # noqa: E402
from sunlit.migrate import upgrade  # noqa: E402
from sunlit.settings import Settings  # noqa: E402

ABORT_AFTER = 600.0  # seconds, whole run
MIB = 1024 * 1024
SLICE = 64 * 1024  # the baseline writes in request-body-sized slices


def watchdog(seconds: float, on_abort: Callable[[], None]) -> threading.Timer:
    def fire() -> None:
        print(f"bench_surge: aborted after {seconds:.0f} s", file=sys.stderr, flush=True)
        on_abort()
        os._exit(2)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    return timer


def slices(data: bytes) -> Iterator[bytes]:
    for i in range(0, len(data), SLICE):
        yield data[i : i + SLICE]


def raw_writes(root: Path, bodies: list[bytes], threads: int) -> float:
    store = LocalBlobStore(root)

    def put(i: int) -> None:
        store.put_stream(f"bids/raw/{i:05d}", slices(bodies[i]))

    start = time.perf_counter()
    if threads <= 1:
        for i in range(len(bodies)):
            put(i)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(put, range(len(bodies))))
    return time.perf_counter() - start


class Server:
    """``sunlit serve`` in its own process on the bench's SQLite file and data dir."""

    def __init__(self, settings: Settings, port: int, log: Path, workers: int = 1) -> None:
        env = dict(os.environ)
        env.update(
            SUNLIT_DATA_DIR=str(settings.data_dir),
            SUNLIT_DATABASE_URL=settings.database_url,
            SUNLIT_SECRET_KEY=settings.secret_key,
            SUNLIT_BASE_URL=f"http://127.0.0.1:{port}",
            SUNLIT_CHECKPOINT_MINUTES="0",
            PYTHONPATH=str(ROOT / "src"),
        )
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from sunlit.cli import app; app()",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            cwd=log.parent,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                up = httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                up = False
            started = log.read_bytes().count(b"Application startup complete")
            if up and started >= workers:  # every worker process is serving
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(self.log_path.read_text())
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def cpu_seconds(root: int) -> float:
    """User + system CPU time of process ``root`` and its live descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    family, total, grew = {root}, 0.0, True
    while grew:
        grew = False
        for pid, (ppid, _) in stats.items():
            if ppid in family and pid not in family:
                family.add(pid)
                grew = True
    for pid in family:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def upload_all(
    url: str, sid: str, jobs: list[tuple[Any, bytes]], threads: int
) -> tuple[float, list[httpx.Response | Exception]]:
    local = threading.local()

    def put(job: tuple[Any, bytes]) -> httpx.Response | Exception:
        party, body = job
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=120)
        try:
            return local.client.put(
                f"{url}/api/v1/sections/{sid}/bid", content=body, headers=party.headers
            )
        except httpx.HTTPError as exc:
            return exc

    with ThreadPoolExecutor(threads) as pool:
        start = time.perf_counter()
        results = list(pool.map(put, jobs))
        seconds = time.perf_counter() - start
    return seconds, results


def valid_by_org(database: Database, sid: str) -> tuple[dict[str, list[Bid]], int]:
    with database.session_scope() as db:
        rows = list(db.scalars(select(Bid).where(Bid.section_id == sid)))
        db.expunge_all()
    valid: dict[str, list[Bid]] = collections.defaultdict(list)
    for row in rows:
        if row.status == "valid":
            valid[row.org_id].append(row)
    return valid, len(rows)


def check(
    database: Database,
    sid: str,
    parties: list[Any],
    acked: dict[str, set[str]],
    blob_dir: Path,
) -> tuple[int, int, list[str]]:
    """(lost, duplicated, problems): every bidder exactly one valid bid, its digest acknowledged."""
    valid, _ = valid_by_org(database, sid)
    lost = dup = 0
    problems: list[str] = []
    for p in parties:
        mine = valid.get(p.org_id, [])
        if not mine:
            lost += 1
        elif len(mine) > 1:
            dup += len(mine) - 1
        for row in mine:
            if row.bid_digest not in acked.get(p.org_id, set()):
                problems.append(f"{p.credit_code}: valid bid {row.id} has no acknowledged receipt")
            if not (blob_dir / row.blob_key).is_file():
                problems.append(f"{p.credit_code}: blob {row.blob_key} missing")
    tmp = [q for q in (blob_dir / "bids").rglob(".tmp-*")]
    if tmp:
        problems.append(f"{len(tmp)} temp blobs left behind")
    return lost, dup, problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bidders", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--size-kib", type=int, default=256)
    ap.add_argument("--resubmit", type=float, default=0.10, help="share of bidders re-submitting")
    ap.add_argument("--dir", type=Path, default=None, help="work dir (default: a temp dir)")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument(
        "--postgres", default=None, help="admin URL of a PostgreSQL server (default: SQLite)"
    )
    args = ap.parse_args()
    m, threads = args.bidders, args.concurrency
    if not 1 <= m <= 2000 or not 1 <= threads <= 256 or not 1 <= args.size_kib <= 16 * 1024:
        ap.error("bidders 1..2000, concurrency 1..256, size 1 KiB..16 MiB")
    if not 1 <= args.workers <= 8:
        ap.error("workers 1..8")

    server: Server | None = None

    def abort() -> None:
        if server is not None and server.proc.poll() is None:
            server.proc.kill()

    timer = watchdog(ABORT_AFTER, abort)
    tmpdir = tempfile.TemporaryDirectory(prefix="bench-surge-", dir=args.dir)
    work = Path(tmpdir.name)

    # ---- preparation (untimed): world, section, bidders, sealed bids
    t0 = time.perf_counter()
    pg_admin = None
    pg_name = f"sunlit_bench_surge_{os.getpid()}"
    if args.postgres:
        pg_admin = create_engine(make_url(args.postgres), isolation_level="AUTOCOMMIT")
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        url = make_url(args.postgres).set(database=pg_name)
        database = Database(url.render_as_string(hide_password=False))
    else:
        database = Database(f"sqlite:///{work / 'sunlit.db'}")
    upgrade(database)
    settings = Settings(
        data_dir=work / "var",
        database_url=database.url,
        secret_key="bench-surge-secret",
        base_url="http://testserver",
    )
    app = create_app(settings, database)
    with (
        TestClient(app, base_url="http://testserver") as client,
        database.session_scope() as db,
    ):
        s = open_section(client, db, work, m)
    parties = s.bidders
    payload = args.size_kib * 1024

    def seal(i: int, n: int = 0) -> bytes:
        folder = work / "bids" / f"{i:05d}-{n}"
        folder.mkdir(parents=True)
        (folder / "技术标.bin").write_bytes(os.urandom(payload))
        return _seal(s.world, parties[i], s.keys, f"{1_000_000 + i}.00", folder)

    bodies = [seal(i) for i in range(m)]
    n_re = max(1, round(m * args.resubmit)) if args.resubmit > 0 else 0
    re_bodies = [seal(i, 1) for i in range(n_re)] + [seal(i, 2) for i in range(n_re)]
    total = sum(len(b) for b in bodies)
    print(
        f"prepared {m} bidders and {m + 2 * n_re} sealed bids "
        f"({total / m / 1024:.0f} KiB each) in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )

    # ---- baseline: the raw blob store, same bytes, same file system
    # (median of three runs each: a fraction of a second is easily disturbed on a shared box)
    raw_seq = statistics.median(raw_writes(work / f"raw-seq{k}", bodies, 1) for k in range(3))
    raw_par = statistics.median(raw_writes(work / f"raw-par{k}", bodies, threads) for k in range(3))

    # ---- the surge, on a live server
    rows: list[tuple[str, int, int, float, int, int, str]] = []
    problems: list[str] = []
    server = Server(settings, _free_port(), work / "server.log", args.workers)
    try:
        platform_pub = load_public_key_any(
            httpx.get(f"{server.url}/api/v1/transparency/key.pem").text
        )
        acked: dict[str, set[str]] = collections.defaultdict(set)

        def record(jobs: list[tuple[Any, bytes]], results: list[Any], conflict_ok: bool) -> int:
            ok = 0
            for (party, _), r in zip(jobs, results, strict=True):
                if isinstance(r, httpx.Response) and r.status_code == 201:
                    signed = load_receipt(r.content)
                    verify_receipt(signed, platform_pub)
                    acked[party.org_id].add(signed.document["bid_digest"])
                    ok += 1
                elif (
                    conflict_ok
                    and isinstance(r, httpx.Response)
                    and r.status_code == 409
                    and "bid.concurrent" in r.text
                ):
                    pass  # a racing upload of the same bidder, refused cleanly
                else:
                    detail = r.text[:200] if isinstance(r, httpx.Response) else repr(r)
                    code = r.status_code if isinstance(r, httpx.Response) else "-"
                    problems.append(f"{party.credit_code}: {code} {detail}")
            return ok

        jobs = list(zip(parties, bodies, strict=True))
        cpu0, own0 = cpu_seconds(server.proc.pid), time.process_time()
        secs, results = upload_all(server.url, s.sid, jobs, threads)
        server_cpu = cpu_seconds(server.proc.pid) - cpu0
        client_cpu = time.process_time() - own0
        ok = record(jobs, results, conflict_ok=False)
        lost, dup, more = check(database, s.sid, parties, acked, settings.blob_dir)
        problems += more
        rows.append(
            (f"surge: {m} bidders, {threads} clients", m, total, secs, lost, dup, f"{ok}/{m}")
        )

        if n_re:
            again = parties[:n_re]
            acked2: dict[str, set[str]] = collections.defaultdict(set)
            jobs2 = [(p, re_bodies[i]) for i, p in enumerate(again)]
            jobs2 += [(p, re_bodies[n_re + i]) for i, p in enumerate(again)]
            saved = dict(acked)
            acked.clear()
            secs2, results2 = upload_all(server.url, s.sid, jobs2, threads)
            ok2 = record(jobs2, results2, conflict_ok=True)
            acked2 = acked
            # Bidders not re-submitting keep their first-round receipt.
            merged = {p.org_id: saved[p.org_id] for p in parties[n_re:] if p.org_id in saved}
            merged.update(acked2)
            lost2, dup2, more = check(database, s.sid, parties, merged, settings.blob_dir)
            problems += more
            for p in again:
                if not acked2.get(p.org_id):
                    problems.append(f"{p.credit_code}: neither re-submission acknowledged")
            size2 = sum(len(b) for _, b in jobs2)
            rows.append(
                (
                    f"re-submit: {n_re} bidders × 2 racing uploads",
                    len(jobs2),
                    size2,
                    secs2,
                    lost2,
                    dup2,
                    f"{ok2}/{len(jobs2)}",
                )
            )
        _, n_rows = valid_by_org(database, s.sid)
    finally:
        server.stop()
        timer.cancel()
        database.dispose()
        if pg_admin is not None:
            with pg_admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            pg_admin.dispose()

    # ---- report
    raw_rate = total / MIB / raw_par
    extra = f" --workers {args.workers}" if args.workers != 1 else ""
    extra += " --postgres …" if args.postgres else ""
    where = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"\n`python bench/bench_surge.py --bidders {m} --concurrency {threads}"
        f" --size-kib {args.size_kib}{extra}` ({args.workers} worker(s), {where})\n"
    )
    print(
        "| run | bids | MiB | seconds | MiB/s | bids/s | ÷ raw blob write "
        f"({threads} threads) | acked | lost | duplicated |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    base = [
        ("raw `put_stream`, sequential", m, total, raw_seq),
        (f"raw `put_stream`, {threads} threads (baseline)", m, total, raw_par),
    ]
    for name, n, size, secs in base:
        rate = size / MIB / secs
        print(
            f"| {name} | {n} | {size / MIB:.1f} | {secs:.2f} | {rate:.1f} | {n / secs:.0f} "
            f"| {rate / raw_rate:.2f} | – | – | – |"
        )
    for name, n, size, secs, lost, dup, ok in rows:
        rate = size / MIB / secs
        print(
            f"| {name} | {n} | {size / MIB:.1f} | {secs:.2f} | {rate:.1f} | {n / secs:.0f} "
            f"| **{rate / raw_rate:.2f}** | {ok} | {lost} | {dup} |"
        )
    print(
        f"\nsurge CPU: server {server_cpu:.1f} s ({server_cpu / m * 1000:.1f} ms per bid), "
        f"load generator {client_cpu:.1f} s, wall {rows[0][3]:.1f} s on {os.cpu_count()} cores"
    )
    print(f"bid rows in the database: {n_rows}")
    if problems:
        print(f"\n{len(problems)} problems:", *problems[:20], sep="\n  ")
    tmpdir.cleanup()
    return 1 if problems or any(r[4] or r[5] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
