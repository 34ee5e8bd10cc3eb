"""Export of the signed opening record (开标记录表) as PDF (reportlab, built-in CID font
``STSong-Light``: no font file needed) and Excel (openpyxl). Both are rendered from the
signed JSON record only, so they show exactly what was signed."""

from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from sunlit.kernel.money import rmb_in_words

PDF_FONT: Final = "STSong-Light"
COLUMNS: Final = (
    "序号",
    "投标人",
    "统一社会信用代码",
    "投标报价（元）",
    "大写金额",
    "工期（日历天）",
    "质量",
    "解密状态",
    "投标人确认",
)
SECURITY_COLUMNS: Final = (
    "序号",
    "投标人",
    "形式",
    "出具机构 / 保函编号 / 子账号",
    "金额（元）",
    "有效期至 / 到账时间",
    "验真结果",
    "说明",
)
OBJECTION_COLUMNS: Final = ("序号", "异议人", "提出时间", "异议内容", "答复", "答复人", "答复时间")


def amount_in_words(price: str | None) -> str:
    """人民币大写 of a price in 元 (empty when there is no price)."""
    if not price:
        return ""
    try:
        value = Decimal(price)
    except InvalidOperation:
        return ""
    return rmb_in_words(value)


def format_amount(price: str | None) -> str:
    if not price:
        return ""
    try:
        return f"{Decimal(price):,.2f}"
    except InvalidOperation:
        return price


def _clock(value: str | None) -> str:
    """``2026-11-23T10:05:12.123+08:00`` → ``2026-11-23 10:05:12`` (as signed, shortened)."""
    if not value:
        return ""
    return value.replace("T", " ")[:19]


def response_text(c: dict[str, Any] | None) -> str:
    if not c:
        return ""
    if c.get("response") == "confirmed":
        return f"确认无误（{c.get('confirmed_by') or ''} {_clock(c.get('confirmed_at'))}）"
    return str(c.get("response_label") or c.get("response") or "")


def rows(doc: dict[str, Any]) -> list[list[str]]:
    out = []
    by_code = {c["credit_code"]: c for c in doc.get("confirmations") or []}
    for i, b in enumerate(doc.get("bids", []), start=1):
        out.append(
            [
                str(i),
                b["bidder_name"],
                b["credit_code"],
                format_amount(b.get("price")),
                amount_in_words(b.get("price")),
                "" if b.get("duration_days") is None else str(b["duration_days"]),
                b.get("quality") or "",
                b.get("status_label") or b.get("status", ""),
                response_text(by_code.get(b["credit_code"])),
            ]
        )
    return out


def security_text(sec: dict[str, Any] | None) -> str:
    """验真 result of one bid's security: 通过 / 不通过（标记）/ 无需提交."""
    if not sec:
        return ""
    if sec.get("verified"):
        return "验真通过"
    if sec.get("flagged"):
        return "未通过（已标记，由评标委员会判定）"
    return "无需提交"


def has_securities(doc: dict[str, Any]) -> bool:
    """Version 3 records carry each bid's security; older ones show none."""
    return any("security" in b for b in doc.get("bids", []))


def security_rows(doc: dict[str, Any]) -> list[list[str]]:
    out = []
    for i, b in enumerate(doc.get("bids", []), start=1):
        sec = b.get("security") or {}
        if sec.get("kind") == "guarantee":
            ref = f"{sec.get('institution') or ''} {sec.get('guarantee_no') or ''}".strip()
            when = sec.get("valid_to") or ""
        elif sec.get("kind") == "deposit":
            ref = str(sec.get("sub_account_no") or "")
            when = _clock(sec.get("paid_at"))
        else:
            ref = when = ""
        out.append(
            [
                str(i),
                b["bidder_name"],
                str(sec.get("kind_label") or ""),
                ref,
                format_amount(sec.get("amount")),
                when,
                security_text(sec),
                "；".join(sec.get("problems") or []),
            ]
        )
    return out


def objection_rows(doc: dict[str, Any]) -> list[list[str]]:
    return [
        [
            str(i),
            f"{o.get('bidder_name', '')} {o.get('raised_by') or ''}".strip(),
            _clock(o.get("raised_at")),
            o.get("content") or "",
            o.get("answer") or "",
            o.get("answered_by") or "",
            _clock(o.get("answered_at")),
        ]
        for i, o in enumerate(doc.get("objections") or [], start=1)
    ]


