"""Codes and statutory periods: properties (hypothesis) and the calendar around holidays."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sunlit.kernel.clock import WorkingCalendar
from sunlit.kernel.codes import PROVINCE_PREFIXES
from sunlit.kernel.errors import InvalidInput
from sunlit.notices import periods
from sunlit.projects import codes
from sunlit.projects.catalog import Category, Method
from sunlit.projects.forms import parse_coefficients

regions = st.builds(
    lambda p, rest: p + rest,
    st.sampled_from(sorted(PROVINCE_PREFIXES)),
    st.from_regex(r"\d{4}", fullmatch=True),
)
letters = st.sampled_from([c.code_letter for c in Category])


@given(letters, regions, st.integers(2000, 2099), st.integers(1, 999999), st.integers(1, 999))
def test_codes_round_trip(letter: str, region: str, year: int, serial: int, seq: int) -> None:
    project = f"{letter}{region}{year:04d}{serial:06d}"
    assert codes.parse_project_code(project.lower()) == project
    tender = codes.child_code(project, seq)
    section = codes.child_code(tender, seq)
    assert codes.parse_tender_project_code(tender) == tender and len(tender) == 20
    assert codes.parse_section_code(section) == section and len(section) == 23


@given(st.text(max_size=30))
def test_project_code_parser_only_raises_invalid_input(raw: str) -> None:
    try:
        code = codes.parse_project_code(raw)
    except InvalidInput as exc:
        assert exc.code.startswith("projects.code.")
    else:
        assert len(code) == 17 and code[1:3] in PROVINCE_PREFIXES


def test_sequences_are_bounded() -> None:
    with pytest.raises(InvalidInput) as info:
        codes.child_code("E3205002026000001", 1000)
    assert info.value.code == "projects.code.sequence_exhausted"


@pytest.mark.parametrize(
    ("start", "method", "earliest"),
    [
        # Three working days from Wednesday 2026-09-30 skip the National Day week (10-01..10-07)
        # and count the adjusted working Saturday 10-10.
        ("2026-09-30", Method.COMPETITIVE_NEGOTIATION, "2026-10-10"),
        ("2026-11-23", Method.INQUIRY, "2026-11-26"),
        ("2026-11-27", Method.SINGLE_SOURCE, "2026-12-04"),
        ("2026-11-23", Method.OPEN, "2026-12-13"),
        ("2026-11-23", Method.COMPETITIVE_CONSULTATION, "2026-12-03"),
    ],
)
def test_government_procurement_periods_use_working_days(
    start: str, method: Method, earliest: str
) -> None:
    rule = periods.issuing_period(Category.GOVERNMENT_PROCUREMENT, method, True)
    assert rule is not None
    day = rule.earliest(dt.date.fromisoformat(start), WorkingCalendar())
    assert day.isoformat() == earliest


def test_engineering_rule_only_for_mandatory_tenders() -> None:
    assert periods.issuing_period(Category.ENGINEERING, Method.OPEN, False) is None
    rule = periods.issuing_period(Category.ENGINEERING, Method.INVITED, True)
    assert rule is not None and rule.text == "20日" and "第二十四条" in rule.basis
    lead = periods.clarification_lead(Category.ENGINEERING, Method.OPEN)
    assert lead.text == "15日" and "第二十三条" in lead.basis


@given(
    st.lists(
        st.tuples(
            st.text("下浮系数KΔ率", min_size=1, max_size=8),
            st.lists(st.decimals(-10, 10, places=3, allow_nan=False), min_size=1, max_size=5),
        ),
        max_size=3,
    )
)
def test_coefficient_lines_parse_back(items: list[tuple[str, list[object]]]) -> None:
    text = "\n".join(f"{name}: {', '.join(str(v) for v in values)}" for name, values in items)
    parsed = parse_coefficients(text)
    assert [(c.name, c.candidates) for c in parsed] == [(n.strip(), list(v)) for n, v in items]
