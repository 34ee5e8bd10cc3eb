"""Vocabulary of the expert domain: specialty codes, ID numbers, mobiles, exclusion rules.

Specialties follow the 公共资源交易评标专家专业分类标准: hierarchical codes, one letter for the
first level (A 工程类, B 货物类, C 服务类) and two digits per further level. The table is the data
file ``data/specialties.csv`` (a subset; a center replaces it with its full table).
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from sunlit.kernel.errors import InvalidInput

DATA = Path(__file__).resolve().parent / "data" / "specialties.csv"
_CODE = re.compile(r"[A-C](\d\d){0,3}")


@dataclass(frozen=True)
class Specialty:
    code: str
    name: str

    @property
    def level(self) -> int:
        return 1 + (len(self.code) - 1) // 2

    @property
    def parent(self) -> str | None:
        return self.code[:-2] if len(self.code) > 1 else None


@lru_cache(maxsize=1)
def specialties() -> dict[str, Specialty]:
    """The code table, in file order; every code's parent is in it."""
    table: dict[str, Specialty] = {}
    with DATA.open(encoding="utf-8") as fh:
        for row in csv.reader(line for line in fh if not line.startswith("#")):
            if not row:
                continue
            code, name = row[0].strip(), row[1].strip()
            if not _CODE.fullmatch(code):
                raise ValueError(f"bad specialty code in {DATA.name}: {code!r}")
            s = Specialty(code, name)
            if s.parent is not None and s.parent not in table:
                raise ValueError(f"specialty {code} listed before its parent {s.parent}")
            table[code] = s
    return table


def full_name(code: str) -> str:
    """``A0101 国民经济和社会发展规划`` with its ancestors: ``工程类 / 规划 / 国民经济…``."""
    table = specialties()
    names = []
    c: str | None = code
    while c is not None and c in table:
        names.append(table[c].name)
        c = table[c].parent
    return " / ".join(reversed(names))


def parse_specialty(raw: str, field: str = "specialty") -> str:
    code = (raw or "").strip().upper()
    if code not in specialties():
        raise InvalidInput(
            "experts.specialty.unknown",
            "专业代码“{code}”不在评标专家专业分类标准中",
            field=field,
            code=code,
        )
    return code


def matches(expert_code: str, wanted: str) -> bool:
    """An expert qualified in ``A010101`` counts for a draw in ``A0101`` (or ``A01``, ``A``)."""
    return expert_code.startswith(wanted)


# --- 居民身份证号码 (GB 11643-1999) ------------------------------------------------------------

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def parse_id_number(raw: str, field: str = "id_number") -> str:
    number = (raw or "").strip().upper()
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        raise InvalidInput(
            "experts.id_number.format", "身份证号码应为18位（末位可为X）", field=field
        )
    expected = id_check_char(number[:17])
    if number[17] != expected:
        raise InvalidInput(
            "experts.id_number.check",
            "身份证号码校验位错误：第18位应为“{expected}”",
            field=field,
            expected=expected,
        )
    return number


def id_digest(number: str) -> str:
    """A lookup key for an ID number (avoidance lists are matched and kept in this form).

    Not a secret protection (ID numbers are a small space); it only keeps the tenderer's
    avoidance list from holding the full numbers.
    """
    return hashlib.sha256(b"sunlit/expert-id/v1\n" + number.encode()).hexdigest()


def mask_id(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:]


def parse_mobile(raw: str, field: str = "mobile") -> str:
    mobile = (raw or "").strip().replace(" ", "").replace("-", "")
    if not re.fullmatch(r"1[3-9]\d{9}", mobile):
        raise InvalidInput("experts.mobile", "手机号码应为以1开头的11位数字", field=field)
    return mobile


def mask_mobile(mobile: str) -> str:
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) == 11 else mobile


class Rule(StrEnum):
    """Exclusion rules (回避与限制), applied in this order before a draw."""

    INACTIVE = "inactive"
    CREDIT = "credit_restricted"
    LEAVE = "on_leave"
    REGION = "region"
    BIDDER = "bidder_employee"
    TENDERER = "tenderer_employee"
    AGENCY = "agency_employee"
    AVOIDANCE = "avoidance_list"
    COOLDOWN = "cooldown"
    ALREADY_DRAWN = "already_drawn"

    @property
    def label(self) -> str:
        return RULE_LABELS[self]


RULE_LABELS: dict[Rule, str] = {
    Rule.INACTIVE: "专家已停用或暂停",
    Rule.CREDIT: "信用记录限制期内",
    Rule.LEAVE: "评标期间请假",
    Rule.REGION: "不在限定地区",
    Rule.BIDDER: "投标人的工作人员",
    Rule.TENDERER: "招标人的工作人员",
    Rule.AGENCY: "招标代理机构的工作人员",
    Rule.AVOIDANCE: "招标人提出的回避名单",
    Rule.COOLDOWN: "近期已被抽取（冷却期内）",
    Rule.ALREADY_DRAWN: "本标段已抽取过",
}
