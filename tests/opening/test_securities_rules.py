"""The opening's rule for each bid's security (pure: the two domains' reads in, the record's
entry out), and how a version-3 record's securities print in both exports."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from sunlit.guarantees.queries import Security
from sunlit.opening import export
from sunlit.opening.securities import NONE_PROBLEM, combine

DEADLINE = dt.datetime(2026, 12, 18, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
REQUIRED = Decimal("800000.00")


def _guarantee(verified: bool = True, problems: tuple[str, ...] = ()) -> Security:
    return Security(
        "org",
        "甲建设",
        "91X",
        "bid",
        "guarantee",
        verified,
        problems,
        institution="模拟银行",
        guarantee_no="BH-1",
        amount=REQUIRED,
        valid_to=dt.date(2027, 4, 15),
        form="bank_guarantee",
    )


def _deposit(paid: str, *, at: dt.datetime | None = None, status: str = "paid") -> dict[str, Any]:
    paid_d = Decimal(paid)
    return {
        "kind": "deposit",
        "sub_account_no": "SUB-1",
        "required": REQUIRED,
        "paid": paid_d,
        "paid_at": at or DEADLINE - dt.timedelta(days=1),
        "sufficient": paid_d >= REQUIRED and status != "requested",
        "status": status,
        "status_label": "已缴纳" if status == "paid" else "已开立",
    }


def test_verified_guarantee_or_deposit_is_not_flagged() -> None:
    g = combine(REQUIRED, DEADLINE, _guarantee(), None)
    assert (g["kind"], g["verified"], g["flagged"]) == ("guarantee", True, False)
    assert g["guarantee_no"] == "BH-1" and g["amount"] == "800000.00"
    assert g["required"] == "800000.00" and g["problems"] == []
    d = combine(REQUIRED, DEADLINE, None, _deposit("800000.00"))
    assert (d["kind"], d["verified"], d["flagged"]) == ("deposit", True, False)
    assert d["sub_account_no"] == "SUB-1" and d["paid_at"].startswith("2026-12-17T09:30")


def test_missing_short_late_or_invalid_security_is_flagged() -> None:
    none = combine(REQUIRED, DEADLINE, None, None)
    assert none["kind"] == "none" and none["flagged"] and none["problems"] == [NONE_PROBLEM]
    # The guarantees domain says "none" for a bid without a guarantee: still none.
    no_g = Security("org", "甲建设", "91X", "bid", "none", False, (NONE_PROBLEM,))
    assert combine(REQUIRED, DEADLINE, no_g, None)["kind"] == "none"
    short = combine(REQUIRED, DEADLINE, None, _deposit("300000.00", status="opened"))
    assert short["flagged"] and short["problems"] == ["保证金到账300000.00元，少于应缴800000.00元"]
    nothing = combine(REQUIRED, DEADLINE, None, _deposit("0", status="opened"))
    assert nothing["flagged"] and "保证金未到账" in nothing["problems"][0]
    late = combine(
        REQUIRED, DEADLINE, None, _deposit("800000.00", at=DEADLINE + dt.timedelta(seconds=1))
    )
    assert late["flagged"] and late["problems"] == ["保证金到账时间晚于投标截止时间"]
    bad = combine(REQUIRED, DEADLINE, _guarantee(False, ("金融机构签名验证失败",)), None)
    assert bad["kind"] == "guarantee" and bad["flagged"]
    assert bad["problems"] == ["金融机构签名验证失败"]


def test_either_valid_security_is_enough_and_problems_of_both_are_kept() -> None:
    bad_g = _guarantee(False, ("保函文件哈希与签名信息不符",))
    ok = combine(REQUIRED, DEADLINE, bad_g, _deposit("800000.00"))
    assert ok["kind"] == "deposit" and ok["verified"] and not ok["flagged"]
    both_bad = combine(REQUIRED, DEADLINE, bad_g, _deposit("100.00", status="opened"))
    assert both_bad["flagged"] and both_bad["kind"] == "guarantee"
    assert both_bad["problems"][0] == "保函文件哈希与签名信息不符"
    assert "少于应缴" in both_bad["problems"][1]


def test_no_security_required_flags_nothing() -> None:
    entry = combine(Decimal("0"), DEADLINE, None, None)
    assert entry["kind"] == "none" and not entry["flagged"] and entry["problems"] == []
    assert entry["required"] == "0.00"


def _doc() -> dict[str, Any]:
    ok = combine(REQUIRED, DEADLINE, _guarantee(), None)
    dep = combine(REQUIRED, DEADLINE, None, _deposit("800000.00"))
    none = combine(REQUIRED, DEADLINE, None, None)
    bids = [
        {"bidder_name": n, "credit_code": c, "price": "1.00", "status": "opened", "security": s}
        for n, c, s in (("甲建设", "91X", ok), ("乙建设", "91Y", dep), ("丙建设", "91Z", none))
    ]
    return {"version": 3, "section_code": "S-1", "bid_security": "800000.00", "bids": bids}


def test_exports_show_each_bids_security() -> None:
    ws = load_workbook(io.BytesIO(export.record_xlsx(_doc()))).active
    assert ws is not None
    rows = [[c for c in row if c is not None] for row in ws.iter_rows(values_only=True)]
    flat = [c for row in rows for c in row]
    assert "投标保证金（保函）验真" in flat and "800,000.00 元" in flat
    guarantee_row = next(r for r in rows if "模拟银行 BH-1" in r)
    assert guarantee_row == [
        "1",
        "甲建设",
        "电子投标保函",
        "模拟银行 BH-1",
        "800,000.00",
        "2027-04-15",
        "验真通过",
    ]
    none_row = next(r for r in rows if r[:2] == ["3", "丙建设"] and "无" in r)
    assert none_row[-2:] == ["未通过（已标记，由评标委员会判定）", NONE_PROBLEM]
    assert next(r for r in rows if "SUB-1" in r)[6] == "验真通过"
    assert "未通过（已标记，由评标委员会判定）" in flat
    assert export.record_pdf(_doc()).startswith(b"%PDF")


def test_older_records_print_without_securities() -> None:
    doc = {"version": 2, "section_code": "S-1", "bids": [{"bidder_name": "甲", "credit_code": "1"}]}
    assert not export.has_securities(doc)
    ws = load_workbook(io.BytesIO(export.record_xlsx(doc))).active
    assert ws is not None
    flat = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "投标保证金（保函）验真" not in flat and "—" in flat
