"""Award letters: 中标通知书 (to the winner) and 中标结果通知书 (to every other bidder).

A letter is a structured JSON document (the data spec's 9018 fields and the letter text),
signed by the platform key over its RFC 8785 canonical bytes. Its PDF is rendered from that
document once, at issuance, and signed too: the platform signs the canonical statement
``{"format": "sunlit-award-letter-pdf", "number": ..., "sha256": <hex of the PDF bytes>}``, so
the file a bidder keeps verifies offline against the platform public key
(``/api/v1/transparency/key.pem``) with ``sunlit award verify``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
from decimal import Decimal
from typing import Any, Final

import rfc8785

from sunlit.kernel.crypto import PrivateKey, PublicKey, get_suite, verify_any
from sunlit.kernel.money import rmb_in_words

LETTER_FORMAT: Final = "sunlit-award-letter"
PDF_FORMAT: Final = "sunlit-award-letter-pdf"
PDF_FONT: Final = "STSong-Light"
TITLES: Final = {"award": "中标通知书", "non_award": "中标结果通知书"}


amount_in_words = rmb_in_words


def format_amount(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):,.2f}"


def _day(value: dt.datetime) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def award_text(d: dict[str, Any]) -> str:
    lines = [
        f"{d['recipient_name']}：",
        f"    你方在投标截止时间（{d['bid_date']}）前递交的"
        f"{d['tender_project_name']}{d['section_name']}"
        f"（标段编号 {d['section_code']}）投标文件已被我方接受，被确定为中标人。",
        f"    中标价：人民币{d['amount_words']}（¥{d['amount']}）。",
    ]
    if d.get("time_limit"):
        lines.append(f"    工期：{d['time_limit']}日历天。")
    if d.get("quality"):
        lines.append(f"    质量：{d['quality']}。")
    if d.get("project_lead"):
        lines.append(f"    项目负责人：{d['project_lead']}。")
    lines.append(
        f"    请你方在接到本通知书后的30日内（{d['contract_due_date']}前）与我方签订书面合同，"
        "并按招标文件的规定向我方提交履约担保。"
    )
    return "\n".join(lines)


def non_award_text(d: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"{d['recipient_name']}：",
            f"    {d['tender_project_name']}{d['section_name']}（标段编号 {d['section_code']}）"
            "的评标和定标工作已经结束。",
            f"    中标人为{d['winner_name']}，中标价为人民币{d['amount_words']}"
            f"（¥{d['amount']}）。你方的投标未被确定为中标。",
            "    感谢你方对本次招标的参与。",
        ]
    )


def build_letter(
    *,
    kind: str,
    number: str,
    tender: Any,
    section: Any,
    tenderer: tuple[str, str],
    agency: tuple[str, str] | None,
    recipient: tuple[str, str],
    winner: tuple[str, str],
    amount: Decimal,
    time_limit: int | None,
    quality: str,
    project_lead: str,
    project_lead_certificate: str,
    bid_date: dt.datetime | None,
    issued_at: dt.datetime,
    key_id: str,
    suite: str,
) -> dict[str, Any]:
    """The structured letter (9018 中标通知书 fields; a non-award letter shares the layout)."""
    d: dict[str, Any] = {
        "format": LETTER_FORMAT,
        "version": 1,
        "kind": kind,
        "title": TITLES[kind],
        "number": number,  # WIN_NOTICE_CODE
        "tender_project_code": tender.code,  # TENDER_PROJECT_CODE
        "tender_project_name": tender.name,  # TENDER_PROJECT_NAME
        "tender_content": tender.content,  # TENDER_NOTICE_CONTENT
        "section_code": section.code,  # BID_SECTION_CODES
        "section_name": section.name,
        "tenderer_name": tenderer[0],
        "tenderer_code": tenderer[1],
        "agency_name": agency[0] if agency else "",
        "agency_code": agency[1] if agency else "",
        "recipient_name": recipient[0],
        "recipient_code": recipient[1],
        "winner_name": winner[0],  # WIN_BIDDER_NAME
        "winner_code": winner[1],  # WIN_BIDDER_CODE
        "amount": format_amount(amount),  # BID_AMOUNT
        "amount_value": str(amount.quantize(Decimal("0.01"))),
        "amount_words": amount_in_words(amount),
        "currency": "CNY",  # BID_CURRENCY
        "price_unit": "元",  # PRICE_UNIT
        "price_form": "金额",  # PRICE_FORM_CODE
        "time_limit": time_limit,  # TIME_LIMIT
        "quality": quality,
        "project_lead": project_lead,  # PROJECT_LEAD
        "project_lead_certificate": project_lead_certificate,  # PROJECT_LEAD_CERTITY_NO
        "bid_date": _day(bid_date) if bid_date else "",  # BID_TIME
        "contract_due_date": _day(issued_at + dt.timedelta(days=30)),
        "issued_at": issued_at.isoformat(),  # WIN_NOTICE_SEND_TIME
        "platform_key_id": key_id,
        "suite": suite,
    }
    d["text"] = award_text(d) if kind == "award" else non_award_text(d)  # WIN_NOTICE_CONTENT
    return d


def letter_bytes(doc: dict[str, Any]) -> bytes:
    return bytes(rfc8785.dumps(doc))


def pdf_statement(number: str, pdf: bytes) -> bytes:
    return bytes(
        rfc8785.dumps(
            {"format": PDF_FORMAT, "number": number, "sha256": hashlib.sha256(pdf).hexdigest()}
        )
    )


def sign(key: PrivateKey, data: bytes) -> str:
    return base64.b64encode(get_suite(key.suite_name).sign(key, data)).decode()


def verify_letter(doc: dict[str, Any], signature_b64: str, key: PublicKey) -> None:
    """Raises ``InvalidSignature`` (or ValueError on bad base64) unless ``key`` signed ``doc``."""
    verify_any(key, letter_bytes(doc), base64.b64decode(signature_b64, validate=True))


def verify_pdf(number: str, pdf: bytes, signature_b64: str, key: PublicKey) -> None:
    """Raises ``InvalidSignature`` unless ``key`` signed this PDF as letter ``number``."""
    verify_any(key, pdf_statement(number, pdf), base64.b64decode(signature_b64, validate=True))


def render_pdf(doc: dict[str, Any]) -> bytes:
    """The letter as an A4 PDF (reportlab, CID font STSong-Light: no font file needed)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    title = ParagraphStyle("t", fontName=PDF_FONT, fontSize=20, leading=28, alignment=1)
    body = ParagraphStyle("b", fontName=PDF_FONT, fontSize=12, leading=22)
    small = ParagraphStyle("s", fontName=PDF_FONT, fontSize=8, leading=11)
    right = ParagraphStyle("r", parent=body, alignment=2)
    out = io.BytesIO()
    pdf = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=22 * mm,
        bottomMargin=18 * mm,
        title=f"{doc['title']} {doc['number']}",
        author=doc["tenderer_name"],
        invariant=1,
    )

    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    story: list[Any] = [
        Paragraph(doc["title"], title),
        Paragraph(f"编号：{esc(doc['number'])}", right),
        Spacer(1, 6 * mm),
    ]
    for line in doc["text"].split("\n"):
        story.append(Paragraph(esc(line).replace("    ", "&nbsp;" * 8), body))
    story.append(Spacer(1, 14 * mm))
    story.append(Paragraph(f"招标人：{esc(doc['tenderer_name'])}", right))
    if doc.get("agency_name"):
        story.append(Paragraph(f"招标代理机构：{esc(doc['agency_name'])}", right))
    story.append(Paragraph(esc(doc["issued_at"][:10]), right))
    story.append(Spacer(1, 14 * mm))
    story.append(
        Paragraph(
            "本通知书由阳光交易平台依据已签名的结构化通知书生成，并以平台密钥（"
            f"{esc(doc['suite'])}，密钥标识 {esc(doc['platform_key_id'][:32])}…）签名；"
            "可用 sunlit award verify 对照平台公钥离线验证本文件。",
            small,
        )
    )
    pdf.build(story)
    return out.getvalue()
