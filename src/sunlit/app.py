"""create_app(): the FastAPI application with every domain's API and web routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit import __version__
from sunlit.award import api as award_api
from sunlit.award import service as award_service
from sunlit.award import web as award_web
from sunlit.bidding import api as bidding_api
from sunlit.bidding import service as bidding_service
from sunlit.deposits import api as deposits_api
from sunlit.deposits import web as deposits_web
from sunlit.evaluation import api as evaluation_api
from sunlit.evaluation import web as evaluation_web
from sunlit.experts import api as experts_api
from sunlit.experts import notify as experts_notify
from sunlit.experts import service as experts_service
from sunlit.experts import web as experts_web
from sunlit.guarantees import api as guarantees_api
from sunlit.guarantees import service as guarantees_service
from sunlit.guarantees import web as guarantees_web
from sunlit.identity import api as identity_api
from sunlit.identity import web as identity_web
from sunlit.identity.queries import load_actor
from sunlit.kernel import clock, partner, realtime, tlog, web
from sunlit.kernel.db import Database
from sunlit.kernel.scheduler import Job, Scheduler
from sunlit.kernel.storage import BlobStore, LocalBlobStore, S3BlobStore
from sunlit.notices import api as notices_api
from sunlit.notices import web as notices_web
from sunlit.opening import api as opening_api
from sunlit.opening import service as opening_service
from sunlit.opening import web as opening_web
from sunlit.opening.models import OpeningSession
from sunlit.portal import web as portal_web
from sunlit.projects import api as projects_api
from sunlit.projects import web as projects_web
from sunlit.projects.models import Section
from sunlit.settings import Settings, get_settings
from sunlit.transparency import api as transparency_api
from sunlit.transparency import keys as transparency_keys
from sunlit.transparency import service as transparency_service
from sunlit.transparency import web as transparency_web


def make_blob_store(settings: Settings) -> BlobStore:
    if settings.blob_backend == "s3":
        return S3BlobStore(
            settings.s3_bucket, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region
        )
    return LocalBlobStore(settings.blob_dir)


def due_section_ids(db: Session) -> list[str]:
    """Published sections whose bid deadline and opening time have passed, not yet closed."""
    now = clock.now()
    closed = select(OpeningSession.section_id)
    return list(
        db.scalars(
            select(Section.id)
            .where(
                Section.status == "published",
                Section.bid_deadline <= now,
                Section.id.not_in(closed),
            )
            .order_by(Section.bid_deadline)
        )
    )


def make_expert_notifier(settings: Settings) -> experts_notify.Notifier:
    return experts_notify.from_settings(
        settings.expert_notifier,
        voice_dir=settings.data_dir / "voice",
        espeak=settings.espeak_path,
        sms_url=settings.sms_gateway_url,
        sms_token=settings.sms_gateway_token,
    )


def make_scheduler(
    settings: Settings, database: Database, notifier: experts_notify.Notifier | None = None
) -> Scheduler:
    jobs = []
    if settings.checkpoint_minutes > 0:

        def checkpoint() -> None:
            with database.session_scope() as db:
                transparency_service.scheduled_checkpoint(db)

        jobs.append(Job("transparency.checkpoint", settings.checkpoint_minutes * 60, checkpoint))

    def bid_deadlines() -> None:
        """At every bid deadline: close bidding and issue the deadline checkpoint (ADR 0010)."""
        with database.session_scope() as db:
            opening_service.close_due_sections(db, due_section_ids(db))

    jobs.append(Job("opening.bid_deadlines", 60, bid_deadlines))
    blobs = make_blob_store(settings)

    def stale_uploads() -> None:
        bidding_service.remove_stale_uploads(blobs)

    jobs.append(Job("bidding.stale_uploads", 600, stale_uploads))
    jobs.extend(partner_jobs(settings, database))

    def security_release() -> None:
        """Contracted sections whose bid securities (deposits, guarantees) are not released yet
        (ADR 0018)."""
        with database.session_scope() as db:
            award_service.release_due_securities(db)

    jobs.append(Job("award.security_release", 60, security_release))
    if notifier is not None:

        def expert_answers() -> None:
            """Drawn experts silent past their time limit: replaced by the next alternate."""
            with database.session_scope() as db:
                experts_service.expire_due(db, notifier)

        jobs.append(Job("experts.answer_timeouts", 30, expert_answers))
    jobs.extend(guarantee_jobs(settings, database))
    return Scheduler(jobs)


def opened_section_ids(db: Session) -> list[str]:
    """Sections whose opening session has started: 解密还原 may go to the FIs."""
    return list(
        db.scalars(select(OpeningSession.section_id).where(OpeningSession.status != "scheduled"))
    )


def guarantee_jobs(settings: Settings, database: Database) -> list[Job]:
    """解密还原 once the opening has started; release of expired guarantees."""

    def reveal() -> None:
        with database.session_scope() as db:
            for section_id in guarantees_service.sections_to_reveal(db, opened_section_ids(db)):
                guarantees_service.reveal_section(db, section_id)

    def expiry() -> None:
        with database.session_scope() as db:
            if guarantees_service.expired_exist(db):
                guarantees_service.release_expired(db)

    return [
        Job("guarantee.reveal", settings.partner_outbox_seconds, reveal),
        Job("guarantee.expiry", 3600, expiry),
    ]


def partner_identity(settings: Settings) -> partner.Identity:
    """The platform as a sender of partner messages: its code and the platform key."""
    return partner.Identity(
        settings.partner_code, transparency_keys.platform_key(settings).private_key
    )


def partner_jobs(settings: Settings, database: Database) -> list[Job]:
    """Deliver the partner outbox (signed, retried with backoff) and forget old nonces."""
    backoff = partner.Backoff(
        settings.partner_backoff_base_seconds, settings.partner_backoff_cap_seconds
    )

    def outbox() -> None:
        partner.deliver_due(database, partner_identity(settings), backoff=backoff)

    def nonces() -> None:
        partner.purge_nonces(database, settings.partner_window_seconds)

    return [
        Job("partner.outbox", settings.partner_outbox_seconds, outbox),
        Job("partner.nonces", 600, nonces),
    ]


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = database or Database(settings.effective_database_url)
    notifier = make_expert_notifier(settings)
    scheduler = make_scheduler(settings, database, notifier)
    live = realtime.attach(database.engine)  # SSE fan-out: LISTEN/NOTIFY on PostgreSQL

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler.start()
        yield
        scheduler.stop()
        live.close()  # the LISTEN connection (PostgreSQL); reopened by the next subscriber

    app = FastAPI(
        lifespan=lifespan,
        title="Sunlit 阳光交易 API",
        version=__version__,
        description="公共资源交易平台 — published interface of the Sunlit trading platform.",
        openapi_url="/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.blobs = make_blob_store(settings)
    app.state.actor_loader = load_actor
    app.state.expert_notifier = notifier
    web.install(app, secure_cookies=settings.secure_cookies)
    tlog.set_default_suite(settings.crypto_suite)  # the hash of a log created from now on
    transparency_keys.configure(settings)  # the checkpoint key other domains' use cases use
    app.state.partner_identity = partner_identity(settings)
    app.state.partner_window_seconds = settings.partner_window_seconds

    app.include_router(identity_api.router)
    app.include_router(identity_web.router)
    app.include_router(portal_web.router)
    app.include_router(transparency_api.router)
    app.include_router(partner.router)
    app.include_router(transparency_web.router)
    app.include_router(projects_api.router)
    app.include_router(projects_web.router)
    app.include_router(notices_api.router)
    app.include_router(notices_web.router)
    app.include_router(bidding_api.router)
    app.include_router(guarantees_api.router)
    app.include_router(guarantees_api.fi_router)
    app.include_router(guarantees_web.router)
    app.include_router(opening_api.router)
    app.include_router(opening_web.router)
    app.include_router(deposits_api.router)
    app.include_router(deposits_web.router)
    app.include_router(award_api.router)
    app.include_router(award_web.router)
    app.include_router(evaluation_api.router)
    app.include_router(evaluation_web.router)
    app.include_router(experts_api.router)
    app.include_router(experts_web.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
