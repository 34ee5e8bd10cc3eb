"""Each bid's security (投标保证金 or 电子投标保函) as verified at the opening (验真).

The opening only records: a bid whose section requires security and that has none, or only an
invalid one, is flagged in the opening record; the evaluation decides whether to reject it.

Verification comes from the two security domains' reads, both re-checked at read time:
``guarantees.queries.section_securities`` (the FI's signature over the document, the PDF hash,
amount, validity through the bid validity, bound to the bidder and the section's commitment,
live status) and ``deposits.queries.section_securities`` (accepted payments: from the bidder's
registered basic account, booked before the deadline, in full). A valid guarantee wins over a
deposit; either one is enough.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Final

from sqlalchemy.orm import Session

from sunlit.deposits import queries as deposit_queries
from sunlit.guarantees import queries as guarantee_queries
from sunlit.kernel import clock
from sunlit.projects.models import Section

KIND_LABELS: Final = {
    "guarantee": "电子投标保函",
    "deposit": "投标保证金",
    "none": "无",
}
NONE_PROBLEM: Final = "未提交投标保证金或保函"


def _money(value: Any) -> str | None:
    return str(Decimal(value).quantize(Decimal("0.01"))) if value is not None else None


def _guarantee_entry(g: Any) -> dict[str, Any]:
    return {
        "kind": "guarantee",
        "kind_label": KIND_LABELS["guarantee"],
        "verified": bool(g.verified),
        "problems": list(g.problems),
        "institution": g.institution,
        "guarantee_no": g.guarantee_no,
        "form": g.form,
        "amount": _money(g.amount),
        "valid_to": g.valid_to.isoformat() if g.valid_to else None,
    }


def _deposit_entry(d: dict[str, Any], deadline: dt.datetime | None) -> dict[str, Any]:
    problems = []
    paid = Decimal(d["paid"] or 0)
    required = Decimal(d["required"] or 0)
    paid_at = clock.ensure_aware(d["paid_at"]) if d.get("paid_at") else None
    if paid <= 0:
        problems.append("保证金未到账（仅计从基本账户于截止时间前到账的款项）")
    elif paid < required:
        problems.append(f"保证金到账{_money(paid)}元，少于应缴{_money(required)}元")
    elif not d["sufficient"]:
        problems.append("保证金子账号状态为" + str(d["status_label"]))
    if paid_at is not None and deadline is not None and paid_at > deadline:
        problems.append("保证金到账时间晚于投标截止时间")
    return {
        "kind": "deposit",
        "kind_label": KIND_LABELS["deposit"],
        "verified": not problems,
        "problems": problems,
        "sub_account_no": d["sub_account_no"],
        "amount": _money(paid),
        "paid_at": paid_at.isoformat() if paid_at else None,
    }


def combine(
    required: Decimal,
    deadline: dt.datetime | None,
    guarantee: Any | None,
    deposit: dict[str, Any] | None,
) -> dict[str, Any]:
    """One bid's security entry for the record (pure: the inputs are the two domains' reads).

    ``verified`` is true when a security was verified or none is required; ``flagged`` when the
    section requires security and the bid has no verified one.
    """
    candidates = []
    if guarantee is not None and guarantee.kind == "guarantee":
        candidates.append(_guarantee_entry(guarantee))
    if deposit is not None:
        candidates.append(_deposit_entry(deposit, deadline))
    chosen = next((c for c in candidates if c["verified"]), None)
    if chosen is None and candidates:
        chosen = dict(candidates[0])
        chosen["problems"] = [p for c in candidates for p in c["problems"]]
    if chosen is None:
        chosen = {
            "kind": "none",
            "kind_label": KIND_LABELS["none"],
            "verified": False,
            "problems": [NONE_PROBLEM] if required > 0 else [],
            "amount": None,
        }
    flagged = required > 0 and not chosen["verified"]
    if required <= 0:
        chosen["problems"] = []
    return {**chosen, "required": _money(required), "flagged": flagged}


def section_securities(db: Session, section: Section) -> dict[str, dict[str, Any]]:
    """Each bidder's security by organization id, verified now (empty before the deadline)."""
    if section.bid_deadline is None or clock.now() < clock.ensure_aware(section.bid_deadline):
        return {}
    deadline = clock.ensure_aware(section.bid_deadline)
    guarantees = {g.org_id: g for g in guarantee_queries.section_securities(db, section.id)}
    deposits = deposit_queries.section_securities(db, section.id)
    required = Decimal(section.bid_security or 0)
    return {
        org_id: combine(required, deadline, guarantees.get(org_id), deposits.get(org_id))
        for org_id in set(guarantees) | set(deposits)
    }


def for_bid(
    securities: dict[str, dict[str, Any]], org_id: str, required: Decimal
) -> dict[str, Any]:
    """The entry of one bidder, or the 'none' entry when neither domain knows it."""
    return securities.get(org_id) or combine(required, None, None, None)
