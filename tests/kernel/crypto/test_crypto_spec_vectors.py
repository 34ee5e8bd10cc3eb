"""The test vectors published in docs/spec/crypto-suites.md hold (read from the document itself,
so the spec cannot drift from the code), also through OpenSSL for the gm suite."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from sunlit.kernel.crypto import get_suite, load_public_key_any, verify_any
from sunlit.kernel.crypto._asn1 import armor, sm2_ciphertext_to_der, sm2_pkcs8_der
from sunlit.kernel.crypto.keys import P256PrivateKey, PrivateKey, Sm2PrivateKey

from .helpers import SM2_ID, OpenSSL

SPEC = Path(__file__).resolve().parents[3] / "docs" / "spec" / "crypto-suites.md"
Writer = Callable[[str, bytes], Path]


def _vectors() -> dict[str, bytes]:
    text = SPEC.read_text(encoding="utf-8")
    found = re.findall(r"^((?:gm|intl)\.[a-z_]+): ([0-9a-f]+)$", text, flags=re.M)
    return {name: bytes.fromhex(value) for name, value in found}


VECTORS = _vectors()


def _private(suite_name: str) -> PrivateKey:
    d = VECTORS[f"{suite_name}.private_key"]
    if suite_name == "gm":
        return Sm2PrivateKey(d, VECTORS["gm.public_key"])
    return P256PrivateKey(ec.derive_private_key(int.from_bytes(d, "big"), ec.SECP256R1()))


def test_the_spec_publishes_all_vectors() -> None:
    names = ("private_key", "public_key", "spki", "key_id", "message", "signature",
             "wrap_info", "wrap_key", "wrap_blob")  # fmt: skip
    assert set(VECTORS) == {f"{s}.{n}" for s in ("gm", "intl") for n in names}


@pytest.mark.parametrize("suite_name", ["gm", "intl"])
def test_spec_vectors(suite_name: str) -> None:
    suite = get_suite(suite_name)
    key = _private(suite_name)
    v = {
        name.split(".", 1)[1]: value
        for name, value in VECTORS.items()
        if name.startswith(suite_name)
    }
    public = key.public_key()
    assert public.point == v["public_key"]
    assert public.to_der() == v["spki"]
    assert suite.key_id(public) == v["key_id"]
    assert v["message"].decode() == "阳光交易 Sunlit test vector"
    verify_any(load_public_key_any(v["spki"]), v["message"], v["signature"])
    assert suite.unwrap(key, v["wrap_blob"], v["wrap_info"]) == v["wrap_key"]


def test_gm_spec_vectors_in_openssl(openssl: OpenSSL, write: Writer) -> None:
    key_pem = write(
        "k.pem",
        armor("PRIVATE KEY", sm2_pkcs8_der(VECTORS["gm.private_key"], VECTORS["gm.public_key"])),
    )
    pub = write("pub.der", VECTORS["gm.spki"])
    msg = write("m.bin", VECTORS["gm.message"])
    sig = write("s.der", VECTORS["gm.signature"])
    assert openssl.ok(
        "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", f"distid:{SM2_ID}",
        "-pubin", "-keyform", "DER", "-inkey", pub, "-in", msg, "-sigfile", sig,
    )  # fmt: skip
    plain = openssl.run(
        "pkeyutl", "-decrypt", "-inkey", key_pem,
        "-in", write("w.der", sm2_ciphertext_to_der(VECTORS["gm.wrap_blob"])),
    )  # fmt: skip
    assert plain == VECTORS["gm.wrap_key"] + get_suite("gm").hash(VECTORS["gm.wrap_info"])
