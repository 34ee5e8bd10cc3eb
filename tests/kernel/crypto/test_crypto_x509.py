"""Certificates and CRLs: the development CA, the multi-root trust store, OpenSSL interop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509

from sunlit.kernel.crypto import UnsupportedKey, get_suite
from sunlit.kernel.crypto.errors import (
    CertificateBadSignature,
    CertificateError,
    CertificateExpired,
    CertificateInvalidIssuer,
    CertificateMalformed,
    CertificateNotYetValid,
    CertificateRevoked,
    CertificateUntrusted,
    CertificateUsageNotAllowed,
    CrlBadSignature,
    CrlMalformed,
    RevocationUnknown,
)
from sunlit.kernel.crypto.x509 import (
    Certificate,
    CertificateAuthority,
    RevocationList,
    SubjectInfo,
    TrustStore,
    is_credit_code,
    load_certificate,
    load_crl,
)

from .helpers import SM2_ID, OpenSSL

GM = get_suite("gm")
INTL = get_suite("intl")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
NOW = T0 + 10 * DAY
CREDIT_CODE = "9144030071526726XG"
SUBJECT = SubjectInfo(
    common_name="张三",
    organization="苏州某某建设工程有限公司",
    credit_code=CREDIT_CODE,
    role="投标人授权代表",
)
Writer = Callable[[str, bytes], Path]


def _epoch(moment: datetime) -> str:
    return str(int(moment.timestamp()))


@dataclass
class Pki:
    suite_name: str
    ca: CertificateAuthority
    leaf: Certificate
    crl: RevocationList


def _make_pki(suite_name: str, root_name: str) -> Pki:
    suite = get_suite(suite_name)
    ca = CertificateAuthority.create_root(
        suite.generate_keypair(),
        common_name=root_name,
        organization="阳光交易开发CA",
        not_before=T0,
        not_after=T0 + 3650 * DAY,
    )
    leaf = ca.issue(
        SUBJECT, suite.generate_keypair().public_key(), not_before=T0, not_after=T0 + 365 * DAY
    )
    crl = ca.issue_crl(this_update=T0, next_update=T0 + 30 * DAY, crl_number=1)
    return Pki(suite_name, ca, leaf, crl)


@pytest.fixture(scope="module")
def gm_pki() -> Pki:
    return _make_pki("gm", "Sunlit 国密开发根CA")


@pytest.fixture(scope="module")
def intl_pki() -> Pki:
    return _make_pki("intl", "Sunlit ECDSA Dev Root")


@pytest.fixture(params=["gm", "intl"])
def pki(request: pytest.FixtureRequest, gm_pki: Pki, intl_pki: Pki) -> Pki:
    return gm_pki if request.param == "gm" else intl_pki


@pytest.fixture
def store(gm_pki: Pki, intl_pki: Pki) -> TrustStore:
    """Both roots trusted at once (多CA互认)."""
    return TrustStore([gm_pki.ca.certificate, intl_pki.ca.certificate])


# --- credit code ------------------------------------------------------------------------------


def test_credit_code_check_character() -> None:
    assert is_credit_code("9144030071526726XG")
    assert is_credit_code("91330100716105852F")
    assert not is_credit_code("9144030071526726XH")  # wrong check character
    assert not is_credit_code("9144030071526726X")  # too short
    assert not is_credit_code("914403007152672OXG")  # O is not in the alphabet
    with pytest.raises(ValueError):
        SubjectInfo(common_name="李四", organization="某公司", credit_code="91440300715267260A")


# --- what the CA issues -----------------------------------------------------------------------


def test_issued_certificate_contents(pki: Pki) -> None:
    leaf, root = pki.leaf, pki.ca.certificate
    assert leaf.subject == {
        "country_name": "CN",
        "organization_name": SUBJECT.organization,
        "title": SUBJECT.role,
        "common_name": SUBJECT.common_name,
        "organization_identifier": CREDIT_CODE,
    }
    assert leaf.issuer == root.subject
    assert leaf.not_before == T0 and leaf.not_after == T0 + 365 * DAY
    assert 0 < leaf.serial_number < 2**128
    assert (
        leaf.serial_number
        != pki.ca.issue(SUBJECT, leaf.public_key, not_before=T0, not_after=T0 + DAY).serial_number
    )
    assert not leaf.is_ca and root.is_ca
    expected_alg = "1.2.156.10197.1.501" if pki.suite_name == "gm" else "1.2.840.10045.4.3.2"
    assert leaf.signature_algorithm_oid == expected_alg
    parsed = asn1_x509.Certificate.load(leaf.der)
    assert parsed.key_usage_value.native == {"digital_signature"}
    assert parsed.extended_key_usage_value.native == ["client_auth"]
    assert parsed.basic_constraints_value.native == {"ca": False, "path_len_constraint": None}
    assert parsed.critical_extensions == {"basic_constraints", "key_usage"}
    root_parsed = asn1_x509.Certificate.load(root.der)
    assert root_parsed.key_usage_value.native == {"key_cert_sign", "crl_sign"}
    assert root_parsed.self_signed == "maybe"
    assert load_certificate(leaf.to_pem()) == leaf
    assert load_crl(pki.crl.to_pem()).der == pki.crl.der


def test_openssl_parses_certificates_and_crls(pki: Pki, openssl: OpenSSL, write: Writer) -> None:
    leaf = write("leaf.pem", pki.leaf.to_pem())
    text = openssl.run("x509", "-in", leaf, "-noout", "-text").decode()
    assert ("SM2-with-SM3" if pki.suite_name == "gm" else "ecdsa-with-SHA256") in text
    assert f"organizationIdentifier = {CREDIT_CODE}" in text
    assert "CA:FALSE" in text and "Digital Signature" in text
    assert "TLS Web Client Authentication" in text
    root_text = openssl.run(
        "x509", "-in", write("root.pem", pki.ca.certificate.to_pem()), "-noout", "-text"
    ).decode()
    assert "CA:TRUE" in root_text and "Certificate Sign, CRL Sign" in root_text
    serial = openssl.run("x509", "-in", leaf, "-noout", "-serial").decode().strip()
    assert int(serial.removeprefix("serial="), 16) == pki.leaf.serial_number
    fingerprint = openssl.run("x509", "-in", leaf, "-noout", "-fingerprint", "-sha256").decode()
    assert (
        fingerprint.strip().split("=", 1)[1].replace(":", "").lower() == pki.leaf.fingerprint.hex()
    )
    crl_text = openssl.run(
        "crl", "-in", write("crl.pem", pki.crl.to_pem()), "-noout", "-text"
    ).decode()
    assert "Version 2" in crl_text and "CRL Number" in crl_text and "Next Update" in crl_text


def test_openssl_verifies_the_ecdsa_chain_and_crl(
    intl_pki: Pki, openssl: OpenSSL, write: Writer
) -> None:
    root = write("root.pem", intl_pki.ca.certificate.to_pem())
    leaf = write("leaf.pem", intl_pki.leaf.to_pem())
    at = _epoch(NOW)
    assert openssl.run("verify", "-attime", at, "-CAfile", root, leaf).strip().endswith(b"OK")
    assert openssl.ok(
        "verify",
        "-attime",
        at,
        "-crl_check",
        "-CRLfile",
        write("crl.pem", intl_pki.crl.to_pem()),
        "-CAfile",
        root,
        leaf,
    )
    # OpenSSL honours our CRL: once revoked, it refuses the certificate (error 23).
    ca = CertificateAuthority(intl_pki.ca.certificate, intl_pki.ca.private_key)
    ca.revoke(intl_pki.leaf.serial_number, T0 + DAY)
    revoked = write(
        "revoked.pem",
        ca.issue_crl(this_update=T0 + DAY, next_update=T0 + 30 * DAY, crl_number=2).to_pem(),
    )
    out = openssl.output(
        "verify", "-attime", at, "-crl_check", "-CRLfile", revoked, "-CAfile", root, leaf
    )
    assert "certificate revoked" in out
    # ... and expiry.
    assert "certificate has expired" in openssl.output(
        "verify", "-attime", _epoch(T0 + 400 * DAY), "-CAfile", root, leaf
    )


def test_openssl_verifies_the_sm2_chain_with_the_default_id(
    gm_pki: Pki, openssl: OpenSSL, write: Writer
) -> None:
    root = write("root.pem", gm_pki.ca.certificate.to_pem())
    leaf = write("leaf.pem", gm_pki.leaf.to_pem())
    at = _epoch(NOW)
    # OpenSSL 3.0 verifies SM2 certificate signatures with the ID given by -vfyopt; without it,
    # it uses an empty ID and fails (documented in ADR 0003).
    assert (
        openssl.run("verify", "-attime", at, "-vfyopt", f"distid:{SM2_ID}", "-CAfile", root, leaf)
        .strip()
        .endswith(b"OK")
    )
    # Tampering is noticed by OpenSSL as well, so the check above can fail.
    tampered = bytearray(gm_pki.leaf.der)
    tampered[-5] ^= 0x01
    bad = write("bad.pem", load_certificate_unchecked_pem(bytes(tampered)))
    assert not openssl.ok(
        "verify", "-attime", at, "-vfyopt", f"distid:{SM2_ID}", "-CAfile", root, bad
    )


def load_certificate_unchecked_pem(der: bytes) -> bytes:
    from sunlit.kernel.crypto._asn1 import armor

    return armor("CERTIFICATE", der)


@pytest.mark.parametrize("suite_name", ["gm", "intl"])
def test_openssl_verifies_a_chain_with_an_intermediate(
    suite_name: str, openssl: OpenSSL, write: Writer
) -> None:
    suite = get_suite(suite_name)
    pki = _make_pki(suite_name, f"Root {suite_name}")
    sub = pki.ca.create_intermediate(
        suite.generate_keypair(), common_name="Sub CA", not_before=T0, not_after=T0 + 1000 * DAY
    )
    leaf = sub.issue(
        SUBJECT, suite.generate_keypair().public_key(), not_before=T0, not_after=T0 + 100 * DAY
    )
    root_pem = write("root.pem", pki.ca.certificate.to_pem())
    sub_pem = write("sub.pem", sub.certificate.to_pem())
    leaf_pem = write("leaf.pem", leaf.to_pem())
    at = _epoch(NOW)
    if suite_name == "intl":
        assert openssl.ok(
            "verify", "-attime", at, "-CAfile", root_pem, "-untrusted", sub_pem, leaf_pem
        )
        return
    # OpenSSL 3.0 applies -vfyopt distid only to the certificate being verified (depth 0), so a
    # whole SM2 chain fails at depth 1; each link verifies on its own (ADR 0003).
    opts = ("-vfyopt", f"distid:{SM2_ID}")
    assert openssl.ok("verify", "-attime", at, *opts, "-CAfile", root_pem, sub_pem)
    assert openssl.ok(
        "verify", "-attime", at, *opts, "-partial_chain", "-CAfile", sub_pem, leaf_pem
    )
    other = write("other.pem", _make_pki("gm", "Sub CA").ca.certificate.to_pem())
    assert not openssl.ok(
        "verify", "-attime", at, *opts, "-partial_chain", "-CAfile", other, leaf_pem
    )


# --- the trust store --------------------------------------------------------------------------


def test_two_roots_trusted_at_once(store: TrustStore, gm_pki: Pki, intl_pki: Pki) -> None:
    for pki in (gm_pki, intl_pki):
        verified = store.verify_certificate(pki.leaf, NOW, [gm_pki.crl, intl_pki.crl])
        assert verified.common_name == "张三"
        assert verified.organization == SUBJECT.organization
        assert verified.credit_code == CREDIT_CODE
        assert verified.role == SUBJECT.role
        assert verified.serial_number == pki.leaf.serial_number
        assert verified.issuer == pki.ca.certificate.subject["common_name"]
        assert verified.issuer_key_id == pki.ca.certificate.public_key.key_id()
        assert verified.public_key == pki.leaf.public_key
        assert verified.key_id == pki.leaf.public_key.key_id()
        assert verified.chain == (pki.ca.certificate,)
    # DER and PEM input are accepted too.
    assert (
        store.verify_certificate(gm_pki.leaf.der, NOW, [gm_pki.crl.der]).credit_code == CREDIT_CODE
    )
    assert store.verify_certificate(intl_pki.leaf.to_pem(), NOW, [intl_pki.crl.to_pem()]).key_id


def test_certificate_from_an_untrusted_root_is_refused(store: TrustStore) -> None:
    for suite_name in ("gm", "intl"):
        stranger = _make_pki(suite_name, "Some Other CA")
        with pytest.raises(CertificateUntrusted) as err:
            store.verify_certificate(stranger.leaf, NOW, [stranger.crl])
        assert err.value.code == "cert.untrusted"


def test_impostor_root_with_a_trusted_name_is_refused(store: TrustStore, gm_pki: Pki) -> None:
    # Same issuer name and the same organization as the trusted root, but another key.
    rogue = CertificateAuthority.create_root(
        GM.generate_keypair(),
        common_name=gm_pki.ca.certificate.subject["common_name"],
        organization=gm_pki.ca.certificate.subject["organization_name"],
        not_before=T0,
        not_after=T0 + 3650 * DAY,
    )
    forged = rogue.issue(
        SUBJECT, GM.generate_keypair().public_key(), not_before=T0, not_after=T0 + 365 * DAY
    )
    with pytest.raises(CertificateBadSignature) as err:
        store.verify_certificate(forged, NOW, [gm_pki.crl])
    assert err.value.code == "cert.bad_signature"


def test_validity_window(store: TrustStore, pki: Pki) -> None:
    crls = [pki.crl]
    assert store.verify_certificate(pki.leaf, T0, crls)  # boundary: valid from not_before
    with pytest.raises(CertificateNotYetValid) as early:
        store.verify_certificate(pki.leaf, T0 - timedelta(seconds=1), crls)
    assert early.value.code == "cert.not_yet_valid"
    late_crl = pki.ca.issue_crl(
        this_update=T0 + 360 * DAY, next_update=T0 + 400 * DAY, crl_number=9
    )
    assert store.verify_certificate(pki.leaf, T0 + 365 * DAY, [late_crl])  # until not_after
    with pytest.raises(CertificateExpired) as late:
        store.verify_certificate(pki.leaf, T0 + 365 * DAY + timedelta(seconds=1), [late_crl])
    assert late.value.code == "cert.expired"
    with pytest.raises(CertificateExpired):  # no rounding down to whole seconds
        store.verify_certificate(pki.leaf, T0 + 365 * DAY + timedelta(microseconds=1), [late_crl])
    with pytest.raises(CertificateNotYetValid):
        store.verify_certificate(pki.leaf, T0 - timedelta(microseconds=1), crls)
    # Any timezone works: 08:00 in Shanghai is midnight UTC.
    shanghai = timezone(timedelta(hours=8))
    assert store.verify_certificate(pki.leaf, datetime(2026, 1, 1, 8, tzinfo=shanghai), crls)
    with pytest.raises(CertificateNotYetValid):
        store.verify_certificate(pki.leaf, datetime(2026, 1, 1, 7, 59, tzinfo=shanghai), crls)


def test_time_must_be_timezone_aware(store: TrustStore, gm_pki: Pki) -> None:
    with pytest.raises(ValueError):
        store.verify_certificate(gm_pki.leaf, datetime(2026, 1, 5), [gm_pki.crl])


def test_revocation_through_the_crl(store: TrustStore, pki: Pki) -> None:
    ca = CertificateAuthority(pki.ca.certificate, pki.ca.private_key)
    victim = ca.issue(
        SUBJECT,
        get_suite(pki.suite_name).generate_keypair().public_key(),
        not_before=T0,
        not_after=T0 + 365 * DAY,
    )
    bystander = ca.issue(SUBJECT, victim.public_key, not_before=T0, not_after=T0 + 365 * DAY)
    revoked_at = T0 + 5 * DAY
    ca.revoke(victim.serial_number, revoked_at)
    crl = ca.issue_crl(this_update=T0 + 5 * DAY, next_update=T0 + 35 * DAY, crl_number=2)
    assert crl.revoked == {victim.serial_number: revoked_at}
    with pytest.raises(CertificateRevoked) as err:
        store.verify_certificate(victim, NOW, [crl])
    assert err.value.code == "cert.revoked"
    # Before the revocation date the certificate was good (historic signatures stay valid).
    assert store.verify_certificate(victim, revoked_at - timedelta(seconds=1), [crl])
    assert store.verify_certificate(bystander, NOW, [crl])
    # Supplying an older CRL as well does not hide the revocation.
    with pytest.raises(CertificateRevoked):
        store.verify_certificate(victim, NOW, [pki.crl, crl])


def test_crl_with_a_bad_signature_is_refused(store: TrustStore, pki: Pki) -> None:
    der = bytearray(pki.crl.der)
    der[-3] ^= 0x40  # inside the signature's s integer
    with pytest.raises(CrlBadSignature) as err:
        store.verify_certificate(pki.leaf, NOW, [bytes(der)])
    assert err.value.code == "crl.bad_signature"
    # A CRL claiming the trusted root's name but signed by another key is refused as well.
    rogue = CertificateAuthority.create_root(
        get_suite(pki.suite_name).generate_keypair(),
        common_name=pki.ca.certificate.subject["common_name"],
        organization=pki.ca.certificate.subject["organization_name"],
        not_before=T0,
        not_after=T0 + 3650 * DAY,
    )
    forged_crl = rogue.issue_crl(this_update=T0, next_update=T0 + 30 * DAY, crl_number=7)
    with pytest.raises(CrlBadSignature):
        store.verify_certificate(pki.leaf, NOW, [pki.crl, forged_crl])


def test_missing_or_stale_crl_means_unknown_revocation(store: TrustStore, pki: Pki) -> None:
    with pytest.raises(RevocationUnknown) as err:
        store.verify_certificate(pki.leaf, NOW, [])
    assert err.value.code == "cert.revocation_unknown"
    with pytest.raises(RevocationUnknown):
        store.verify_certificate(pki.leaf, T0 + 31 * DAY, [pki.crl])  # after nextUpdate
    # A CRL of another issuer does not count.
    other = _make_pki(pki.suite_name, "Unrelated CA")
    with pytest.raises(RevocationUnknown):
        store.verify_certificate(pki.leaf, NOW, [other.crl])
    # The caller may waive the CRL requirement explicitly.
    assert store.verify_certificate(pki.leaf, NOW, [], require_crl=False)


def test_malformed_input_is_refused(store: TrustStore, gm_pki: Pki) -> None:
    for data in (b"", b"not a certificate", gm_pki.leaf.der[:-10], gm_pki.leaf.der + b"\x00",
                 b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                 gm_pki.crl.to_pem()):  # fmt: skip
        with pytest.raises(CertificateMalformed) as err:
            store.verify_certificate(data, NOW, [gm_pki.crl])
        assert err.value.code == "cert.malformed"
    with pytest.raises(CrlMalformed):
        store.verify_certificate(gm_pki.leaf, NOW, [b"garbage"])


def test_bit_flipped_signature_is_refused(store: TrustStore, pki: Pki) -> None:
    der = pki.leaf.der
    for offset in (3, 10, 25):  # bytes inside the signature value at the end of the certificate
        flipped = bytearray(der)
        flipped[-offset] ^= 0x01
        with pytest.raises(CertificateBadSignature):
            store.verify_certificate(bytes(flipped), NOW, [pki.crl])
    # A flipped bit in the signed part (inside the subject public key) is caught as well.
    index = der.index(pki.leaf.public_key.point)
    flipped = bytearray(der)
    flipped[index + 40] ^= 0x01
    with pytest.raises(CertificateError):
        store.verify_certificate(bytes(flipped), NOW, [pki.crl])


def test_ca_certificates_are_not_end_entities(store: TrustStore, gm_pki: Pki) -> None:
    with pytest.raises(CertificateUsageNotAllowed) as err:
        store.verify_certificate(gm_pki.ca.certificate, NOW, [gm_pki.crl])
    assert err.value.code == "cert.usage_not_allowed"


def test_key_usage_is_enforced(store: TrustStore, pki: Pki) -> None:
    suite = get_suite(pki.suite_name)
    ca = CertificateAuthority(pki.ca.certificate, pki.ca.private_key)
    enc = ca.issue(
        SUBJECT,
        suite.generate_keypair().public_key(),
        not_before=T0,
        not_after=T0 + DAY * 90,
        usage="encryption",
    )
    assert store.verify_certificate(enc, NOW, [pki.crl], usage="encryption")
    with pytest.raises(CertificateUsageNotAllowed):
        store.verify_certificate(enc, NOW, [pki.crl], usage="signature")
    with pytest.raises(CertificateUsageNotAllowed):
        store.verify_certificate(pki.leaf, NOW, [pki.crl], usage="encryption")
    both = ca.issue(
        SUBJECT,
        suite.generate_keypair().public_key(),
        not_before=T0,
        not_after=T0 + DAY * 90,
        usage="signature+encryption",
    )
    assert store.verify_certificate(both, NOW, [pki.crl], usage="encryption")
    assert store.verify_certificate(both, NOW, [pki.crl], usage="signature")


def test_one_intermediate_level(pki: Pki) -> None:
    suite = get_suite(pki.suite_name)
    root = CertificateAuthority.create_root(
        suite.generate_keypair(),
        common_name="Root",
        not_before=T0,
        not_after=T0 + 3650 * DAY,
        path_length=1,
    )
    sub = root.create_intermediate(
        suite.generate_keypair(), common_name="Issuing CA", not_before=T0, not_after=T0 + 1000 * DAY
    )
    leaf = sub.issue(
        SUBJECT, suite.generate_keypair().public_key(), not_before=T0, not_after=T0 + 100 * DAY
    )
    root_crl = root.issue_crl(this_update=T0, next_update=T0 + 30 * DAY, crl_number=1)
    sub_crl = sub.issue_crl(this_update=T0, next_update=T0 + 30 * DAY, crl_number=1)
    store = TrustStore([root.certificate], intermediates=[sub.certificate])
    verified = store.verify_certificate(leaf, NOW, [root_crl, sub_crl])
    assert verified.chain == (sub.certificate, root.certificate)
    assert verified.issuer == "Issuing CA"
    # Without the intermediate, no path.
    with pytest.raises(CertificateUntrusted):
        TrustStore([root.certificate]).verify_certificate(leaf, NOW, [root_crl, sub_crl])
    # Both CRLs are needed: the root's covers the intermediate.
    with pytest.raises(RevocationUnknown):
        store.verify_certificate(leaf, NOW, [sub_crl])
    # Revoking the intermediate at the root revokes everything below it.
    root.revoke(sub.certificate.serial_number, T0 + DAY)
    with pytest.raises(CertificateRevoked):
        store.verify_certificate(
            leaf,
            NOW,
            [
                root.issue_crl(this_update=T0 + DAY, next_update=T0 + 30 * DAY, crl_number=2),
                sub_crl,
            ],
        )
    # An expired intermediate breaks the chain.
    with pytest.raises(CertificateExpired):
        store.verify_certificate(leaf, T0 + 101 * DAY, [root_crl, sub_crl], require_crl=False)


def test_root_path_length_zero_forbids_intermediates(pki: Pki) -> None:
    suite = get_suite(pki.suite_name)
    root = CertificateAuthority.create_root(
        suite.generate_keypair(),
        common_name="Strict Root",
        not_before=T0,
        not_after=T0 + 3650 * DAY,
        path_length=0,
    )
    sub = root.create_intermediate(
        suite.generate_keypair(), common_name="Sub", not_before=T0, not_after=T0 + 1000 * DAY
    )
    leaf = sub.issue(
        SUBJECT, suite.generate_keypair().public_key(), not_before=T0, not_after=T0 + 100 * DAY
    )
    store = TrustStore([root.certificate], [sub.certificate])
    with pytest.raises(CertificateInvalidIssuer) as err:
        store.verify_certificate(leaf, NOW, [], require_crl=False)
    assert err.value.code == "cert.invalid_issuer"


def test_mixed_algorithms_in_one_chain(gm_pki: Pki) -> None:
    # An SM2 root may certify a P-256 key (and the other way round); signatures follow the CA key.
    leaf = gm_pki.ca.issue(
        SUBJECT, INTL.generate_keypair().public_key(), not_before=T0, not_after=T0 + 10 * DAY
    )
    assert leaf.signature_algorithm_oid == "1.2.156.10197.1.501"
    assert leaf.public_key.algorithm == "p256"
    verified = TrustStore([gm_pki.ca.certificate]).verify_certificate(leaf, NOW, [gm_pki.crl])
    assert verified.public_key.suite_name == "intl"


def test_trust_store_refuses_bad_roots(gm_pki: Pki) -> None:
    with pytest.raises(CertificateInvalidIssuer):
        TrustStore([gm_pki.leaf])
    tampered = bytearray(gm_pki.ca.certificate.der)
    tampered[-4] ^= 0x01
    with pytest.raises(CertificateBadSignature):
        TrustStore([load_certificate(bytes(tampered))])
    with pytest.raises(CertificateInvalidIssuer):
        TrustStore([gm_pki.ca.certificate], intermediates=[gm_pki.leaf])


def test_ca_requires_matching_key(gm_pki: Pki) -> None:
    with pytest.raises(UnsupportedKey) as err:
        CertificateAuthority(gm_pki.ca.certificate, GM.generate_keypair())
    assert err.value.code == "crypto.unsupported_key"
    key = GM.generate_keypair()
    leaf = gm_pki.ca.issue(SUBJECT, key.public_key(), not_before=T0, not_after=T0 + DAY)
    with pytest.raises(CertificateInvalidIssuer):
        CertificateAuthority(leaf, key)  # an end-entity certificate cannot act as a CA


def test_credit_code_is_found_in_other_cas_layouts(gm_pki: Pki) -> None:
    # Other CAs (多CA互认) may put the code in serialNumber or OU, or use the ETSI NTRCN- prefix.
    from sunlit.kernel.crypto.x509 import _credit_code_of

    assert _credit_code_of({"organization_identifier": "NTRCN-" + CREDIT_CODE}) == CREDIT_CODE
    assert _credit_code_of({"serial_number": CREDIT_CODE.lower()}) == CREDIT_CODE
    assert _credit_code_of({"organizational_unit_name": CREDIT_CODE}) == CREDIT_CODE
    assert _credit_code_of({"serial_number": "110101199003071234"}) is None  # not a credit code


def test_convenience_accessors(gm_pki: Pki, intl_pki: Pki) -> None:
    from sunlit.kernel.crypto.x509 import parse_certificate, verify_crl

    leaf = parse_certificate(gm_pki.leaf.to_pem())
    assert leaf.algorithm == "sm2" and intl_pki.leaf.algorithm == "p256"
    assert leaf.subject_text == (
        f"organizationIdentifier={CREDIT_CODE}, CN=张三, title=投标人授权代表, "
        "O=苏州某某建设工程有限公司, C=CN"
    )
    assert leaf.issuer_text.startswith("CN=Sunlit 国密开发根CA")
    verify_crl(gm_pki.crl, gm_pki.ca.certificate)
    with pytest.raises(CrlBadSignature):
        verify_crl(gm_pki.crl, intl_pki.ca.certificate)  # another issuer's CRL
