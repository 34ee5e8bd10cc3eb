"""Evaluation pages (Chinese): the list of my evaluations, one page per section for every role
(committee members, leader, center staff, supervisor, tenderer, bidders with clarifications),
the expert's own scoring page and the tenderer's criteria table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from sunlit.kernel.authz import Actor
from sunlit.kernel.web import act_or_rerender, add_template_dir, get_db, render, require_actor

from . import export, queries, service
from .api import audience

add_template_dir(Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)

Db = Annotated[Session, Depends(get_db)]
LoggedIn = Annotated[Actor, Depends(require_actor)]

DONE = {
    "sign-in": "签到成功",
    "declare": "回避声明与承诺已提交",
    "vote": "已投票",
    "start": "评标已开始",
    "sheet": "评分已保存",
    "submit": "评分已提交",
    "ask": "澄清已发出",
    "answer": "澄清已答复",
    "report": "评标报告已生成，请各成员签署",
    "sign": "已签署评标报告",
    "terminate": "评标已终止",
    "plan": "评分标准已保存",
    "committee": "评标委员会已组建",
}


@router.get("/evaluation", response_class=HTMLResponse)
def my_list(request: Request, db: Db, actor: LoggedIn) -> HTMLResponse:
    return render(request, "evaluation/list.html", {"rows": queries.my_evaluations(db, actor)})


def _page_context(
    request: Request, db: Session, actor: Actor, section_id: str, dissent: str = ""
) -> dict[str, Any]:
    v = queries.overview(db, actor, section_id)
    message = ""
    if v["me"] and v["report"] and v["status"] == "reporting":
        message = queries.signing_message(db, actor, section_id, dissent, audience(request))
    signer = request.app.state.settings.signer_url
    return {
        "v": v,
        "signing_message": message,
        "dissent": dissent,
        "signer_url": signer,
        "holder": actor.name,
    }


@router.get("/evaluation/{section_id}", response_class=HTMLResponse)
def page(
    request: Request, section_id: str, db: Db, actor: LoggedIn, dissent: str = ""
) -> HTMLResponse:
    ctx = _page_context(request, db, actor, section_id, dissent)
    ctx["flash"] = DONE.get(request.query_params.get("done", ""), "")
    return render(request, "evaluation/page.html", ctx)


@router.get("/evaluation/{section_id}/sheets", response_class=HTMLResponse)
def sheets(request: Request, section_id: str, db: Db, actor: LoggedIn) -> HTMLResponse:
    ctx: dict[str, Any] = {"s": queries.my_sheets(db, actor, section_id)}
    ctx["flash"] = DONE.get(request.query_params.get("done", ""), "")
    return render(request, "evaluation/sheets.html", ctx)


@router.get("/evaluation/{section_id}/plan", response_class=HTMLResponse)
def plan(request: Request, section_id: str, db: Db, actor: LoggedIn) -> HTMLResponse:
    ctx: dict[str, Any] = {"p": queries.plan_view(db, actor, section_id)}
    ctx["flash"] = DONE.get(request.query_params.get("done", ""), "")
    return render(request, "evaluation/plan.html", ctx)


@router.get("/evaluation/{section_id}/report.pdf")
def report_pdf(section_id: str, db: Db, actor: LoggedIn) -> Response:
    v = queries.overview(db, actor, section_id)
    if v["report"] is None:
        return Response(status_code=404)
    name = f"evaluation-report-{v['section_code']}.pdf"
    return Response(
        export.report_pdf(v["report"]),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _act(
    request: Request,
    db: Session,
    actor: Actor,
    section_id: str,
    done: str,
    fn: Any,
    back: str = "",
) -> Response:
    def page() -> tuple[str, dict[str, Any]]:
        if back == "sheets":
            return "evaluation/sheets.html", {"s": queries.my_sheets(db, actor, section_id)}
        if back == "plan":
            return "evaluation/plan.html", {"p": queries.plan_view(db, actor, section_id)}
        return "evaluation/page.html", _page_context(request, db, actor, section_id)

    suffix = f"/{back}" if back else ""
    return act_or_rerender(
        request,
        db,
        fn,
        redirect=f"/evaluation/{section_id}{suffix}?done={done}",
        page=page,
    )


@router.post("/evaluation/{section_id}/committee")
def form_committee(
    request: Request,
    section_id: str,
    db: Db,
    actor: LoggedIn,
    tenderer_reps: Annotated[str, Form()] = "",
) -> Response:
    """The drawn experts come from the expert draw; the form lists the tenderer's
    representatives' user ids (one per line)."""
    rows = [u for u in tenderer_reps.replace(",", " ").split() if u]
    return _act(
        request,
        db,
        actor,
        section_id,
        "committee",
        lambda: service.form_committee(db, actor, section_id, rows),
    )


