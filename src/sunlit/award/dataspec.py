"""The award's records under the national data spec's field names (公共资源交易平台系统数据规范,
as implemented in Fujian V4; china-standards.md Appendix A): 510 中标候选人, 511 中标候选人公示,
513 中标结果公告, 9018 中标通知书, 512 合同, 9019 异议.

Only fields Sunlit actually holds are filled; code-set fields whose code lists are not
published with the spec (主体类别, 价格单位 …) are left to the reporting adapter that maps
them for a given public service platform. Times are ``yyyyMMddHHmmss`` in Beijing time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sunlit.kernel import clock

OBJECTION_TYPE_EVALUATION_RESULT = "3"  # 代码集 10003: 1 招标文件 2 开标 3 评标结果


def stamp(value: dt.datetime | None) -> str:
    return clock.ensure_aware(value).strftime("%Y%m%d%H%M%S") if value is not None else ""


def records(
    *,
    tender: Any,
    section: Any,
    process: Any,
    candidates: list[Any],
    publicity: Any | None,
    result: Any | None,
    letters: list[Any],
    contract: Any | None,
    objections: list[Any],
) -> dict[str, list[dict[str, Any]]]:
    base = {"TENDER_PROJECT_CODE": tender.code, "BID_SECTION_CODE": section.code}
    out: dict[str, list[dict[str, Any]]] = {}
    out["510"] = [
        {
            **base,
            "WIN_CANDIDATE_NAME": c.name,
            "WIN_CANDIDATE_CODE": c.credit_code,
            "WIN_CANDIDATE_ORDER": c.rank,
            "EVALUATION_RESULT": c.score,
            "BID_PRICE": f"{c.price:.2f}",
            "PRICE_CURRENCY": section.currency,
            "QUALITY": c.quality,
            "IS_FLOAT_RATE": "0",
        }
        for c in candidates
    ]
    if publicity is not None:
        row = {
            "TENDER_PROJECT_CODE": tender.code,
            "BID_SECTION_CODES": section.code,
            "PUBLICITY_NAME": publicity.title,
            "PUBLICITY_CONTENT": publicity.content,
            "PUBLICITY_REFER_TIME": stamp(publicity.published_at),
            "PUBLICITY_START_TIME": stamp(process.publicity_start),
            "PUBLICITY_END_TIME": stamp(process.publicity_end),
            "OBJECTION_METHOD": process.objection_channel,
        }
        for c, prefix in zip(candidates, ("FIRST", "SECOND", "THIRD"), strict=False):
            row[f"{prefix}_BIDDER_NAME"] = c.name
            row[f"{prefix}_BIDDER_CODE"] = c.credit_code
        out["511"] = [row]
    winner = next((c for c in candidates if c.id == process.winner_id), None)
    if result is not None and winner is not None:
        out["513"] = [
            {
                **base,
                "REGION_CODE": tender.region_code,
                "NOTICE_NAME": result.title,
                "NOTICE_CONTENT": result.content,
                "NOTICE_SEND_TIME": stamp(result.published_at),
                "WIN_BIDDER_NAME": winner.name,
                "WIN_BIDDER_CODE": winner.credit_code,
                "BID_AMOUNT": f"{winner.price:.2f}",
                "BID_CURRENCY": section.currency,
            }
        ]
    out["9018"] = [
        {
            "TENDER_PROJECT_CODE": tender.code,
            "TENDER_PROJECT_NAME": tender.name,
            "BID_SECTION_CODES": section.code,
            "WIN_NOTICE_CODE": lt.number,
            "WIN_BIDDER_NAME": lt.doc["winner_name"],
            "WIN_BIDDER_CODE": lt.doc["winner_code"],
            "TENDER_NOTICE_CONTENT": lt.doc["tender_content"],
            "TIME_LIMIT": lt.doc["time_limit"],
            "BID_AMOUNT": lt.doc["amount_value"],
            "BID_CURRENCY": lt.doc["currency"],
            "PROJECT_LEAD": lt.doc["project_lead"],
            "PROJECT_LEAD_CERTITY_NO": lt.doc["project_lead_certificate"],
            "WIN_NOTICE_CONTENT": lt.doc["text"],
            "WIN_NOTICE_SEND_TIME": stamp(lt.issued_at),
        }
        for lt in letters
        if lt.kind == "award"
    ]
    if contract is not None:
        out["512"] = [
            {
                **base,
                "CONTRACT_NAME": contract.name,
                "TENDERER_NAME": contract.tenderer_name,
                "TENDER_CODE": contract.tenderer_code,
                "BIDDER_NAME": contract.winner_name,
                "BIDDER_CODE": contract.winner_code,
                "CONTRACT_PRICE": f"{contract.price:.2f}",
                "PRICE_CURRENCY": section.currency,
                "CONTRACT_CONTENT": contract.content,
                "LIMITE_TIME": contract.limit_time,
                "QUALITY_REQUIRE": contract.quality,
                "SUBMIT_TIME": stamp(contract.submitted_at),
                "CONTRACT_SIGN_TIME": stamp(contract.signed_at),
                "CONTRACT_CODE": contract.contract_code,
            }
        ]
    out["9019"] = [
        {
            **base,
            "OBJECTIONG_GUID": o.id,
            "TITTLE": f"对{section.name}评标结果的异议",
            "CONTENT": o.content,
            "TYPE": OBJECTION_TYPE_EVALUATION_RESULT,
            "SUBMIT_TIME": stamp(o.raised_at),
            "CREATOR": o.org_name,
            "CREATOR_CODE": o.credit_code,
            "CREATOR_CONTACT": o.contact,
        }
        for o in objections
    ]
    return out
