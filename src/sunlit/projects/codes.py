"""Project, tender-project and section codes of the national data specification.

* 项目编号 PROJECT_CODE, 17 characters: one capital letter, the six-digit 行政区划代码 of the
  project, and a ten-character serial. Sunlit's letter is the transaction category
  (E 工程建设, P 政府采购, L 土地矿业权, S 国有产权) and its serial is the year (4 digits)
  followed by a six-digit sequence per letter, region and year.
* 招标项目编号 TENDER_PROJECT_CODE, 20: the project code + a three-digit sequence.
* 标段（包）编号 BID_SECTION_CODE, 23: the tender-project code + a three-digit sequence.

A project registered elsewhere first (e.g. on the provincial platform) keeps its code: any
17-character code of the right shape with a valid region is accepted.
"""

from __future__ import annotations

import re

from sunlit.kernel.codes import parse_region_code
from sunlit.kernel.errors import InvalidInput

_PROJECT = re.compile(r"^[A-Z]\d{6}[0-9A-Z]{10}$")
_INVEST = re.compile(r"^(\d{4})-(\d{6})-(\d{2})-(\d{2})-(\d{6})$")


def parse_project_code(raw: str, field: str = "code") -> str:
    code = (raw or "").strip().upper()
    if len(code) != 17:
        raise InvalidInput(
            "projects.code.length",
            "项目编号应为17位（1位字母+6位行政区划代码+10位流水号），当前为{n}位",
            field=field,
            n=len(code),
        )
    if not _PROJECT.match(code):
        raise InvalidInput(
            "projects.code.format",
            "项目编号“{code}”格式不正确：应为1位大写字母、6位行政区划代码和10位数字或大写字母",
            field=field,
            code=code,
        )
    try:
        parse_region_code(code[1:7], field=field)
    except InvalidInput:
        raise InvalidInput(
            "projects.code.region",
            "项目编号“{code}”第2至7位行政区划代码“{region}”无效",
            field=field,
            code=code,
            region=code[1:7],
        ) from None
    return code


def _child(raw: str, parent_len: int, what: str, code_id: str, field: str) -> str:
    code = (raw or "").strip().upper()
    if len(code) != parent_len + 3 or not code[-3:].isdigit():
        raise InvalidInput(
            code_id,
            "{what}应为{n}位：上级编号加3位数字顺序号",
            field=field,
            what=what,
            n=parent_len + 3,
        )
    if parent_len == 17:
        parse_project_code(code[:17], field=field)
    else:
        parse_tender_project_code(code[:20], field=field)
    return code


def parse_tender_project_code(raw: str, field: str = "code") -> str:
    return _child(raw, 17, "招标项目编号", "projects.tender_code.format", field)


def parse_section_code(raw: str, field: str = "code") -> str:
    return _child(raw, 20, "标段（包）编号", "projects.section_code.format", field)


def child_code(parent: str, sequence: int) -> str:
    if not 1 <= sequence <= 999:
        raise InvalidInput(
            "projects.code.sequence_exhausted",
            "编号{parent}下的顺序号已用尽（最多999个）",
            parent=parent,
        )
    return f"{parent}{sequence:03d}"


def parse_invest_project_code(raw: str, field: str = "invest_project_code") -> str:
    """投资项目统一代码 (24 characters, e.g. 2026-320500-48-01-123456); empty is allowed."""
    code = (raw or "").strip()
    if not code:
        return ""
    m = _INVEST.match(code)
    if m is None:
        raise InvalidInput(
            "projects.invest_code.format",
            "投资项目统一代码“{code}”格式不正确，应形如2026-320500-48-01-123456",
            field=field,
            code=code,
        )
    try:
        parse_region_code(m.group(2), field=field)
    except InvalidInput:
        raise InvalidInput(
            "projects.invest_code.region",
            "投资项目统一代码中的行政区划代码“{region}”无效",
            field=field,
            region=m.group(2),
        ) from None
    return code
