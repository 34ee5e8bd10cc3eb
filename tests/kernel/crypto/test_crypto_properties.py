"""Property-based tests of the parsers (hypothesis): arbitrary bytes only ever raise the
documented typed errors, and encodings round-trip."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sunlit.kernel.crypto import (
    CryptoError,
    DecryptionFailed,
    InvalidSignature,
    get_suite,
    load_private_key_any,
    load_public_key_any,
    signature_from_raw,
    signature_to_raw,
)
from sunlit.kernel.crypto.errors import CertificateError
from sunlit.kernel.crypto.x509 import load_certificate, load_crl

GM = get_suite("gm")
INTL = get_suite("intl")
_SM2_KEY = GM.generate_keypair()
_P256_KEY = INTL.generate_keypair()
_CERT_LIKE = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=300).map(lambda b: b"\x30\x82" + len(b).to_bytes(2, "big") + b),
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(_CERT_LIKE)
def test_certificate_parser_raises_only_certificate_errors(data: bytes) -> None:
    with pytest.raises(CertificateError):
        load_certificate(data)


@FAST
@given(_CERT_LIKE)
def test_crl_parser_raises_only_certificate_errors(data: bytes) -> None:
    with pytest.raises(CertificateError):
        load_crl(data)


@FAST
@given(st.binary(max_size=200))
def test_key_loaders_raise_only_crypto_errors(data: bytes) -> None:
    with pytest.raises(CryptoError):
        load_public_key_any(data)
    with pytest.raises(CryptoError):
        load_private_key_any(data)


@FAST
@given(st.binary(max_size=120))
def test_arbitrary_signatures_are_invalid(data: bytes) -> None:
    with pytest.raises(InvalidSignature):
        GM.verify(_SM2_KEY.public_key(), b"m", data)
    with pytest.raises(InvalidSignature):
        INTL.verify(_P256_KEY.public_key(), b"m", data)


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_wrap_blobs_fail_to_unwrap(data: bytes) -> None:
    with pytest.raises(DecryptionFailed):
        GM.unwrap(_SM2_KEY, data, b"info")
    with pytest.raises(DecryptionFailed):
        INTL.unwrap(_P256_KEY, data, b"info")


@FAST
@given(st.integers(1, 2**256 - 1), st.integers(1, 2**256 - 1))
def test_raw_and_der_signatures_round_trip(r: int, s: int) -> None:
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert signature_to_raw(signature_from_raw(raw)) == raw


@FAST
@given(st.binary(min_size=1, max_size=223), st.binary(max_size=64))
def test_wrap_round_trips_any_key_and_info(secret: bytes, info: bytes) -> None:
    for suite, key in ((GM, _SM2_KEY), (INTL, _P256_KEY)):
        assert suite.unwrap(key, suite.wrap(key.public_key(), secret, info), info) == secret


# --- mutations of valid encodings reach the deep parsing paths --------------------------------


def _pki() -> tuple[object, bytes, bytes]:
    from datetime import UTC, datetime, timedelta

    from sunlit.kernel.crypto.x509 import CertificateAuthority, SubjectInfo, TrustStore

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    ca = CertificateAuthority.create_root(
        GM.generate_keypair(),
        common_name="Fuzz Root",
        not_before=t0,
        not_after=t0 + timedelta(days=9),
    )
    leaf = ca.issue(
        SubjectInfo("王五", "某公司", "9144030071526726XG"),
        GM.generate_keypair().public_key(),
        not_before=t0,
        not_after=t0 + timedelta(days=5),
    )
    crl = ca.issue_crl(this_update=t0, next_update=t0 + timedelta(days=9), crl_number=1)
    return TrustStore([ca.certificate]), leaf.der, crl.der


_STORE, _LEAF, _CRL = _pki()
_MUTATION = st.tuples(st.integers(0, 10_000), st.integers(1, 255), st.booleans())


def _mutate(data: bytes, mutation: tuple[int, int, bool]) -> bytes:
    position, xor, truncate = mutation
    position %= len(data)
    if truncate:
        return data[:position]
    out = bytearray(data)
    out[position] ^= xor
    return bytes(out)


@FAST
@given(_MUTATION, _MUTATION)
def test_mutated_certificates_and_crls_never_crash(
    cert_m: tuple[int, int, bool], crl_m: tuple[int, int, bool]
) -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 1, 2, tzinfo=UTC)
    cert, crl = _mutate(_LEAF, cert_m), _mutate(_CRL, crl_m)
    try:
        verified = _STORE.verify_certificate(cert, at, [crl])  # type: ignore[attr-defined]
    except CryptoError:
        return
    # Accepted only if nothing that matters changed.
    assert verified.serial_number == load_certificate(_LEAF).serial_number
    assert verified.public_key == load_certificate(_LEAF).public_key


@FAST
@given(_MUTATION)
def test_mutated_keys_never_crash(mutation: tuple[int, int, bool]) -> None:
    for data in (_SM2_KEY.to_der(), _P256_KEY.to_der(), _SM2_KEY.public_key().to_der()):
        with contextlib.suppress(CryptoError):
            load_private_key_any(_mutate(data, mutation))
        with contextlib.suppress(CryptoError):
            load_public_key_any(_mutate(data, mutation))
