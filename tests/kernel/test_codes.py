"""统一社会信用代码 (GB 32100-2015) and region codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sunlit.kernel.codes import (
    USCC_ALPHABET,
    make_credit_code,
    parse_credit_code,
    parse_region_code,
    uscc_check_char,
)
from sunlit.kernel.errors import InvalidInput

# Codes of well-known companies, as printed on their business licences.
REAL_CODES = [
    "91330100716105852F",  # 阿里巴巴（中国）有限公司
    "9144030071526726XG",  # 深圳市腾讯计算机系统有限公司
    "914403001922038216",  # 华为技术有限公司
    "91110000802100433B",
    "91350100M000100Y43",
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code: str) -> None:
    parsed = parse_credit_code(code)
    assert parsed.code == code
    assert parsed.region_code == code[2:8]


def test_lowercase_and_spaces_are_normalized() -> None:
    assert parse_credit_code(" 9144030071526726xg ").code == "9144030071526726XG"


@pytest.mark.parametrize(
    ("code", "error", "fragment"),
    [
        ("9133010071610585", "code.uscc.length", "当前为16位"),
        ("91330100716105852FF", "code.uscc.length", "当前为19位"),
        ("", "code.uscc.length", "当前为0位"),
        ("91330100716105852I", "code.uscc.alphabet", "“I”"),
        ("9133010071610585OZ", "code.uscc.alphabet", "“OZ”"),
        ("9133010071610585-F", "code.uscc.alphabet", "“-”"),
        ("H1330100716105852F", "code.uscc.authority", "第1位"),
        ("91990100716105852F", "code.uscc.region", "990100"),
        ("91330100716105852E", "code.uscc.check_char", "应为“F”"),
        ("91330100716105853F", "code.uscc.check_char", "校验位错误"),
    ],
)
def test_invalid_codes_say_what_is_wrong(code: str, error: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_credit_code(code)
    assert info.value.code == error
    assert fragment in info.value.detail


def test_check_character_worked_example() -> None:
    # 9144030071526726X + G: weights 3^i mod 31 over the first 17 characters.
    assert uscc_check_char("9144030071526726X") == "G"


body = st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8)


@given(org8=body)
def test_made_codes_are_valid_and_any_single_change_is_caught(org8: str) -> None:
    code = make_credit_code("9", "1", "320500", org8)
    assert parse_credit_code(code).code == code
    for i in range(18):
        for replacement in "0A":
            if code[i] == replacement:
                continue
            changed = code[:i] + replacement + code[i + 1 :]
            # A single substitution always changes the weighted sum mod 31 (weights are
            # units mod 31), so the check character catches it unless an earlier check fires.
            with pytest.raises(InvalidInput):
                parse_credit_code(changed)


@given(st.text(max_size=30))
def test_parser_never_crashes(raw: str) -> None:
    try:
        parse_credit_code(raw)
    except InvalidInput as exc:
        assert exc.code.startswith("code.uscc.")


def test_region_codes() -> None:
    assert parse_region_code("320505") == "320505"
    for bad in ("32050", "3205051", "990000", "32050A"):
        with pytest.raises(InvalidInput):
            parse_region_code(bad)
