"""Property-based tests of the parsers: whatever the input, a precise refusal or a valid value,
never an unexpected exception."""

from __future__ import annotations

import contextlib
import io
import json
import posixpath
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sunlit.bidding import sealed
from sunlit.bidding.errors import (
    BidError,
    InvalidBidInput,
    InvalidSectionKeys,
    WrongShare,
)

from .conftest import party

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(
    st.dictionaries(
        st.sampled_from(["price", "duration_days", "quality", "items", "x"]), json_values
    )
)
def test_summary_json_parses_or_is_refused(doc: dict[str, Any]) -> None:
    try:
        summary = sealed.BidSummary.from_json(json.dumps(doc))
    except InvalidBidInput:
        return
    assert isinstance(summary.price, str)
    assert Decimal(summary.price) >= 0


@given(
    st.integers(0, 10**16 - 1),
    st.one_of(st.none(), st.integers(0, 99)),
)
def test_valid_prices_round_trip(units: int, cents: int | None) -> None:
    text = str(units) if cents is None else f"{units}.{cents:02d}"
    summary = sealed.BidSummary(text)
    assert summary.price == text and summary.price_decimal == Decimal(text)
    assert sealed.BidSummary(Decimal(text)).price == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "price",
    ["", "01", "1.", "1.234", "-1", "1e3", " 1", "1,000", "１２", "NaN", "10000000000000000"],
)
def test_bad_prices(price: str) -> None:
    with pytest.raises(InvalidBidInput):
        sealed.BidSummary(price)


@given(st.text(max_size=40))
def test_accepted_file_names_are_safe(name: str) -> None:
    try:
        sealed.validate_file_name(name)
    except ValueError:
        return
    assert not name.startswith("/") and "\\" not in name and "\x00" not in name
    normalized = posixpath.normpath(name)
    assert normalized == name and not normalized.startswith("..")


@pytest.mark.parametrize(
    "name",
    ["", "/etc/passwd", "../x", "a/../b", "a//b", "a/./b", "a\\b", "con:1", "x\u202etxt.exe",
     "a\x00b", "trailing.", " lead", "A\u030a"],  # last: not NFC
)  # fmt: skip
def test_refused_file_names(name: str) -> None:
    with pytest.raises(ValueError):
        sealed.validate_file_name(name)


@given(json_values)
def test_section_keys_parse_or_are_refused(doc: Any) -> None:
    with contextlib.suppress(InvalidSectionKeys):
        sealed.SectionKeys.from_json(json.dumps(doc))


@pytest.mark.parametrize("suite_name", ["gm", "intl"])
def test_section_keys_round_trip_and_mutations(suite_name: str) -> None:
    keys = party(suite_name).section
    text = keys.to_json()
    assert sealed.SectionKeys.from_json(text) == keys
    doc = json.loads(text)
    for mutate in (
        lambda d: d.update(suite="intl" if suite_name == "gm" else "gm"),
        lambda d: d["tenderer"].update(key_id="00" * 32),
        lambda d: d.update(center=d["tenderer"]),
        lambda d: d.update(section_code="标段一"),
        lambda d: d.update(extra=1),
        lambda d: d.update(version=2),
    ):
        changed = json.loads(json.dumps(doc))
        mutate(changed)
        with pytest.raises(InvalidSectionKeys):
            sealed.SectionKeys.from_json(json.dumps(changed))


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_after_the_magic_are_refused_cleanly(tail: bytes) -> None:
    with pytest.raises(BidError):
        sealed.inspect(io.BytesIO(sealed.MAGIC + tail))


@given(
    st.dictionaries(
        st.sampled_from(["section_code", "bid_id", "part", "role", "value", "x"]), json_values
    )
)
def test_share_messages_parse_or_are_refused(doc: dict[str, Any]) -> None:
    try:
        share = sealed.Share.from_json(doc)
    except WrongShare:
        return
    assert share.part in sealed.PARTS and share.role in sealed.ROLES
