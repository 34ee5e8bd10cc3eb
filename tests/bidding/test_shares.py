"""Collective decryption (2-of-2 shares), the bidder's remedy, opening keys and custody."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest

from sunlit.bidding import opening_keys, sealed
from sunlit.bidding.errors import (
    BadPassphrase,
    IncompleteShares,
    InvalidBidInput,
    OpeningTooEarly,
    WrongKey,
    WrongShare,
)
from sunlit.kernel.crypto import PrivateKey

from .conftest import NOW, Party, party
from .helpers import code_of, header_of


def share(
    p: Party, header: sealed.SealedHeader, part: sealed.Part, role: sealed.Role
) -> sealed.Share:
    key = p.tenderer_key if role == "tenderer" else p.center_key
    return sealed.partial_decrypt(
        header.wrapped_share(part, role), key, role, section_code=header.section_code
    )


def test_a_share_from_the_wrong_key_is_refused_precisely(p: Party, sample: bytes) -> None:
    header = header_of(sample)
    wrapped = header.wrapped_share("summary", "tenderer")
    stranger = p.suite.generate_keypair()
    assert code_of(lambda: sealed.partial_decrypt(wrapped, stranger, "tenderer")) == (
        "bid.wrong_share"
    )
    # the center's key is a real opening key of the section, but not the tenderer's
    assert code_of(lambda: sealed.partial_decrypt(wrapped, p.center_key, "tenderer")) == (
        "bid.wrong_share"
    )
    # the right key claiming the wrong role
    assert code_of(lambda: sealed.partial_decrypt(wrapped, p.tenderer_key, "center")) == (
        "bid.wrong_share"
    )
    other = party("intl" if p.name == "gm" else "gm")
    assert code_of(lambda: sealed.partial_decrypt(wrapped, other.tenderer_key, "tenderer")) == (
        "bid.wrong_share"
    )


def test_a_wrong_share_value_is_attributed_to_its_role(p: Party, sample: bytes) -> None:
    header = header_of(sample)
    good_t = share(p, header, "files", "tenderer")
    good_c = share(p, header, "files", "center")
    assert (
        sealed.combine(header, "files", [good_c, good_t])
        == sealed.remedy_decrypt(io.BytesIO(sample), p.bidder_key).files_key
    )
    bad_c = sealed.Share(
        good_c.section_code, good_c.bid_id, "files", "center", bytes(len(good_c.value))
    )
    with pytest.raises(WrongShare) as info:
        sealed.combine(header, "files", [good_t, bad_c])
    assert "center" in info.value.reason
    with pytest.raises(WrongShare):
        sealed.verify_share(header, bad_c)
    # a share of the summary offered for the files
    assert (
        code_of(
            lambda: sealed.combine(header, "files", [good_t, share(p, header, "summary", "center")])
        )
        == "bid.wrong_share"
    )
    # the tenderer's share submitted twice
    assert code_of(lambda: sealed.combine(header, "files", [good_t, good_t])) == "bid.wrong_share"


def test_combine_with_only_one_share_fails(p: Party, sample: bytes) -> None:
    header = header_of(sample)
    for role in sealed.ROLES:
        with pytest.raises(IncompleteShares):
            sealed.combine(header, "summary", [share(p, header, "summary", role)])
    with pytest.raises(IncompleteShares):
        sealed.combine(header, "summary", [])


def test_one_share_alone_reveals_nothing_usable(p: Party, sample: bytes) -> None:
    header = header_of(sample)
    t = share(p, header, "summary", "tenderer")
    with pytest.raises(WrongKey):  # a share is not the key
        sealed.open_summary(io.BytesIO(sample), t.value)


def test_shares_do_not_replay_across_bids_or_sections(p: Party, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    one, two = header_of(p.seal(tmp_path / "f")), header_of(p.seal(tmp_path / "f"))
    s1 = share(p, one, "files", "tenderer")
    assert code_of(lambda: sealed.verify_share(two, s1)) == "bid.wrong_share"
    moved = sealed.Share(s1.section_code, two.bid_id, "files", "tenderer", s1.value)
    assert code_of(lambda: sealed.verify_share(two, moved)) == "bid.wrong_share"
    # a holder's client opening section B refuses wrapped shares of section A
    wrapped = one.wrapped_share("files", "tenderer")
    assert (
        code_of(
            lambda: sealed.partial_decrypt(
                wrapped, p.tenderer_key, "tenderer", section_code="E3205000001000999001"
            )
        )
        == "bid.wrong_share"
    )


def test_share_json_round_trip(p: Party, sample: bytes) -> None:
    header = header_of(sample)
    s = share(p, header, "summary", "center")
    assert sealed.Share.from_json(s.to_json()) == s
    doc = s.to_json() | {"role": "supervisor"}
    assert code_of(lambda: sealed.Share.from_json(doc)) == "bid.wrong_share"


def test_remedy_with_the_bidder_key_works_and_with_another_fails(p: Party, sample: bytes) -> None:
    keys = sealed.remedy_decrypt(io.BytesIO(sample), p.bidder_key)
    assert sealed.open_summary(io.BytesIO(sample), keys.summary_key).price == "98765.40"
    for other in (p.suite.generate_keypair(), p.tenderer_key, p.center_key):
        assert code_of(lambda o=other: sealed.remedy_decrypt(io.BytesIO(sample), o)) == (
            "bid.wrong_key"
        )
    assert code_of(
        lambda: sealed.open_summary(io.BytesIO(sample), bytes(len(keys.summary_key)))
    ) == ("bid.wrong_key")
    assert (
        code_of(lambda: list(sealed.decrypt_files(io.BytesIO(sample), keys.summary_key)))
        == "bid.wrong_key"
    )


# --- opening keys and custody ------------------------------------------------------------------


def test_opening_keys_are_only_ever_stored_encrypted(p: Party, tmp_path: Path) -> None:
    phrase = opening_keys.generate_passphrase()
    assert len(phrase) == 24 and phrase.count("-") == 4
    key = opening_keys.generate_opening_key("S-1", "tenderer", p.name, phrase)
    assert b"ENCRYPTED PRIVATE KEY" in key.encrypted_private_pem
    unlocked = opening_keys.unlock_opening_key(key.encrypted_private_pem, phrase)
    assert unlocked.public_key() == key.public_key
    with pytest.raises(BadPassphrase):
        opening_keys.unlock_opening_key(key.encrypted_private_pem, phrase + "x")
    with pytest.raises(InvalidBidInput):  # a clear-text key is not an opening key file
        opening_keys.unlock_opening_key(unlocked.to_pem(), phrase)
    for weak in ("short", "aaaaaaaaaaaaaaaa", "abcabcabcabc"):
        with pytest.raises(InvalidBidInput):
            opening_keys.generate_opening_key("S-1", "center", p.name, weak)


def test_full_opening_with_passphrase_protected_keys(p: Party, tmp_path: Path) -> None:
    keys, tenderer, center = opening_keys.generate_section_keys(
        "S-2026-7", p.name, "tenderer passphrase 1", "center passphrase 22"
    )
    (tmp_path / "f.txt").write_text("标书")
    data = p.seal(tmp_path / "f.txt", section=keys)
    header = sealed.verify_structure(io.BytesIO(data), keys).header
    t_key = opening_keys.unlock_opening_key(tenderer.encrypted_private_pem, "tenderer passphrase 1")
    c_key = opening_keys.unlock_opening_key(center.encrypted_private_pem, "center passphrase 22")
    shares = [
        sealed.partial_decrypt(header.wrapped_share("files", "tenderer"), t_key, "tenderer"),
        sealed.partial_decrypt(header.wrapped_share("files", "center"), c_key, "center"),
    ]
    sealed.open_files(io.BytesIO(data), sealed.combine(header, "files", shares), tmp_path / "o")
    assert (tmp_path / "o" / "f.txt").read_text() == "标书"


def test_time_locked_custody(p: Party, sample: bytes) -> None:
    header = header_of(sample)
    opening = NOW + timedelta(hours=2)
    pem = p.center_key.to_pem(b"custody passphrase 1")
    custody = opening_keys.TimeLockedCustody.from_encrypted_pem(
        section_code=header.section_code,
        role="center",
        encrypted_pem=pem,
        passphrase="custody passphrase 1",
        public_key=p.center_key.public_key(),
        opening_time=opening,
    )
    wrapped = [header.wrapped_share(part, "center") for part in sealed.PARTS]
    with pytest.raises(OpeningTooEarly) as info:
        custody.partial_decrypt_many(wrapped, now=opening - timedelta(seconds=1))
    assert info.value.status == 409 and info.value.code == "bid.too_early"
    assert "opening_time" in info.value.params
    with pytest.raises(WrongShare):  # the tenderer's wrapped share is not this custody's
        custody.partial_decrypt(header.wrapped_share("files", "tenderer"), now=opening)
    shares = custody.partial_decrypt_many(wrapped, now=opening)
    t = share(p, header, "summary", "tenderer")
    summary_key = sealed.combine(header, "summary", [t, shares[0]])
    assert sealed.open_summary(io.BytesIO(sample), summary_key).price == "98765.40"
    assert not any(isinstance(v, type(p.center_key)) for v in vars(custody).values())


def test_custody_of_another_section_refuses(p: Party, sample: bytes) -> None:
    header = header_of(sample)
    loaded: list[bool] = []

    def load() -> PrivateKey:
        loaded.append(True)
        return p.tenderer_key

    custody = opening_keys.TimeLockedCustody(
        section_code="ANOTHER-SECTION",
        role="tenderer",
        public_key=p.tenderer_key.public_key(),
        opening_time=NOW,
        load_key=load,
    )
    with pytest.raises(WrongShare):
        custody.partial_decrypt(header.wrapped_share("files", "tenderer"), now=NOW)
    early = opening_keys.TimeLockedCustody(
        section_code=header.section_code,
        role="tenderer",
        public_key=p.tenderer_key.public_key(),
        opening_time=NOW + timedelta(days=1),
        load_key=load,
    )
    with pytest.raises(OpeningTooEarly):
        early.partial_decrypt(header.wrapped_share("files", "tenderer"), now=NOW)
    assert not loaded  # the key was never even loaded before the opening
