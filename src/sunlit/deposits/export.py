"""The daily reconciliation report (保证金日对账报告) as JSON, Excel (openpyxl) and PDF
(reportlab, built-in CID font ``STSong-Light``)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import DepositBank, Reconciliation, StatementLine

PDF_FONT: Final = "STSong-Light"
DIFF_LABELS: Final = {
    "missing_on_platform": "银行有、平台无",
    "missing_at_bank": "平台有、银行无",
    "amount_mismatch": "金额不符",
}
LINE_COLUMNS: Final = (
    "流水号",
    "方向",
    "子账号",
    "金额（元）",
    "对方账号",
    "对方户名",
    "业务编号",
    "记账时间",
)
DIFF_COLUMNS: Final = ("差异类型", "业务编号", "子账号", "银行金额", "平台金额")


def money(value: Decimal | str | None) -> str:
    if value is None:
        return ""
    return f"{Decimal(value):,.2f}"


def reconciliation_json(row: Reconciliation) -> dict[str, Any]:
    return {
        "id": row.id,
        "bank_id": row.bank_id,
        "day": row.day.isoformat(),
        "run_at": row.run_at.isoformat(),
        "bank_credits": str(row.bank_credits),
        "bank_debits": str(row.bank_debits),
        "platform_credits": str(row.platform_credits),
        "platform_debits": str(row.platform_debits),
        "recovered": row.recovered,
        "balanced": row.balanced,
        "differences": row.differences,
    }


def _summary(db: Session, row: Reconciliation) -> list[tuple[str, str]]:
    bank = db.get(DepositBank, row.bank_id)
    return [
        ("开户行", bank.name if bank else ""),
        (
            "保证金专户",
            f"{bank.master_account_no if bank else ''} {bank.master_account_name if bank else ''}",
        ),
        ("对账日期", row.day.isoformat()),
        ("对账时间", row.run_at.strftime("%Y-%m-%d %H:%M:%S")),
        ("银行贷方合计（来账）", money(row.bank_credits)),
        ("平台来账合计", money(row.platform_credits)),
        ("银行借方合计（退款）", money(row.bank_debits)),
        ("平台退款合计", money(row.platform_debits)),
        ("据对账单补录来账", str(row.recovered)),
        ("结论", "账实相符" if row.balanced else f"存在 {len(row.differences)} 笔差异"),
    ]


def _lines(db: Session, row: Reconciliation) -> list[list[str]]:
    lines = db.scalars(
        select(StatementLine)
        .where(StatementLine.bank_id == row.bank_id, StatementLine.day == row.day)
        .order_by(StatementLine.booked_at)
    )
    return [
        [
            ln.line_id,
            "贷（来账）" if ln.direction == "credit" else "借（退款）",
            ln.sub_account_no,
            money(ln.amount),
            ln.counterparty_account_no,
            ln.counterparty_name,
            ln.ref,
            ln.booked_at.strftime("%Y-%m-%d %H:%M:%S"),
        ]
        for ln in lines
    ]


def _diffs(row: Reconciliation) -> list[list[str]]:
    return [
        [
            DIFF_LABELS.get(d["kind"], d["kind"]),
            d["ref"],
            d["sub_account_no"],
            money(d["bank_amount"]),
            money(d["platform_amount"]),
        ]
        for d in row.differences
    ]


def reconciliation_xlsx(db: Session, row: Reconciliation) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "对账汇总"
    ws.append(["投标保证金日对账报告"])
    ws["A1"].font = Font(bold=True, size=14)
    for label, value in _summary(db, row):
        ws.append([label, value])
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 48
    diffs = wb.create_sheet("差异明细")
    diffs.append(list(DIFF_COLUMNS))
    for r in _diffs(row):
        diffs.append(r)
    lines = wb.create_sheet("银行对账单")
    lines.append(list(LINE_COLUMNS))
    for r in _lines(db, row):
        lines.append(r)
    for sheet in (diffs, lines):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for col in "ABCDEFGH":
            sheet.column_dimensions[col].width = 22
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def reconciliation_pdf(db: Session, row: Reconciliation) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    title = ParagraphStyle("t", fontName=PDF_FONT, fontSize=16, leading=22, alignment=1)
    body = ParagraphStyle("b", fontName=PDF_FONT, fontSize=8, leading=11)
    out = io.BytesIO()
    pdf = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"投标保证金日对账报告 {row.day}",
    )
    story: list[Any] = [Paragraph("投标保证金日对账报告", title), Spacer(1, 4 * mm)]
    for label, value in _summary(db, row):
        story.append(Paragraph(f"{label}：{value}", body))
    style = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ]
    )
    for heading, columns, data in (
        ("差异明细", DIFF_COLUMNS, _diffs(row)),
        ("银行对账单", LINE_COLUMNS, _lines(db, row)),
    ):
        story += [Spacer(1, 4 * mm), Paragraph(heading, body)]
        cells = [[Paragraph(c, body) for c in columns]]
        cells += [[Paragraph(c, body) for c in r] for r in data] or [
            [Paragraph("无", body)] + [Paragraph("", body)] * (len(columns) - 1)
        ]
        table = Table(cells, repeatRows=1)
        table.setStyle(style)
        story.append(table)
    pdf.build(story)
    return out.getvalue()
