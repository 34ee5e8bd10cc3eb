"""The sealed-bid test vectors of ``docs/spec/sealed-bid.md`` section 11: fixed inputs, the
deterministic random source they derive from, and readers for the blocks of the spec.

Test code only: production seals with :func:`secrets.token_bytes` and never sees this module.
``python -m tests.bidding.make_vectors`` regenerates the spec's vector blocks.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sunlit.bidding import sealed
from sunlit.bidding.machine import MachineFingerprint
from sunlit.kernel.clock import CHINA_TZ
from sunlit.kernel.crypto import PrivateKey, PublicKey, get_suite, load_private_key_any
from sunlit.kernel.crypto.x509 import Certificate, load_certificate

SPEC = Path(__file__).resolve().parents[2] / "docs" / "spec" / "sealed-bid.md"

SEED = b"sunlit/sealed-bid/test-vector/1"
SECTION_CODE = "TV-2026-0001"
CREATED_AT = datetime(2026, 11, 23, 9, 30, tzinfo=CHINA_TZ)
FINGERPRINT = MachineFingerprint(
    machine_code="00112233445566778899aabbccddeeff", mac="02:00:00:00:00:01", tool="sunlit vector"
)
SUMMARY = sealed.BidSummary(
    price="1234567.89",
    duration_days=365,
    quality="合格",
    items={"项目经理": "张三", "投标保证金": "已缴纳"},
)
FILES: dict[str, bytes] = {
    "技术标/施工组织设计.txt": "阳光交易 sealed-bid test vector\n".encode(),
    "报价/清单.dat": b"",
}
STREAM_LENGTH = 2 * sealed.CHUNK_SIZE + 1000


def stream_plaintext() -> bytes:
    """The plaintext of the STREAM vector: byte i is i mod 251."""
    pattern = bytes(range(251))
    return (pattern * (STREAM_LENGTH // 251 + 1))[:STREAM_LENGTH]


class VectorRng:
    """``R = SHA-256(seed ‖ I2OSP(0, 8)) ‖ SHA-256(seed ‖ I2OSP(1, 8)) ‖ …``, read in order."""

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._counter = 0
        self._buffer = b""

    def __call__(self, size: int) -> bytes:
        while len(self._buffer) < size:
            block = hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            self._buffer += block
            self._counter += 1
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def write_files(folder: Path) -> Path:
    for name, data in FILES.items():
        path = folder.joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


# --- reading the spec -------------------------------------------------------------------------


def spec_text() -> str:
    return SPEC.read_text(encoding="utf-8")


def spec_blocks(text: str | None = None) -> dict[str, str]:
    """Fenced blocks whose info string is ``text <name>``."""
    found = re.findall(
        r"^```text ([a-z][a-z0-9_.\-]*)\n(.*?)^```$", text or spec_text(), re.M | re.S
    )
    return dict(found)


def spec_values(text: str | None = None) -> dict[str, bytes]:
    """``<suite>.<name>: <hex>`` lines of the vector blocks."""
    found = re.findall(r"^((?:gm|intl)\.[a-z0-9_]+): ([0-9a-f]+)$", text or spec_text(), re.M)
    return {name: bytes.fromhex(value) for name, value in found}


def container(suite_name: str, text: str | None = None) -> bytes:
    return base64.b64decode("".join(spec_blocks(text)[f"{suite_name}.container"].split()))


def example_header(data: bytes) -> str:
    """The header JSON of a container, indented for the spec (the test re-canonicalizes the
    spec's text and compares it with the container's header byte for byte)."""
    import io
    import json

    header = sealed.inspect(io.BytesIO(data))
    return json.dumps(json.loads(header.header_json), ensure_ascii=False, indent=2)


def spec_example_header(text: str | None = None) -> str:
    found = re.search(
        r"<!-- example-header:begin -->\n```json\n(.*?)\n```\n<!-- example-header:end -->",
        text or spec_text(),
        re.S,
    )
    assert found is not None, "the spec has no example header"
    return found.group(1)


@dataclass(frozen=True)
class VectorKeys:
    tenderer: PrivateKey
    center: PrivateKey
    bidder: PrivateKey
    certificate: Certificate

    def section(self, suite_name: str) -> sealed.SectionKeys:
        return sealed.SectionKeys(
            SECTION_CODE, suite_name, self.tenderer.public_key(), self.center.public_key()
        )

    def private_for(self, public: PublicKey) -> PrivateKey:
        for key in (self.tenderer, self.center, self.bidder):
            if key.public_key() == public:
                return key
        raise KeyError(public)


def vector_keys(suite_name: str, text: str | None = None) -> VectorKeys:
    blocks = spec_blocks(text)
    return VectorKeys(
        tenderer=load_private_key_any(blocks[f"{suite_name}.tenderer-key"]),
        center=load_private_key_any(blocks[f"{suite_name}.center-key"]),
        bidder=load_private_key_any(blocks[f"{suite_name}.bidder-key"]),
        certificate=load_certificate(blocks[f"{suite_name}.bidder-cert"]),
    )


# --- building ---------------------------------------------------------------------------------


def seal_vector(
    suite_name: str,
    keys: VectorKeys,
    folder: Path,
    *,
    wrap: Callable[[PublicKey, bytes, bytes], bytes] | None = None,
    sign: Callable[[PrivateKey, bytes], bytes] | None = None,
) -> bytes:
    """The vector container from the fixed inputs and :class:`VectorRng` (``wrap`` and ``sign``
    default to the suite's own, randomized, operations)."""
    import io

    out = io.BytesIO()
    sealed._seal(
        write_files(folder),
        SUMMARY,
        keys.section(suite_name),
        keys.bidder,
        keys.certificate,
        out,
        None,
        fingerprint=FINGERPRINT,
        created_at=CREATED_AT,
        rng=VectorRng(SEED),
        wrap=wrap,
        sign=sign,
    )
    return out.getvalue()


def intermediates(suite_name: str, header: sealed.SealedHeader) -> dict[str, bytes]:
    """Every derived value a vendor may want to compare, by spec name (without the suite)."""
    suite = get_suite(suite_name)
    rng = VectorRng(SEED)
    n = suite.aead_key_size
    bid_id = rng(sealed.BID_ID_SIZE)
    k_summary, k_files = rng(n), rng(n)
    s1_summary, s1_files = rng(n), rng(n)
    random = rng(sealed.RANDOM_SIZE)
    assert bid_id == header.bid_id
    ident = header._ident
    values = {
        "seed": SEED,
        "bid_id": bid_id,
        "summary_key": k_summary,
        "files_key": k_files,
        "summary_share_tenderer": s1_summary,
        "summary_share_center": sealed._xor(k_summary, s1_summary),
        "files_share_tenderer": s1_files,
        "files_share_center": sealed._xor(k_files, s1_files),
        "random": random,
        "wrap_info_files_tenderer": ident.ctx("wrap/files/tenderer"),
    }
    aead_key, nonce = sealed._summary_material(suite, k_summary, ident)
    values["summary_aead_key"], values["summary_nonce"] = aead_key, nonce
    for entry in header.files:
        key, prefix, salt = sealed._file_material(suite, k_files, ident, entry.index)
        values[f"file{entry.index}_key"] = key
        values[f"file{entry.index}_prefix"] = prefix
        values[f"file{entry.index}_salt"] = salt
    values["bid_digest"] = header.digest
    return values


def stream_values(
    suite_name: str, header: sealed.SealedHeader, files_key: bytes
) -> dict[str, bytes]:
    """The STREAM vector: file 0's key material over :func:`stream_plaintext` (3 chunks)."""
    suite = get_suite(suite_name)
    ident = header._ident
    key, prefix, salt = sealed._file_material(suite, files_key, ident, 0)
    plain = stream_plaintext()
    count = sealed.chunk_count(len(plain))
    c_hash = suite.hasher()
    p_hash = sealed._plaintext_hasher(suite, ident, 0, salt)
    p_hash.update(plain)
    values: dict[str, bytes] = {}
    for j in range(count):
        chunk = plain[j * sealed.CHUNK_SIZE : (j + 1) * sealed.CHUNK_SIZE]
        ct = suite.seal(key, sealed.chunk_nonce(prefix, j, j == count - 1), chunk)
        c_hash.update(ct)
        values[f"stream_nonce{j}"] = sealed.chunk_nonce(prefix, j, j == count - 1)
        values[f"stream_tag{j}"] = ct[-sealed.TAG_SIZE :]
    values["stream_ciphertext_hash"] = c_hash.digest()
    values["stream_plaintext_hash"] = p_hash.digest()
    return values