@router.post("/evaluation/{section_id}/sign-in")
def sign_in(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    return _act(
        request, db, actor, section_id, "sign-in", lambda: service.sign_in(db, actor, section_id)
    )


@router.post("/evaluation/{section_id}/declare")
def declare(
    request: Request,
    section_id: str,
    db: Db,
    actor: LoggedIn,
    avoid: Annotated[str, Form()] = "",
    recuse: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    commitment: Annotated[str, Form()] = "",
) -> Response:
    codes = [c for c in avoid.replace(",", " ").replace("，", " ").split() if c]
    return _act(
        request,
        db,
        actor,
        section_id,
        "declare",
        lambda: service.declare(
            db,
            actor,
            section_id,
            avoid_credit_codes=codes,
            recuse=bool(recuse),
            reason=reason,
            commitment=bool(commitment),
        ),
    )


@router.post("/evaluation/{section_id}/vote")
def vote(
    request: Request,
    section_id: str,
    db: Db,
    actor: LoggedIn,
    member_id: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "vote",
        lambda: service.vote(db, actor, section_id, member_id),
    )


@router.post("/evaluation/{section_id}/start")
def start(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    return _act(
        request, db, actor, section_id, "start", lambda: service.start(db, actor, section_id)
    )


@router.post("/evaluation/{section_id}/sheets/{credit_code}")
async def save_sheet(
    request: Request, section_id: str, credit_code: str, db: Db, actor: LoggedIn
) -> Response:
    form = await request.form()
    scores = {str(k)[6:]: str(v) for k, v in form.items() if str(k).startswith("score_") and str(v)}
    conforms = str(form.get("conforms", "yes")) != "no"
    return _act(
        request,
        db,
        actor,
        section_id,
        "sheet",
        lambda: service.save_sheet(
            db,
            actor,
            section_id,
            credit_code,
            scores=scores,
            conforms=conforms,
            reason=str(form.get("reason", "")),
            adjustment=str(form.get("adjustment", "0") or "0"),
        ),
        back="sheets",
    )


@router.post("/evaluation/{section_id}/submit")
def submit(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "submit",
        lambda: service.submit_scores(db, actor, section_id),
        back="sheets",
    )


@router.post("/evaluation/{section_id}/clarifications")
def ask(
    request: Request,
    section_id: str,
    db: Db,
    actor: LoggedIn,
    credit_code: Annotated[str, Form()] = "",
    question: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "ask",
        lambda: service.ask(db, actor, section_id, credit_code, question),
    )


@router.post("/evaluation/{section_id}/clarifications/{clarification_id}/answer")
def answer(
    request: Request,
    section_id: str,
    clarification_id: str,
    db: Db,
    actor: LoggedIn,
    answer: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "answer",
        lambda: service.answer(db, actor, section_id, clarification_id, answer),
    )


@router.post("/evaluation/{section_id}/report")
def report(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "report",
        lambda: service.generate_report(db, actor, section_id),
    )


@router.post("/evaluation/{section_id}/sign")
def sign(
    request: Request,
    section_id: str,
    db: Db,
    actor: LoggedIn,
    signature: Annotated[str, Form()] = "",
    dissent: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "sign",
        lambda: service.sign_report(db, actor, section_id, signature, dissent, audience(request)),
    )


@router.post("/evaluation/{section_id}/terminate")
def terminate(
    request: Request,
    section_id: str,
    db: Db,
    actor: LoggedIn,
    reason: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        db,
        actor,
        section_id,
        "terminate",
        lambda: service.terminate(db, actor, section_id, reason),
    )


@router.post("/evaluation/{section_id}/plan")
async def save_plan(request: Request, section_id: str, db: Db, actor: LoggedIn) -> Response:
    form = await request.form()
    criteria = []
    for line in str(form.get("criteria", "")).splitlines():
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) >= 4 and parts[0]:
            group = {"技术": "technical", "商务": "commercial"}.get(parts[1], parts[1])
            criteria.append(
                {"key": parts[0], "group": group, "name": parts[2], "max_points": parts[3]}
            )
    data = service.PlanInput(
        criteria=criteria,
        price_points=str(form.get("price_points", "0") or "0"),
        e1=str(form.get("e1", "0") or "0"),
        e2=str(form.get("e2", "0") or "0"),
        floor=str(form.get("floor", "0") or "0"),
        trim_from=int(str(form.get("trim_from", "5") or "5")),
        committee_rule=str(form.get("committee_rule", "mean")),
        coefficient_name=str(form.get("coefficient_name", "")),
        coefficient_kind=str(form.get("coefficient_kind", "multiplier")),
    )
    return _act(
        request,
        db,
        actor,
        section_id,
        "plan",
        lambda: service.set_plan(db, actor, section_id, data),
        back="plan",
    )
