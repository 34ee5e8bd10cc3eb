"""Excel import and export of the expert pool (openpyxl).

Import validates every row and every column first and reports each problem as
``{"row", "column", "message"}`` (row numbers as Excel shows them); if any row is bad nothing is
imported. The export uses the same columns, so an exported file can be edited and re-imported
(ID numbers are exported masked unless ``full_ids`` is asked for by staff).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from sunlit.kernel.codes import parse_credit_code, parse_region_code
from sunlit.kernel.errors import DomainError, InvalidInput

from .catalog import parse_id_number, parse_mobile, parse_specialty
from .models import Expert
from .schemas import ExpertIn

COLUMNS: list[tuple[str, str]] = [
    ("name", "姓名"),
    ("id_number", "身份证号码"),
    ("mobile", "手机号码"),
    ("employer_name", "工作单位"),
    ("employer_credit_code", "工作单位统一社会信用代码"),
    ("title", "职称"),
    ("region_code", "所在地区代码"),
    ("main_specialty", "主评专业代码"),
    ("other_specialties", "其他专业代码"),
]
MAX_ROWS = 20000


def _required(label: str) -> Callable[[str], Any]:
    def check(value: str) -> str:
        if not value:
            raise InvalidInput("experts.required", "请填写{label}", label=label)
        return value

    return check


def _others(value: str) -> list[str]:
    parts = [p.strip() for p in value.replace("，", ",").replace("、", ",").split(",")]
    return [parse_specialty(p) for p in parts if p]


CHECKS: dict[str, Callable[[str], Any]] = {
    "name": _required("姓名"),
    "id_number": parse_id_number,
    "mobile": parse_mobile,
    "employer_name": _required("工作单位"),
    "employer_credit_code": parse_credit_code,
    "title": lambda v: v,
    "region_code": parse_region_code,
    "main_specialty": parse_specialty,
    "other_specialties": _others,
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse(content: bytes) -> list[ExpertIn]:
    """Every row as :class:`ExpertIn`, or :class:`InvalidInput` listing every bad cell."""
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise InvalidInput("experts.excel.file", "无法读取Excel文件（应为 .xlsx）") from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [_cell(v) for v in next(rows, ())]
    labels = {label: key for key, label in COLUMNS}
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        if h in labels:
            index[labels[h]] = i
    missing = [
        label
        for key, label in COLUMNS
        if key not in index and key not in ("title", "other_specialties")
    ]
    if missing:
        raise InvalidInput(
            "experts.excel.header", "表头缺少列：{columns}", columns="、".join(missing)
        )
    errors: list[dict[str, Any]] = []
    out: list[ExpertIn] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(rows, start=2):
        values = {k: _cell(raw[i]) if i < len(raw) else "" for k, i in index.items()}
        if not any(values.values()):
            continue
        if len(out) + len(errors) >= MAX_ROWS:
            raise InvalidInput("experts.excel.too_many", "一次最多导入{n}行", n=MAX_ROWS)
        row_errors = []
        cleaned: dict[str, Any] = {}
        for key, label in COLUMNS:
            try:
                cleaned[key] = CHECKS[key](values.get(key, ""))
            except DomainError as exc:
                row_errors.append({"row": n, "column": label, "message": exc.detail})
        number = cleaned.get("id_number")
        if isinstance(number, str):
            if number in seen:
                row_errors.append(
                    {"row": n, "column": "身份证号码", "message": f"与第{seen[number]}行重复"}
                )
            seen.setdefault(number, n)
        if row_errors:
            errors.extend(row_errors)
            continue
        out.append(
            ExpertIn(
                name=cleaned["name"],
                id_number=cleaned["id_number"],
                mobile=cleaned["mobile"],
                employer_name=cleaned["employer_name"],
                employer_credit_code=cleaned["employer_credit_code"].code,
                title=cleaned["title"],
                region_code=cleaned["region_code"],
                main_specialty=cleaned["main_specialty"],
                other_specialties=cleaned["other_specialties"],
            )
        )
    if errors:
        first = errors[0]
        raise InvalidInput(
            "experts.excel.rows",
            "导入失败，共{n}处错误，未导入任何专家。第{row}行“{column}”：{reason}",
            errors=errors,
            n=len(errors),
            row=first["row"],
            column=first["column"],
            reason=first["message"],
        )
    if not out:
        raise InvalidInput("experts.excel.empty", "Excel文件中没有专家数据")
    return out


def export(experts: Sequence[Expert], full_ids: bool = False) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "专家库"
    ws.append([label for _, label in COLUMNS] + ["状态", "信用限制至"])
    for e in experts:
        ws.append(
            [
                e.name,
                e.id_number if full_ids else e.id_masked,
                e.mobile,
                e.employer_name,
                e.employer_credit_code,
                e.title,
                e.region_code,
                e.main_specialty,
                ",".join(s.code for s in e.specialties if s.position > 0),
                "正常" if e.status == "active" else "暂停",
                e.restricted_until.strftime("%Y-%m-%d") if e.restricted_until else "",
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