def _heading(doc: dict[str, Any]) -> list[tuple[str, str]]:
    draw = doc.get("draw") or {}
    outputs = draw.get("outputs") or []
    drawn = "；".join(f"{o.get('name', '')}={o.get('value', '')}" for o in outputs)
    return [
        ("招标项目", f"{doc.get('tender_name', '')}（{doc.get('tender_code', '')}）"),
        ("标段", f"{doc.get('section_name', '')}（{doc.get('section_code', '')}）"),
        ("开标时间", str(doc.get("opening_time") or "")),
        ("投标文件数", f"{doc.get('bid_count', 0)}（最少 {doc.get('min_bidders', '')} 家）"),
        ("系数抽取", drawn or "无"),
        ("投标保证金要求", _security_required(doc)),
        ("投标人确认期至", _clock(doc.get("confirm_until")) or "—"),
        ("记录生成时间", str(doc.get("generated_at") or "")),
        ("平台签名密钥", str(doc.get("platform_key_id") or "")),
    ]


def _security_required(doc: dict[str, Any]) -> str:
    if "bid_security" not in doc:
        return "—"
    amount = doc.get("bid_security") or "0"
    return f"{format_amount(amount)} 元" if Decimal(amount) > 0 else "不要求"


def record_pdf(doc: dict[str, Any]) -> bytes:
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
    body = ParagraphStyle("b", fontName=PDF_FONT, fontSize=9, leading=13)
    out = io.BytesIO()
    pdf = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"开标记录表 {doc.get('section_code', '')}",
    )
    story: list[Any] = [Paragraph("开标记录表", title), Spacer(1, 4 * mm)]
    for label, value in _heading(doc):
        story.append(Paragraph(f"{label}：{value}", body))
    story.append(Spacer(1, 4 * mm))
    style = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )
    data = [[Paragraph(c, body) for c in COLUMNS]]
    data += [[Paragraph(_escape(c), body) for c in r] for r in rows(doc)]
    widths = [9 * mm, 44 * mm, 34 * mm, 28 * mm, 50 * mm, 17 * mm, 16 * mm, 32 * mm, 43 * mm]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(style)
    story.append(table)
    if has_securities(doc):
        story.append(Spacer(1, 4 * mm))
        story.append(Paragraph("投标保证金（保函）验真", body))
        data = [[Paragraph(c, body) for c in SECURITY_COLUMNS]]
        data += [[Paragraph(_escape(c), body) for c in r] for r in security_rows(doc)]
        widths = [9 * mm, 44 * mm, 24 * mm, 50 * mm, 26 * mm, 30 * mm, 34 * mm, 56 * mm]
        table = Table(data, colWidths=widths, repeatRows=1)
        table.setStyle(style)
        story.append(table)
    story.append(Spacer(1, 4 * mm))
    story.append(Paragraph("开标异议及答复", body))
    objections = objection_rows(doc)
    if objections:
        data = [[Paragraph(c, body) for c in OBJECTION_COLUMNS]]
        data += [[Paragraph(_escape(c), body) for c in r] for r in objections]
        widths = [9 * mm, 44 * mm, 28 * mm, 70 * mm, 70 * mm, 24 * mm, 28 * mm]
        table = Table(data, colWidths=widths, repeatRows=1)
        table.setStyle(style)
        story.append(table)
    else:
        story.append(Paragraph("无", body))
    story.append(Spacer(1, 6 * mm))
    story.append(Paragraph("本表由平台依据已签名的开标记录生成。招标人（代理机构）确认：", body))
    pdf.build(story)
    return out.getvalue()


def _escape(text: str) -> str:
    """Paragraph text is mini-HTML: a bidder's ``<`` or ``&`` must print as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _append(ws: Any, values: list[str]) -> None:
    """Append text cells; text that looks like a formula (``=…``) stays text."""
    ws.append(values)
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
            cell.data_type = "s"


def record_xlsx(doc: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "开标记录表"
    ws.append(["开标记录表"])
    ws["A1"].font = Font(bold=True, size=14)
    for label, value in _heading(doc):
        _append(ws, [label, value])
    ws.append([])
    ws.append(list(COLUMNS))
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
    for r in rows(doc):
        _append(ws, r)
    if has_securities(doc):
        ws.append([])
        ws.append(["投标保证金（保函）验真"])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        ws.append(list(SECURITY_COLUMNS))
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for r in security_rows(doc):
            _append(ws, r)
    ws.append([])
    ws.append(["开标异议及答复"])
    ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
    objections = objection_rows(doc)
    if objections:
        ws.append(list(OBJECTION_COLUMNS))
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for r in objections:
            _append(ws, r)
    else:
        ws.append(["无"])
    for col, width in zip("ABCDEFGHI", (6, 36, 22, 30, 40, 24, 20, 30, 36), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=header_row):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
