"""HTML form fields → the API's input models (so pages and API run the same use cases)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from sunlit.kernel.errors import InvalidInput
from sunlit.projects.schemas import (
    CoefficientIn,
    EntrustmentIn,
    ProjectIn,
    RegisterTenderIn,
    SectionIn,
    TenderProjectIn,
)

FIELD_LABELS = {
    "name": "名称",
    "category": "交易类别",
    "region_code": "行政区划代码",
    "method": "招标方式",
    "estimated_price": "合同估算价",
    "control_price": "最高投标限价",
    "bid_security": "投标保证金",
    "evaluation_method": "评标办法",
    "bid_deadline": "投标截止时间",
    "contract_no": "委托代理合同编号",
}


def _text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def _decimal(form: Mapping[str, Any], key: str, label: str) -> Decimal | None:
    raw = _text(form, key).replace(",", "").replace("，", "")
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(
            "forms.decimal", "“{label}”应为数字：{value}", field=key, label=label, value=raw
        ) from None


def _datetime(form: Mapping[str, Any], key: str, label: str) -> dt.datetime | None:
    raw = _text(form, key)
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            "forms.datetime", "“{label}”时间格式不正确", field=key, label=label
        ) from None


def _int(form: Mapping[str, Any], key: str) -> int | None:
    raw = _text(form, key)
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidInput("forms.integer", "“{key}”应为整数", field=key, key=key)
    return int(raw)


def parse_coefficients(text: str) -> list[CoefficientIn]:
    """One coefficient per line: ``下浮系数K: 0.95, 0.96, 0.97``."""
    result = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        name, sep, values = line.replace("：", ":").rpartition(":")
        if not sep or not name.strip():
            raise InvalidInput(
                "forms.coefficients",
                "抽取系数每行写作“名称: 候选值1, 候选值2, …”，例如“下浮系数K: 0.95, 0.96”",
                field="coefficients",
            )
        try:
            candidates = [
                Decimal(v.strip()) for v in values.replace("，", ",").split(",") if v.strip()
            ]
        except InvalidOperation:
            raise InvalidInput(
                "forms.coefficients.value",
                "系数“{name}”的候选值须为数字",
                field="coefficients",
                name=name.strip(),
            ) from None
        result.append(CoefficientIn(name=name.strip(), candidates=candidates))
    return result


def coefficients_text(section: Any) -> str:
    return "\n".join(
        f"{c.name}: {', '.join(str(v) for v in c.values)}" for c in section.coefficients
    )


def _model(cls: type, **values: Any) -> Any:
    try:
        return cls(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][-1]) if first["loc"] else ""
        raise InvalidInput(
            "request.invalid",
            "“{label}”填写不符合要求，请检查后重新提交",
            field=field,
            label=FIELD_LABELS.get(field, field),
        ) from None


def section_in(form: Mapping[str, Any]) -> SectionIn:
    deadline = _datetime(form, "bid_deadline", "投标截止时间")
    security = _decimal(form, "bid_security", "投标保证金")
    result: SectionIn = _model(
        SectionIn,
        name=_text(form, "name"),
        content=_text(form, "content"),
        classify_code=_text(form, "classify_code"),
        qualification=_text(form, "qualification"),
        estimated_price=_decimal(form, "estimated_price", "合同估算价"),
        control_price=_decimal(form, "control_price", "最高投标限价"),
        bid_security=security if security is not None else Decimal("0"),
        duration_days=_int(form, "duration_days"),
        bid_validity_days=_int(form, "bid_validity_days") or 90,
        evaluation_method=_text(form, "evaluation_method"),
        bid_deadline=deadline,
        min_bidders=_int(form, "min_bidders"),
        allow_consortium=bool(form.get("allow_consortium")),
        coefficients=parse_coefficients(_text(form, "coefficients")),
    )
    return result


def tender_in(form: Mapping[str, Any]) -> TenderProjectIn:
    contract = _text(form, "contract_no")
    result: TenderProjectIn = _model(
        TenderProjectIn,
        name=_text(form, "tender_name") or _text(form, "name"),
        method=_text(form, "method"),
        must_tender=bool(form.get("must_tender")),
        project_type=_text(form, "project_type"),
        content=_text(form, "content"),
        supervise_dept_name=_text(form, "supervise_dept_name"),
        agency_credit_code=_text(form, "agency_credit_code") or None,
        entrustment=EntrustmentIn(contract_no=contract, scope=_text(form, "scope"))
        if contract
        else None,
    )
    return result


def register_in(form: Mapping[str, Any]) -> RegisterTenderIn:
    project = _model(
        ProjectIn,
        name=_text(form, "project_name"),
        category=_text(form, "category"),
        region_code=_text(form, "region_code"),
        code=_text(form, "project_code") or None,
        tenderer_credit_code=_text(form, "tenderer_credit_code") or None,
        invest_project_code=_text(form, "invest_project_code"),
        legal_person=_text(form, "legal_person"),
        fund_source=_text(form, "fund_source"),
        approval_name=_text(form, "approval_name"),
        approval_number=_text(form, "approval_number"),
    )
    result: RegisterTenderIn = _model(RegisterTenderIn, project=project, tender=tender_in(form))
    return result
