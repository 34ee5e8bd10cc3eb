"""National codes validated where they enter the platform.

* 统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters =
  registration authority (1) + organization category (1) + 行政区划 (6) + organization code
  (9, GB 11714 with its own check digit) + check character (1).
"""

from __future__ import annotations

from dataclasses import dataclass

from sunlit.kernel.errors import InvalidInput

# GB 32100-2015 alphabet: digits and capital letters without I, O, Z, S, V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, ...
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]  # GB 11714-1997

REGISTRATION_AUTHORITIES = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "市场监督管理（工商）",
    "A": "中央军委改革和编制办公室",
    "B": "农业",
    "C": "其他",
    "D": "其他",
    "E": "其他",
    "F": "其他",
    "G": "其他",
    "N": "农业",
    "Y": "其他",
}

# First two digits of 行政区划代码 (GB/T 2260): provinces, plus 10 used for national bodies.
PROVINCE_PREFIXES = frozenset(
    {
        "10",
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    }
)


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character of the 9-character organization code."""
    total = sum(_VALUE[c] * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


@dataclass(frozen=True)
class CreditCode:
    code: str

    @property
    def region_code(self) -> str:
        return self.code[2:8]

    @property
    def organization_code(self) -> str:
        return self.code[8:17]

    @property
    def registration_authority(self) -> str:
        return REGISTRATION_AUTHORITIES[self.code[0]]


def parse_credit_code(raw: str, field: str = "credit_code") -> CreditCode:
    """Validate a 统一社会信用代码; raise InvalidInput saying exactly what is wrong."""
    code = (raw or "").strip().upper()
    if len(code) != 18:
        raise InvalidInput(
            "code.uscc.length",
            "统一社会信用代码应为18位，当前为{n}位",
            field=field,
            n=len(code),
        )
    bad = [c for c in code if c not in _VALUE]
    if bad:
        raise InvalidInput(
            "code.uscc.alphabet",
            "统一社会信用代码含有不允许的字符“{chars}”（仅允许数字和除I、O、Z、S、V外的大写字母）",
            field=field,
            chars="".join(dict.fromkeys(bad)),
        )
    if code[0] not in REGISTRATION_AUTHORITIES:
        raise InvalidInput(
            "code.uscc.authority",
            "统一社会信用代码第1位登记管理部门代码“{c}”无效",
            field=field,
            c=code[0],
        )
    if not code[2:8].isdigit() or code[2:4] not in PROVINCE_PREFIXES:
        raise InvalidInput(
            "code.uscc.region",
            "统一社会信用代码第3至8位行政区划码“{region}”无效",
            field=field,
            region=code[2:8],
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise InvalidInput(
            "code.uscc.check_char",
            "统一社会信用代码校验位错误：第18位应为“{expected}”，实际为“{actual}”，请核对后重新输入",
            field=field,
            expected=expected,
            actual=code[17],
        )
    return CreditCode(code)


def make_credit_code(authority: str, category: str, region: str, org8: str) -> str:
    """Build a valid code (demo data and tests): both check characters are computed."""
    org9 = org8 + org_code_check_char(org8)
    first17 = authority + category + region + org9
    return first17 + uscc_check_char(first17)


def parse_region_code(raw: str, field: str = "region_code") -> str:
    """A six-digit 行政区划代码 with a known province prefix."""
    code = (raw or "").strip()
    if len(code) != 6 or not code.isdigit() or code[:2] not in PROVINCE_PREFIXES:
        raise InvalidInput(
            "code.region.invalid", "行政区划代码“{code}”无效，应为6位数字", field=field, code=code
        )
    return code
