"""The evaluation report (评标报告) as PDF (reportlab, built-in CID font ``STSong-Light``),
rendered from the structured report document only, plus the signatures and dissents."""

from __future__ import annotations

import io
from typing import Any, Final

PDF_FONT: Final = "STSong-Light"
TIE_LABELS: Final = {
    "": "",
    "price": "报价较低者优先",
    "technical": "技术分较高者优先",
    "draw": "随机抽取",
}


def report_pdf(view: dict[str, Any]) -> bytes:
    """``view`` is :func:`sunlit.evaluation.queries.report_view`."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    doc = view["document"]
    title = ParagraphStyle("t", fontName=PDF_FONT, fontSize=16, leading=22, alignment=1)
    h2 = ParagraphStyle("h", fontName=PDF_FONT, fontSize=11, leading=16, spaceBefore=6)
    body = ParagraphStyle("b", fontName=PDF_FONT, fontSize=9, leading=13)
    out = io.BytesIO()
    pdf = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"评标报告 {doc.get('section_code', '')}",
    )
    style = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )

    def table(rows: list[list[str]], widths: list[float]) -> Table:
        t = Table([[Paragraph(c, body) for c in r] for r in rows], colWidths=widths, repeatRows=1)
        t.setStyle(style)
        return t

    result = doc["result"]
    story: list[Any] = [Paragraph("评标报告", title), Spacer(1, 4 * mm)]
    for label, value in (
        ("招标项目", f"{doc['tender_name']}（{doc['tender_code']}）"),
        ("标段", f"{doc['section_name']}（{doc['section_code']}）"),
        ("评标办法", doc["method_label"]),
        ("评标基准价", result.get("benchmark") or "—"),
        ("评标开始", doc.get("started_at") or ""),
        ("报告生成", doc.get("generated_at") or ""),
        ("远程异地评标", "是" if doc.get("remote") else "否"),
        ("报告摘要（SHA-256）", view["digest"]),
    ):
        story.append(Paragraph(f"{label}：{value}", body))
    story.append(Paragraph("一、评标委员会", h2))
    rows = [["姓名", "类别", "工作单位", "职责", "状态"]]
    for m in doc["committee"]:
        rows.append(
            [
                m["name"],
                "抽取专家" if m["source"] == "drawn" else "招标人代表",
                m["employer"],
                "评标组长" if m["leader"] else "成员",
                f"回避：{m['recusal_reason']}" if m["recused"] else "参加",
            ]
        )
    story.append(table(rows, [22 * mm, 22 * mm, 70 * mm, 20 * mm, 48 * mm]))
    story.append(Paragraph("二、评审结果与排序", h2))
    rows = [
        ["排名", "投标人", "投标报价（元）", "评标价/得分", "技术", "商务", "价格分", "同分处理"]
    ]
    for r in result["ranking"]:
        rows.append(
            [
                str(r["rank"]),
                r["name"] or r["bidder_id"],
                r["price"],
                r["score"] if r["score"] is not None else r["evaluated_price"],
                r["technical"] or "",
                r["commercial"] or "",
                r["price_score"] or "",
                TIE_LABELS.get(r["tie_break"], r["tie_break"]),
            ]
        )
    story.append(
        table(rows, [12 * mm, 44 * mm, 28 * mm, 22 * mm, 14 * mm, 14 * mm, 16 * mm, 26 * mm])
    )
    story.append(Paragraph("三、中标候选人（按排名）", h2))
    for c in doc["candidates"]:
        story.append(
            Paragraph(
                f"第{c['rank']}名：{c['name']}（{c['credit_code']}），报价 {c['price']} 元"
                + (f"，得分 {c['score']}" if c["score"] is not None else ""),
                body,
            )
        )
    story.append(Paragraph("四、否决投标情况", h2))
    if not result["rejected"]:
        story.append(Paragraph("无", body))
    for r in result["rejected"]:
        story.append(Paragraph(f"{r['name'] or r['bidder_id']}：{'；'.join(r['reasons'])}", body))
    if doc.get("clarifications"):
        story.append(Paragraph("五、澄清情况", h2))
        for c in doc["clarifications"]:
            story.append(
                Paragraph(
                    f"{c['bidder']} 问：{c['question']} 答：{c['answer'] or '（未答复）'}", body
                )
            )
    story.append(Paragraph("评标委员会成员签署", h2))
    rows = [["成员", "签署时间", "证书", "不同意见"]]
    for s in view["signatures"]:
        rows.append([s["name"], s["signed_at"] or "未签署", s["certificate"], s["dissent"] or "无"])
    story.append(table(rows, [22 * mm, 40 * mm, 60 * mm, 60 * mm]))
    story.append(Spacer(1, 4 * mm))
    story.append(
        Paragraph(
            "本报告由平台依据评标委员会成员的评分按招标文件规定的评标办法计算生成；"
            "各成员以本人数字证书对报告摘要及其不同意见签名。",
            body,
        )
    )
    pdf.build(story)
    return out.getvalue()
