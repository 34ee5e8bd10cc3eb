"""Guarantee pages (Chinese): bidders (apply, pay, status), FIs (queue, claims), staff
(admission, monitoring), supervisors (alerts), and the public 验真 page with a QR code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sunlit.kernel.authz import Actor
from sunlit.kernel.errors import DomainError
from sunlit.kernel.storage import read_bytes
from sunlit.kernel.web import add_template_dir, client_ip, get_db, render, require_actor
from sunlit.projects import queries as project_queries

from . import queries, service
from .api import Blobs

add_template_dir(Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)

Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]


def qr_svg(text: str, size: int = 160) -> str:
    """A QR code as inline SVG (reportlab's encoder; no run-time JavaScript)."""
    from reportlab.graphics import renderSVG
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(text)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    svg: str = renderSVG.drawToString(drawing)
    return svg[svg.index("<svg") :]


def verify_url(request: Request, no: str, code: str) -> str:
    base = str(request.app.state.settings.base_url).rstrip("/")
    return f"{base}/guarantees/verify?" + urlencode({"no": no, "code": code})


# --- public 验真 -------------------------------------------------------------------------------


@router.get("/guarantees/verify", response_class=HTMLResponse)
def verify_page(request: Request, db: Db, no: str = "", code: str = "") -> HTMLResponse:
    result = queries.verify_public(db, no, code) if no and code else None
    return render(
        request,
        "guarantees/verify.html",
        {
            "no": no,
            "code": code,
            "result": result,
            "qr": qr_svg(verify_url(request, no, code)) if result and result.found else "",
        },
    )


@router.get("/guarantees/verify/pdf")
def verify_pdf(db: Db, blobs: Blobs, no: str, code: str) -> Response:
    row = queries.pdf_of(db, no, code)
    if row is None or row.pdf_blob_key is None:
        return Response("保函不存在或验证码不正确", status_code=404, media_type="text/plain")
    return Response(
        read_bytes(blobs, row.pdf_blob_key),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{row.guarantee_no}.pdf"'},
    )


# --- bidders -------------------------------------------------------------------------------------


@router.get("/bidder/guarantees", response_class=HTMLResponse)
def bidder_page(
    request: Request, db: Db, actor: LoggedIn, section_id: str = "", error: str = ""
) -> HTMLResponse:
    section = project_queries.section_by_id(db, section_id) if section_id else None
    products = service.eligible_products(db, section_id) if section else []
    rows = queries.my_applications(db, actor)
    sections = {r.section_id: project_queries.section_by_id(db, r.section_id) for r in rows}
    institutions = {i.id: i for i in queries.institutions(db)}
    return render(
        request,
        "guarantees/bidder.html",
        {
            "section": section,
            "products": products,
            "rows": rows,
            "sections": sections,
            "institutions": institutions,
            "forms": service.FORMS,
            "label": queries.status_label,
            "premium_for": service.premium_for,
            "error": error,
        },
    )


@router.post("/bidder/guarantees")
def bidder_apply(
    request: Request,
    db: Db,
    actor: LoggedIn,
    section_id: Annotated[str, Form()],
    product_id: Annotated[str, Form()],
    machine_id: Annotated[str, Form()] = "",
) -> Response:
    try:
        service.apply(
            db,
            actor,
            service.ApplyIn(section_id=section_id, product_id=product_id, machine_id=machine_id),
            client_ip=client_ip(request) or "",
            base_url=request.app.state.settings.base_url,
        )
    except DomainError as exc:
        return bidder_page(request, db, actor, section_id, exc.detail)
    return RedirectResponse("/bidder/guarantees", status_code=303)


@router.post("/bidder/guarantees/{application_id}/cancel")
def bidder_cancel(request: Request, db: Db, actor: LoggedIn, application_id: str) -> Response:
    try:
        service.cancel(db, actor, application_id)
    except DomainError as exc:
        return bidder_page(request, db, actor, "", exc.detail)
    return RedirectResponse("/bidder/guarantees", status_code=303)


# --- financial institutions ------------------------------------------------------------------


@router.get("/fi/guarantees", response_class=HTMLResponse)
def fi_page(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    inst, rows, claims = queries.fi_queue(db, actor)
    return render(
        request,
        "guarantees/fi.html",
        {
            "inst": inst,
            "rows": rows,
            "claims": claims,
            "label": queries.status_label,
            "claim_label": queries.claim_label,
            "grounds": service.GROUNDS,
            "products": queries.products(db, inst.id) if inst else [],
        },
    )


# --- staff: admission and monitoring ---------------------------------------------------------


def _staff_context(db: Session, actor: Actor, **extra: Any) -> dict[str, Any]:
    institutions = queries.institutions(db)
    return {
        "institutions": institutions,
        "names": {i.id: i.name for i in institutions},
        "products": queries.products(db),
        "choices": queries.choices(db),
        "monitor": queries.monitoring(db, actor),
        "forms": service.FORMS,
        "kinds": service.KINDS,
        "error": "",
        "form": {},
        **extra,
    }


@router.get("/staff/guarantees", response_class=HTMLResponse)
def staff_page(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    return render(request, "guarantees/staff.html", _staff_context(db, actor))


@router.post("/staff/guarantees/institutions")
async def staff_admit(request: Request, db: Db, actor: LoggedIn) -> Response:
    form = dict((await request.form()).items())
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        service.admit_institution(
            db,
            actor,
            service.AdmitIn(
                name=values.get("name", ""),
                credit_code=values.get("credit_code", ""),
                kind=values.get("kind", ""),
                partner_code=values.get("partner_code", ""),
                public_key_pem=values.get("public_key_pem", ""),
                base_url=values.get("base_url", ""),
                instant=values.get("instant") == "on",
                admission_ref=values.get("admission_ref", ""),
            ),
        )
    except (DomainError, ValueError) as exc:
        message = exc.detail if isinstance(exc, DomainError) else "表单内容不完整"
        ctx = _staff_context(db, actor, error=message, form=values)
        return render(request, "guarantees/staff.html", ctx, status_code=422)
    return RedirectResponse("/staff/guarantees", status_code=303)


@router.post("/staff/guarantees/institutions/{inst_id}/{action}")
def staff_institution(
    request: Request, db: Db, actor: LoggedIn, inst_id: str, action: str
) -> Response:
    try:
        service.change_institution(db, actor, inst_id, action)
    except DomainError as exc:
        ctx = _staff_context(db, actor, error=exc.detail)
        return render(request, "guarantees/staff.html", ctx, status_code=409)
    return RedirectResponse("/staff/guarantees", status_code=303)


@router.post("/staff/guarantees/products/{product_id}/{action}")
def staff_product(
    request: Request, db: Db, actor: LoggedIn, product_id: str, action: str
) -> Response:
    try:
        service.change_product(db, actor, product_id, action)
    except DomainError as exc:
        ctx = _staff_context(db, actor, error=exc.detail)
        return render(request, "guarantees/staff.html", ctx, status_code=409)
    return RedirectResponse("/staff/guarantees", status_code=303)


@router.post("/staff/guarantees/choices")
def staff_choice(
    request: Request,
    db: Db,
    actor: LoggedIn,
    region_code: Annotated[str, Form()],
    institution_id: Annotated[str, Form()],
    chosen: Annotated[str, Form()] = "1",
) -> Response:
    try:
        service.choose_institution(db, actor, region_code, institution_id, chosen == "1")
    except DomainError as exc:
        ctx = _staff_context(db, actor, error=exc.detail)
        return render(request, "guarantees/staff.html", ctx, status_code=422)
    return RedirectResponse("/staff/guarantees", status_code=303)


# --- supervisors -----------------------------------------------------------------------------

KIND_LABELS = {
    "payer_account": "多家投标人保费来自同一账户",
    "client_ip": "多家投标人从同一网络地址申请保函",
    "machine_id": "多家投标人从同一台计算机申请保函",
}


@router.get("/supervisor/guarantee-alerts", response_class=HTMLResponse)
def alerts_page(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    rows = queries.alerts(db, actor)
    sections = {a.section_id: project_queries.section_by_id(db, a.section_id) for a in rows}
    return render(
        request,
        "guarantees/alerts.html",
        {"rows": rows, "sections": sections, "kinds": KIND_LABELS},
    )
