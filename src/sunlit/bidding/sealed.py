"""Sealed bids (投标文件加密): the container format, sealing, keyless verification and opening.

Normative description with test vectors: ``docs/spec/sealed-bid.md``. Design and threat model:
``docs/adr/0008-sealed-bids-and-opening-keys.md``. In short::

    container = MAGIC ‖ u32 len ‖ header (RFC 8785 JSON) ‖ u16 len ‖ signature ‖ digest
                ‖ summary blob ‖ file blob 1 ‖ … ‖ file blob n

* the summary (唱标: price, 工期, quality, items, the bidder's random number, the machine
  fingerprint) and the files are sealed under two independent keys ``K_summary`` / ``K_files``;
* each key is split 2-of-2 (``S1`` random, ``S2 = K ⊕ S1``): ``S1`` is wrapped to the tenderer's
  (agency's) opening key, ``S2`` to the trading center's, and ``K`` itself to the bidder's
  certificate key (the remedy of 电子招标投标办法 第31条);
* files are encrypted in 1 MiB chunks with a STREAM construction (nonce = 7-byte prefix ‖
  32-bit chunk counter ‖ last-chunk flag), so no chunk ever needs the whole file in memory;
* the bidder signs the header, which lists every blob's size and hash: anyone can verify a
  container without a private key (:func:`verify_structure`).

Nothing here touches the database or reads a clock other than :mod:`sunlit.kernel.clock`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import re
import secrets
import shutil
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal, NoReturn, Protocol, cast

import rfc8785

from sunlit.kernel import clock
from sunlit.kernel.crypto import (
    CryptoError,
    DecryptionFailed,
    Hasher,
    InvalidSignature,
    PrivateKey,
    PublicKey,
    Suite,
    get_suite,
    load_public_key_any,
    verify_any,
)
from sunlit.kernel.crypto.x509 import Certificate, is_credit_code, load_certificate

from .errors import (
    BadSignature,
    BidderMismatch,
    IncompleteShares,
    Inconsistent,
    InvalidBidInput,
    InvalidSectionKeys,
    Malformed,
    NotSealed,
    OutputExists,
    SourceChanged,
    Tampered,
    Truncated,
    UnsupportedVersion,
    WrongKey,
    WrongSection,
    WrongShare,
)
from .machine import MachineFingerprint, collect_machine_fingerprint

__all__ = [
    "CHUNK_SIZE",
    "MAGIC",
    "PARTS",
    "ROLES",
    "BidSummary",
    "FileEntry",
    "KeySlots",
    "MachineFingerprint",
    "OpenedFile",
    "OpenedSummary",
    "Part",
    "PlaintextChunk",
    "RecoveredKeys",
    "Role",
    "SealResult",
    "SealedHeader",
    "SectionKeys",
    "Share",
    "ShareSlot",
    "VerifiedBid",
    "WrappedShare",
    "certificate_credit_code",
    "chunk_count",
    "chunk_nonce",
    "ciphertext_size",
    "combine",
    "decrypt_files",
    "inspect",
    "open_files",
    "open_summary",
    "partial_decrypt",
    "remedy_decrypt",
    "seal_bid",
    "validate_file_name",
    "verify_share",
    "verify_structure",
]

# --- constants (docs/spec/sealed-bid.md section 2) --------------------------------------------

MAGIC: Final = b"\x89SLB\r\n\x1a\n"
FORMAT: Final = "sunlit-sealed-bid"
SUMMARY_FORMAT: Final = "sunlit-bid-summary"
SECTION_KEYS_FORMAT: Final = "sunlit-section-keys"
VERSION: Final = 1
CHUNK_SIZE: Final = 1 << 20
TAG_SIZE: Final = 16
PREFIX_SIZE: Final = 7
SALT_SIZE: Final = 32
BID_ID_SIZE: Final = 16
RANDOM_SIZE: Final = 32
DIGEST_SIZE: Final = 32
SUMMARY_BLOCK: Final = 4096
MAX_SUMMARY_JSON: Final = 60 * 1024
MAX_HEADER: Final = 1 << 20
MAX_SIGNATURE: Final = 72
MAX_FILES: Final = 2000
MAX_CHUNKS: Final = 1 << 32
MAX_INT: Final = (1 << 53) - 1
HASHES: Final = ("gm", "intl")

Role = Literal["tenderer", "center"]
Part = Literal["summary", "files"]
ROLES: Final[tuple[Role, ...]] = ("tenderer", "center")
PARTS: Final[tuple[Part, ...]] = ("summary", "files")

_SECTION_RE: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
_PRICE_RE: Final = re.compile(r"(0|[1-9][0-9]{0,15})(\.[0-9]{1,2})?")
_CREATED_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")
_HEX_RE: Final = re.compile(r"[0-9a-f]*")
_FORBIDDEN_NAME_CHARS: Final = frozenset('\\:*?"<>|')


class ReadableStream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class WritableStream(Protocol):
    def write(self, data: bytes, /) -> object: ...


Progress = Callable[[int, int], None]
"""``progress(done_bytes, total_bytes)``, called after every chunk."""

Rng = Callable[[int], bytes]
WrapFn = Callable[[PublicKey, bytes, bytes], bytes]
SignFn = Callable[[PrivateKey, bytes], bytes]


# --- small helpers ----------------------------------------------------------------------------


def chunk_count(size: int) -> int:
    """Number of STREAM chunks of a file of ``size`` bytes (an empty file has one, empty)."""
    return max(1, -(-size // CHUNK_SIZE))


def ciphertext_size(size: int) -> int:
    """Size of the blob of a file of ``size`` bytes: every chunk carries a 16-byte tag."""
    return size + TAG_SIZE * chunk_count(size)


def chunk_nonce(prefix: bytes, index: int, last: bool) -> bytes:
    """``prefix (7) ‖ I2OSP(index, 4) ‖ (0x01 if last else 0x00)``."""
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _canonical(doc: Mapping[str, Any]) -> bytes:
    return rfc8785.dumps(doc)


@dataclass(frozen=True)
class _Ident:
    """What every derivation, wrap and commitment of one bid is bound to."""

    section_code: str
    credit_code: str
    bid_id: bytes

    def ctx(self, label: str) -> bytes:
        text = f"sunlit-bid/1/{label}/{self.section_code}/{self.credit_code}/{self.bid_id.hex()}"
        return text.encode("ascii")


def _commit(suite: Suite, ident: _Ident, label: str, value: bytes) -> bytes:
    return suite.hash(ident.ctx(label) + b"\x00" + value)


def _file_material(
    suite: Suite, files_key: bytes, ident: _Ident, index: int
) -> tuple[bytes, bytes, bytes]:
    """(file key, nonce prefix, plaintext-hash salt) of file ``index`` (0-based)."""
    n = suite.aead_key_size
    okm = suite.derive_key(
        files_key, salt=None, info=ident.ctx(f"file/{index}"), length=n + PREFIX_SIZE + SALT_SIZE
    )
    return okm[:n], okm[n : n + PREFIX_SIZE], okm[n + PREFIX_SIZE :]


def _summary_material(suite: Suite, summary_key: bytes, ident: _Ident) -> tuple[bytes, bytes]:
    n = suite.aead_key_size
    okm = suite.derive_key(
        summary_key, salt=None, info=ident.ctx("summary"), length=n + suite.nonce_size
    )
    return okm[:n], okm[n:]


def _plaintext_hasher(suite: Suite, ident: _Ident, index: int, salt: bytes) -> Hasher:
    hasher = suite.hasher()
    hasher.update(ident.ctx(f"plaintext/{index}") + b"\x00" + salt)
    return hasher


def certificate_credit_code(cert: Certificate) -> str | None:
    """The 统一社会信用代码 of a certificate's subject (as ADR 0003 reads it), or ``None``.

    organizationIdentifier (an ``NTRCN-`` prefix dropped), else serialNumber, else OU, and
    only a value that passes the GB 32100-2015 check.
    """
    subject = cert.subject
    for key in ("organization_identifier", "serial_number", "organizational_unit_name"):
        value = subject.get(key)
        if value is None:
            continue
        value = value.strip().upper()
        if value.startswith("NTRCN-"):
            value = value[6:]
        if is_credit_code(value):
            return value
    return None


def validate_file_name(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` is a portable relative path (spec section 4.3)."""
    if unicodedata.normalize("NFC", name) != name:
        raise ValueError("not in Unicode NFC")
    if not name or len(name.encode("utf-8")) > 1024:
        raise ValueError("empty or longer than 1024 bytes")
    parts = name.split("/")
    if len(parts) > 16:
        raise ValueError("deeper than 16 levels")
    for part in parts:
        if not part or part in (".", ".."):
            raise ValueError("empty, '.' or '..' path component")
        if len(part.encode("utf-8")) > 255:
            raise ValueError("path component longer than 255 bytes")
        if part != part.strip(" ") or part.endswith("."):
            raise ValueError("path component starts or ends with a space or ends with '.'")
        for char in part:
            if char in _FORBIDDEN_NAME_CHARS or unicodedata.category(char) in ("Cc", "Cf", "Cs"):
                raise ValueError(f"forbidden character U+{ord(char):04X}")


def _check_names_portable(names: Sequence[str]) -> None:
    """Case-insensitively unique, and no file name is also a directory of another."""
    files: set[str] = set()
    dirs: set[str] = set()
    for name in names:
        folded = name.casefold()
        if folded in files:
            raise ValueError(f"duplicate file name (ignoring case): {name}")
        files.add(folded)
        parts = folded.split("/")
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
    clash = files & dirs
    if clash:
        raise ValueError(f"a file name is also a folder name: {sorted(clash)[0]}")


# --- section keys -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionKeys:
    """The opening public keys of one section (标段): what a bid is sealed to.

    ``suite`` is decided by the section. Published as ``section-keys.json`` (spec section 6).
    """

    section_code: str
    suite: str
    tenderer_pub: PublicKey
    center_pub: PublicKey

    def __post_init__(self) -> None:
        if not _SECTION_RE.fullmatch(self.section_code):
            raise InvalidSectionKeys(
                "bad section code", what="标段编号只能由字母、数字和 . _ - 组成（1 至 64 个字符）"
            )
        if self.suite not in HASHES:
            raise InvalidSectionKeys("unknown suite", what=f"未知的密码套件 {self.suite!r}")
        for key in (self.tenderer_pub, self.center_pub):
            if key.suite_name != self.suite:
                raise InvalidSectionKeys(
                    "key of another suite", what=f"开标公钥不属于密码套件 {self.suite}"
                )
        if self.tenderer_pub == self.center_pub:
            raise InvalidSectionKeys("same key twice", what="招标人与交易中心的开标公钥不能相同")

    def public_key(self, role: Role) -> PublicKey:
        return self.tenderer_pub if role == "tenderer" else self.center_pub

    def key_id(self, role: Role) -> bytes:
        return self.public_key(role).key_id()

    def to_json(self) -> bytes:
        """``section-keys.json`` (UTF-8, indented, trailing newline)."""
        doc: dict[str, Any] = {
            "format": SECTION_KEYS_FORMAT,
            "version": VERSION,
            "section_code": self.section_code,
            "suite": self.suite,
        }
        for role in ROLES:
            key = self.public_key(role)
            doc[role] = {"key_id": key.key_id().hex(), "public_key": key.to_pem().decode("ascii")}
        return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str) -> SectionKeys:
        """Parse ``section-keys.json``; any deviation raises :class:`InvalidSectionKeys`."""

        def bad(what: str) -> NoReturn:
            raise InvalidSectionKeys(what, what=what)

        try:
            doc = json.loads(data, object_pairs_hook=_no_duplicates)
        except (ValueError, UnicodeDecodeError):
            bad("不是有效的 JSON")
        if not isinstance(doc, dict):
            bad("顶层必须是 JSON 对象")
        if doc.get("format") != SECTION_KEYS_FORMAT:
            bad(f"format 必须是 {SECTION_KEYS_FORMAT}")
        if doc.get("version") != VERSION:
            bad(f"不支持的 version {doc.get('version')!r}")
        if set(doc) != {"format", "version", "section_code", "suite", *ROLES}:
            bad("字段不符合规范")
        section_code, suite = doc["section_code"], doc["suite"]
        if not isinstance(section_code, str) or not isinstance(suite, str):
            bad("section_code 与 suite 必须是字符串")
        keys: dict[str, PublicKey] = {}
        for role in ROLES:
            entry = doc[role]
            if not isinstance(entry, dict) or set(entry) != {"key_id", "public_key"}:
                bad(f"{role} 必须含 key_id 与 public_key")
            if not isinstance(entry["public_key"], str) or not isinstance(entry["key_id"], str):
                bad(f"{role} 的 key_id 与 public_key 必须是字符串")
            try:
                key = load_public_key_any(entry["public_key"])
            except (CryptoError, ValueError):
                bad(f"{role} 的 public_key 不是有效的 PEM 公钥")
            if key.key_id().hex() != entry["key_id"]:
                bad(f"{role} 的 key_id 与公钥不符")
            keys[role] = key
        return cls(section_code, suite, keys["tenderer"], keys["center"])


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_float(text: str) -> NoReturn:
    raise ValueError("numbers must be integers")


# --- the 唱标 summary -------------------------------------------------------------------------


@dataclass(frozen=True)
class BidSummary:
    """What is announced at the opening (唱标), sealed separately from the bulky files.

    ``price``: the bid price in 元 as a decimal string (``"1234567.89"``, at most two decimals;
    a ``Decimal`` is accepted and written without exponent). ``duration_days``: 工期 / 交货期 in
    days. ``quality``: 质量 (e.g. "合格"). ``items``: other announced items (项目经理, 保证金 …).
    The bidder's random number and the machine fingerprint are added by :func:`seal_bid`.
    """

    price: str
    duration_days: int | None = None
    quality: str | None = None
    items: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        price: object = self.price
        if isinstance(price, Decimal):
            price = format(price, "f")
            object.__setattr__(self, "price", price)
        if not isinstance(price, str) or not _PRICE_RE.fullmatch(price):
            raise InvalidBidInput("bad price", what="投标报价必须是以元为单位、最多两位小数的数字")
        days = self.duration_days
        if days is not None and (
            isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 100_000
        ):
            raise InvalidBidInput("bad duration", what="工期必须是 0 至 100000 之间的整天数")
        if self.quality is not None:
            _check_text(self.quality, 200, "质量")
        if not isinstance(self.items, Mapping) or len(self.items) > 64:
            raise InvalidBidInput("bad items", what="其他唱标内容最多 64 项")
        for key, value in self.items.items():
            if not isinstance(key, str) or not key.strip():
                raise InvalidBidInput("bad item key", what="唱标内容的名称不能为空")
            _check_text(key, 64, "唱标内容名称")
            if not isinstance(value, str):
                raise InvalidBidInput("bad item value", what=f"唱标内容“{key}”必须是文字")
            _check_text(value, 2000, f"唱标内容“{key}”")
        object.__setattr__(self, "items", dict(self.items))

    @property
    def price_decimal(self) -> Decimal:
        return Decimal(self.price)

    @classmethod
    def from_json(cls, data: bytes | str) -> BidSummary:
        """Parse the bidder's ``summary.json`` (spec section 7): price must be a JSON string."""
        try:
            doc = json.loads(data, object_pairs_hook=_no_duplicates, parse_float=_no_float)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidBidInput(
                str(exc), what="summary.json 不是有效的 JSON（报价请写成字符串）"
            ) from None
        if not isinstance(doc, dict) or "price" not in doc:
            raise InvalidBidInput("no price", what="summary.json 必须含 price")
        unknown = set(doc) - {"price", "duration_days", "quality", "items"}
        if unknown:
            raise InvalidBidInput("unknown keys", what=f"summary.json 含未知字段 {sorted(unknown)}")
        return cls(
            price=doc["price"],
            duration_days=doc.get("duration_days"),
            quality=doc.get("quality"),
            items=doc.get("items") or {},
        )


def _check_text(value: object, limit: int, what: str) -> None:
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidBidInput("bad text", what=f"{what}必须是不超过 {limit} 个字符的文字")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise InvalidBidInput("control character", what=f"{what}含控制字符")


@dataclass(frozen=True)
class OpenedSummary:
    """A decrypted 唱标 summary."""

    section_code: str
    bid_id: bytes
    price: str
    duration_days: int | None
    quality: str | None
    items: Mapping[str, str]
    random: bytes
    machine: MachineFingerprint

    @property
    def price_decimal(self) -> Decimal:
        return Decimal(self.price)


def _summary_plaintext(
    summary: BidSummary, ident: _Ident, random: bytes, machine: MachineFingerprint
) -> bytes:
    for value, what in (
        (machine.machine_code, "机器码"),
        (machine.mac, "MAC"),
        (machine.tool, "工具"),
    ):
        _check_text(value, 200, what)
    doc = {
        "format": SUMMARY_FORMAT,
        "version": VERSION,
        "section_code": ident.section_code,
        "bid_id": ident.bid_id.hex(),
        "price": summary.price,
        "duration_days": summary.duration_days,
        "quality": summary.quality,
        "items": dict(summary.items),
        "random": random.hex(),
        "machine": machine.to_json(),
    }
    body = _canonical(doc)
    if len(body) > MAX_SUMMARY_JSON:
        raise InvalidBidInput("summary too large", what="唱标内容过长（上限 60 KiB）")
    framed = len(body).to_bytes(4, "big") + body
    return framed + b"\x00" * (-len(framed) % SUMMARY_BLOCK)


def _parse_summary_plaintext(plain: bytes, ident: _Ident) -> OpenedSummary:
    if len(plain) < 4 or len(plain) % SUMMARY_BLOCK:
        raise Inconsistent("summary padding")
    length = int.from_bytes(plain[:4], "big")
    body, padding = plain[4 : 4 + length], plain[4 + length :]
    if length > len(plain) - 4 or padding.strip(b"\x00") or len(padding) >= SUMMARY_BLOCK:
        raise Inconsistent("summary framing")
    try:
        doc = json.loads(body, object_pairs_hook=_no_duplicates, parse_float=_no_float)
        if _canonical(doc) != body:
            raise ValueError("not canonical")
        fields = {
            "format", "version", "section_code", "bid_id", "price", "duration_days", "quality",
            "items", "random", "machine",
        }  # fmt: skip
        if not isinstance(doc, dict) or set(doc) != fields:
            raise ValueError("fields")
        if doc["format"] != SUMMARY_FORMAT or doc["version"] != VERSION:
            raise ValueError("format")
        machine = doc["machine"]
        if not isinstance(machine, dict) or set(machine) != {"machine_code", "mac", "tool"}:
            raise ValueError("machine")
        for value in machine.values():
            _check_text(value, 200, "machine")
        summary = BidSummary(doc["price"], doc["duration_days"], doc["quality"], doc["items"])
        random = _hex_field(doc["random"], RANDOM_SIZE)
        fingerprint = MachineFingerprint(
            str(machine["machine_code"]), str(machine["mac"]), str(machine["tool"])
        )
    except (ValueError, TypeError, InvalidBidInput, rfc8785.CanonicalizationError) as exc:
        raise Inconsistent(f"summary content: {exc}") from None
    if doc["section_code"] != ident.section_code or doc["bid_id"] != ident.bid_id.hex():
        raise Inconsistent("summary bound to another bid")
    return OpenedSummary(
        section_code=ident.section_code,
        bid_id=ident.bid_id,
        price=summary.price,
        duration_days=summary.duration_days,
        quality=summary.quality,
        items=summary.items,
        random=random,
        machine=fingerprint,
    )


# --- the header -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareSlot:
    """One wrapped share in the header and the commitment to its value."""

    wrapped: bytes
    commitment: bytes


@dataclass(frozen=True)
class KeySlots:
    """How one part's key (``K_summary`` or ``K_files``) is held."""

    key_commitment: bytes
    tenderer: ShareSlot
    center: ShareSlot
    remedy: bytes

    def slot(self, role: Role) -> ShareSlot:
        return self.tenderer if role == "tenderer" else self.center


@dataclass(frozen=True)
class FileEntry:
    """One sealed file as listed in the header."""

    index: int
    name: str
    size: int
    plaintext_hash: bytes
    ciphertext_size: int
    ciphertext_hash: bytes


@dataclass(frozen=True)
class WrappedShare:
    """What a holder of an opening key needs to compute its share of one part of one bid."""

    suite: str
    section_code: str
    bidder_credit_code: str
    bid_id: bytes
    part: Part
    role: Role
    recipient_key_id: bytes
    wrapped: bytes
    commitment: bytes

    @property
    def info(self) -> bytes:
        """The wrap context: ``sunlit-bid/1/wrap/<part>/<role>/<section>/<credit>/<bid id>``."""
        return self._ident.ctx(f"wrap/{self.part}/{self.role}")

    @property
    def _ident(self) -> _Ident:
        return _Ident(self.section_code, self.bidder_credit_code, self.bid_id)


@dataclass(frozen=True)
class Share:
    """A decryption share, as the holder's browser or CLI sends it to the platform.

    Carries no private key: the value is one XOR half of a per-bid key, useless alone.
    """

    section_code: str
    bid_id: bytes
    part: Part
    role: Role
    value: bytes

    def to_json(self) -> dict[str, str]:
        return {
            "section_code": self.section_code,
            "bid_id": self.bid_id.hex(),
            "part": self.part,
            "role": self.role,
            "value": self.value.hex(),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Share:
        try:
            part, role = doc["part"], doc["role"]
            if part not in PARTS or role not in ROLES or set(doc) != {*cls.__dataclass_fields__}:
                raise ValueError("part, role or fields")
            section_code, value = doc["section_code"], doc["value"]
            if not isinstance(section_code, str) or not isinstance(value, str):
                raise ValueError("section_code and value must be strings")
            if not _HEX_RE.fullmatch(value) or len(value) not in (32, 64):
                raise ValueError("value: 16 or 32 bytes in lower-case hex")
            return cls(
                section_code=section_code,
                bid_id=_hex_field(doc["bid_id"], BID_ID_SIZE),
                part=part,
                role=role,
                value=bytes.fromhex(value),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise WrongShare(f"malformed share: {exc}") from None


@dataclass(frozen=True)
class SealedHeader:
    """The parsed, digest-checked header of a sealed bid (the signature is checked separately).

    ``header_json`` is the exact signed byte string; ``digest`` the container's *bid digest*
    (the hash on the receipt, spec section 8).
    """

    suite: str
    section_code: str
    bid_id: bytes
    created_at: str
    bidder_credit_code: str
    bidder_certificate: Certificate
    tenderer_key_id: bytes
    center_key_id: bytes
    summary_size: int
    summary_hash: bytes
    files: tuple[FileEntry, ...]
    keys: Mapping[Part, KeySlots]
    header_json: bytes
    signature: bytes
    digest: bytes
    header_block_size: int

    @property
    def body_size(self) -> int:
        return self.summary_size + sum(f.ciphertext_size for f in self.files)

    @property
    def total_size(self) -> int:
        return self.header_block_size + self.body_size

    @property
    def plaintext_size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def _ident(self) -> _Ident:
        return _Ident(self.section_code, self.bidder_credit_code, self.bid_id)

    def key_id(self, role: Role) -> bytes:
        return self.tenderer_key_id if role == "tenderer" else self.center_key_id

    def wrapped_share(self, part: Part, role: Role) -> WrappedShare:
        """The wrapped share of ``part`` for the holder of ``role``'s opening key."""
        slot = self.keys[part].slot(role)
        return WrappedShare(
            suite=self.suite,
            section_code=self.section_code,
            bidder_credit_code=self.bidder_credit_code,
            bid_id=self.bid_id,
            part=part,
            role=role,
            recipient_key_id=self.key_id(role),
            wrapped=slot.wrapped,
            commitment=slot.commitment,
        )


@dataclass(frozen=True)
class VerifiedBid:
    """A container whose structure, sizes, hashes and bidder signature all verified.

    The certificate chain is *not* checked here: the caller passes
    ``header.bidder_certificate`` to its trust store. ``bid_digest`` and ``size`` go on the
    receipt (回执).
    """

    header: SealedHeader

    @property
    def bid_digest(self) -> bytes:
        return self.header.digest

    @property
    def size(self) -> int:
        return self.header.total_size

    @property
    def section_code(self) -> str:
        return self.header.section_code

    @property
    def bidder_credit_code(self) -> str:
        return self.header.bidder_credit_code

    @property
    def bidder_certificate(self) -> Certificate:
        return self.header.bidder_certificate


def _wrap_size(suite: Suite) -> int:
    """Size of a wrapped key of this suite (spec section 5.3): SM2 C1C3C2 of K ‖ SM3(info) for
    ``gm`` (65 + 32 + 16 + 32), HPKE enc ‖ ct for ``intl`` (65 + 32 + 16)."""
    n = suite.aead_key_size
    return 65 + 32 + n + 32 if suite.name == "gm" else 65 + n + 16


def _hex_field(value: object, size: int) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size or not _HEX_RE.fullmatch(value):
        raise ValueError(f"expected {2 * size} lower-case hex digits")
    return bytes.fromhex(value)


def _b64_field(value: object, min_size: int = 1, max_size: int = 8192) -> bytes:
    if not isinstance(value, str):
        raise ValueError("expected base64 text")
    try:
        data = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"bad base64: {exc}") from None
    if _b64(data) != value or not min_size <= len(data) <= max_size:
        raise ValueError("non-canonical base64 or bad length")
    return data


def _int_field(value: object, low: int = 0, high: int = MAX_INT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"expected an integer in [{low}, {high}]")
    return value


def _obj(value: object, keys: set[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != keys:
        raise ValueError(f"{where}: expected exactly the fields {sorted(keys)}")
    return value


def _parse_header_json(raw: bytes, suite_name: str) -> dict[str, Any]:
    """Strictly parse the header JSON (spec section 4); raise Malformed / UnsupportedVersion."""
    try:
        doc = json.loads(
            raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_float=_no_float
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed(f"header is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise Malformed("header is not a JSON object")
    if doc.get("format") != FORMAT:
        raise Malformed("header format is not sunlit-sealed-bid")
    if doc.get("version") != VERSION:
        raise UnsupportedVersion(f"version {doc.get('version')!r}")
    try:
        if _canonical(doc) != raw:
            raise Malformed("header is not RFC 8785 canonical JSON")
    except rfc8785.CanonicalizationError as exc:
        raise Malformed(f"header cannot be canonicalized: {exc}") from None
    if doc.get("suite") != suite_name:
        raise Malformed("header suite differs from the digest algorithm")
    return doc


def _build_header(
    doc: dict[str, Any], raw: bytes, signature: bytes, digest: bytes, block_size: int
) -> SealedHeader:
    try:
        _obj(
            doc,
            {
                "format", "version", "suite", "section_code", "bid_id", "created_at",
                "chunk_size", "bidder", "opening_keys", "summary", "files", "keys",
            },
            "header",
        )  # fmt: skip
        suite = get_suite(doc["suite"])
        wrap_size = _wrap_size(suite)
        section_code = doc["section_code"]
        if not isinstance(section_code, str) or not _SECTION_RE.fullmatch(section_code):
            raise ValueError("section_code")
        bid_id = _hex_field(doc["bid_id"], BID_ID_SIZE)
        created_at = doc["created_at"]
        if not isinstance(created_at, str) or not _CREATED_RE.fullmatch(created_at):
            raise ValueError("created_at")
        datetime.fromisoformat(created_at.replace("Z", "+00:00"))
        if doc["chunk_size"] != CHUNK_SIZE:
            raise ValueError("chunk_size")
        bidder = _obj(doc["bidder"], {"credit_code", "certificate"}, "bidder")
        credit_code = bidder["credit_code"]
        if not isinstance(credit_code, str) or not is_credit_code(credit_code):
            raise ValueError("bidder.credit_code")
        try:
            certificate = load_certificate(_b64_field(bidder["certificate"], 1, 16384))
        except CryptoError as exc:
            raise ValueError(f"bidder.certificate: {exc.code}") from None
        opening = _obj(doc["opening_keys"], set(ROLES), "opening_keys")
        key_ids = {role: _hex_field(opening[role], DIGEST_SIZE) for role in ROLES}
        summary = _obj(doc["summary"], {"ciphertext_size", "ciphertext_hash"}, "summary")
        summary_size = _int_field(summary["ciphertext_size"], SUMMARY_BLOCK + TAG_SIZE)
        if (summary_size - TAG_SIZE) % SUMMARY_BLOCK or summary_size > 65536 + TAG_SIZE:
            raise ValueError("summary.ciphertext_size")
        summary_hash = _hex_field(summary["ciphertext_hash"], DIGEST_SIZE)
        keys: dict[Part, KeySlots] = {}
        keys_doc = _obj(doc["keys"], set(PARTS), "keys")
        for part in PARTS:
            entry = _obj(keys_doc[part], {"key_commitment", *ROLES, "bidder"}, f"keys.{part}")
            slots = {}
            for role in ROLES:
                slot = _obj(entry[role], {"wrapped", "commitment"}, f"keys.{part}.{role}")
                slots[role] = ShareSlot(
                    _b64_field(slot["wrapped"], wrap_size, wrap_size),
                    _hex_field(slot["commitment"], DIGEST_SIZE),
                )
            bidder_slot = _obj(entry["bidder"], {"wrapped"}, f"keys.{part}.bidder")
            keys[part] = KeySlots(
                key_commitment=_hex_field(entry["key_commitment"], DIGEST_SIZE),
                tenderer=slots["tenderer"],
                center=slots["center"],
                remedy=_b64_field(bidder_slot["wrapped"], wrap_size, wrap_size),
            )
        files_doc = doc["files"]
        if not isinstance(files_doc, list) or not 1 <= len(files_doc) <= MAX_FILES:
            raise ValueError(f"files: 1 to {MAX_FILES} entries")
        files = []
        for index, item in enumerate(files_doc):
            f = _obj(
                item,
                {"name", "size", "plaintext_hash", "ciphertext_size", "ciphertext_hash"},
                f"files[{index}]",
            )
            name = f["name"]
            if not isinstance(name, str):
                raise ValueError(f"files[{index}].name")
            validate_file_name(name)
            size = _int_field(f["size"], 0, MAX_CHUNKS * CHUNK_SIZE - 1)
            if _int_field(f["ciphertext_size"]) != ciphertext_size(size):
                raise ValueError(f"files[{index}].ciphertext_size")
            files.append(
                FileEntry(
                    index=index,
                    name=name,
                    size=size,
                    plaintext_hash=_hex_field(f["plaintext_hash"], DIGEST_SIZE),
                    ciphertext_size=ciphertext_size(size),
                    ciphertext_hash=_hex_field(f["ciphertext_hash"], DIGEST_SIZE),
                )
            )
        _check_names_portable([f.name for f in files])
    except ValueError as exc:
        raise Malformed(str(exc)) from None
    return SealedHeader(
        suite=suite.name,
        section_code=section_code,
        bid_id=bid_id,
        created_at=created_at,
        bidder_credit_code=credit_code,
        bidder_certificate=certificate,
        tenderer_key_id=key_ids["tenderer"],
        center_key_id=key_ids["center"],
        summary_size=summary_size,
        summary_hash=summary_hash,
        files=tuple(files),
        keys=keys,
        header_json=raw,
        signature=signature,
        digest=digest,
        header_block_size=block_size,
    )


# --- reading ----------------------------------------------------------------------------------


def _read_exact(stream: ReadableStream, size: int) -> bytes:
    data = stream.read(size)
    if len(data) == size:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = stream.read(size - got)
        if not more:
            raise Truncated(f"stream ended {size - got} bytes early")
        parts.append(more)
        got += len(more)
    return b"".join(parts)


class _ChunkReader:
    """Exact reads; full-size chunks go into one reused buffer when the stream has
    ``readinto`` (saves an allocation and its page faults per MiB). The buffer returned for a
    full chunk is overwritten by the next full-chunk read: callers use it at once."""

    def __init__(self, stream: ReadableStream, reuse: bool = True) -> None:
        self._stream = stream
        self._readinto = getattr(stream, "readinto", None) if reuse else None
        self._buffer = bytearray(CHUNK_SIZE + TAG_SIZE)
        self._view = memoryview(self._buffer)

    def read(self, size: int) -> bytes:
        if self._readinto is None or size != len(self._buffer):
            return _read_exact(self._stream, size)
        got = 0
        while got < size:
            count = self._readinto(self._view[got:])
            if not count:
                raise Truncated(f"stream ended {size - got} bytes early")
            got += count
        # The provider's hash and AEAD take any buffer at run time (``cryptography`` accepts
        # the buffer protocol); the cast only narrows the declared type.
        return cast(bytes, self._buffer)


def _remaining(stream: ReadableStream) -> int | None:
    """Bytes left in a seekable stream, else None."""
    seekable = getattr(stream, "seekable", None)
    if seekable is None or not seekable():
        return None
    s = cast(Any, stream)
    here = s.tell()
    end = s.seek(0, os.SEEK_END)
    s.seek(here)
    return int(end - here)


def _check_body_length(stream: ReadableStream, header: SealedHeader) -> None:
    remaining = _remaining(stream)
    if remaining is None:
        return
    if remaining < header.body_size:
        raise Truncated(f"{header.body_size - remaining} bytes missing")
    if remaining > header.body_size:
        raise Tampered(f"{remaining - header.body_size} bytes of trailing data")


def _expect_eof(stream: ReadableStream) -> None:
    if stream.read(1):
        raise Tampered("trailing data after the last blob")


def _read_header_block(stream: ReadableStream) -> SealedHeader:
    magic = stream.read(len(MAGIC))
    while 0 < len(magic) < len(MAGIC) and MAGIC.startswith(magic):
        more = stream.read(len(MAGIC) - len(magic))
        if not more:
            break
        magic += more
    if magic != MAGIC:
        if magic and MAGIC.startswith(magic):
            raise Truncated("stream ends inside the magic")
        raise NotSealed("magic number mismatch")
    length_bytes = _read_exact(stream, 4)
    header_len = int.from_bytes(length_bytes, "big")
    if not 2 <= header_len <= MAX_HEADER:
        raise Tampered(f"header length {header_len} out of range")
    raw = _read_exact(stream, header_len)
    sig_len_bytes = _read_exact(stream, 2)
    sig_len = int.from_bytes(sig_len_bytes, "big")
    if not 8 <= sig_len <= MAX_SIGNATURE:
        raise Tampered(f"signature length {sig_len} out of range")
    signature = _read_exact(stream, sig_len)
    digest = _read_exact(stream, DIGEST_SIZE)
    block = MAGIC + length_bytes + raw + sig_len_bytes + signature
    matched = [name for name in HASHES if hmac.compare_digest(get_suite(name).hash(block), digest)]
    if not matched:
        raise Tampered("header digest mismatch")
    doc = _parse_header_json(raw, matched[0])
    return _build_header(doc, raw, signature, digest, len(block) + DIGEST_SIZE)


def _check_signature(header: SealedHeader) -> None:
    cert = header.bidder_certificate
    if cert.public_key.suite_name != header.suite:
        raise Malformed("bidder certificate key belongs to another suite")
    try:
        verify_any(cert.public_key, header.header_json, header.signature)
    except InvalidSignature:
        raise BadSignature("header signature does not verify") from None
    code = certificate_credit_code(cert)
    if code is None:
        raise BidderMismatch("certificate carries no 统一社会信用代码")
    if code != header.bidder_credit_code:
        raise BidderMismatch("certificate credit code differs from the header's")


def _check_section(header: SealedHeader, section: SectionKeys) -> None:
    if header.section_code != section.section_code:
        raise WrongSection(f"sealed to section {header.section_code}")
    if header.suite != section.suite:
        raise WrongSection(f"sealed with suite {header.suite}")
    for role in ROLES:
        if not hmac.compare_digest(header.key_id(role), section.key_id(role)):
            raise WrongSection(f"sealed to another {role} opening key")


def inspect(stream: ReadableStream) -> SealedHeader:
    """Read and parse the header block (digest checked, signature **not** checked).

    Leaves ``stream`` positioned at the summary blob. Raises ``bid.not_sealed``,
    ``bid.truncated``, ``bid.tampered``, ``bid.malformed`` or ``bid.unsupported_version``.
    """
    return _read_header_block(stream)


def _read_verified_header(stream: ReadableStream) -> SealedHeader:
    header = _read_header_block(stream)
    _check_signature(header)
    return header


def _hash_blob(
    stream: ReadableStream,
    size: int,
    expected: bytes,
    suite: Suite,
    what: str,
    tick: Callable[[int], None],
) -> None:
    hasher = suite.hasher()
    reader = _ChunkReader(stream)
    left = size
    while left:
        piece = reader.read(min(left, CHUNK_SIZE + TAG_SIZE))
        hasher.update(piece)
        left -= len(piece)
        tick(len(piece))
    if not hmac.compare_digest(hasher.digest(), expected):
        raise Tampered(f"ciphertext hash mismatch in {what}")


def verify_structure(
    stream: ReadableStream, expected_section: SectionKeys, progress: Progress | None = None
) -> VerifiedBid:
    """Verify a whole container without any private key (spec section 9).

    Checks, in order: magic (``bid.not_sealed``), header digest and syntax (``bid.tampered``,
    ``bid.malformed``, ``bid.unsupported_version``), the bidder's signature and credit code
    (``bid.bad_signature``, ``bid.bidder_mismatch``), the section, suite and opening key ids
    (``bid.wrong_section``), then every blob's size and hash (``bid.truncated``,
    ``bid.tampered``) and the end of the stream. Reads the stream once, chunk by chunk.
    """
    header = _read_verified_header(stream)
    _check_section(header, expected_section)
    _check_body_length(stream, header)
    suite = get_suite(header.suite)
    total, done = header.body_size, 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    _hash_blob(stream, header.summary_size, header.summary_hash, suite, "the summary", tick)
    for entry in header.files:
        _hash_blob(stream, entry.ciphertext_size, entry.ciphertext_hash, suite, entry.name, tick)
    _expect_eof(stream)
    return VerifiedBid(header)


# --- collective decryption --------------------------------------------------------------------


def partial_decrypt(
    wrapped: WrappedShare,
    opening_private_key: PrivateKey,
    role: Role,
    *,
    section_code: str | None = None,
) -> Share:
    """Unwrap one share with an opening private key (run by the key's holder, not the server).

    ``role`` is the holder's role and ``section_code`` (recommended) the section being opened:
    a share of another role or section (a replay) is refused with ``bid.wrong_share``, as is a
    key that is not the one the bid was sealed to. A share that unwraps with the right key but
    does not match the bidder's commitment is ``bid.inconsistent`` (the bidder's fault).
    """
    if wrapped.role != role:
        raise WrongShare(f"this share is for the {wrapped.role}, not the {role}")
    if section_code is not None and wrapped.section_code != section_code:
        raise WrongShare(f"share of section {wrapped.section_code}, not {section_code}")
    public = opening_private_key.public_key()
    if public.suite_name != wrapped.suite or not hmac.compare_digest(
        public.key_id(), wrapped.recipient_key_id
    ):
        raise WrongShare("not the opening key this bid was sealed to")
    suite = get_suite(wrapped.suite)
    try:
        value = suite.unwrap(opening_private_key, wrapped.wrapped, wrapped.info)
    except DecryptionFailed:
        raise Inconsistent("the wrapped share does not open with its recipient's key") from None
    ident = wrapped._ident
    expected = _commit(suite, ident, f"share/{wrapped.part}/{role}", value)
    if len(value) != suite.aead_key_size or not hmac.compare_digest(expected, wrapped.commitment):
        raise Inconsistent("share does not match the bidder's commitment")
    return Share(wrapped.section_code, wrapped.bid_id, wrapped.part, role, value)


def verify_share(header: SealedHeader, share: Share) -> None:
    """Check a share received from a holder against the bid's commitment (``bid.wrong_share``)."""
    if share.section_code != header.section_code or share.bid_id != header.bid_id:
        raise WrongShare("share of another section or bid")
    if share.part not in PARTS or share.role not in ROLES:
        raise WrongShare("unknown part or role")
    suite = get_suite(header.suite)
    expected = header.keys[share.part].slot(share.role).commitment
    actual = _commit(suite, header._ident, f"share/{share.part}/{share.role}", share.value)
    if len(share.value) != suite.aead_key_size or not hmac.compare_digest(actual, expected):
        raise WrongShare(f"the {share.role}'s share does not match the commitment")


def combine(header: SealedHeader, part: Part, shares: Iterable[Share]) -> bytes:
    """``K = S1 ⊕ S2`` from the tenderer's and the center's shares of ``part``.

    Each share is checked against its commitment first, so a wrong share is attributed to its
    role precisely (``bid.wrong_share``); a missing one is ``bid.incomplete_shares``.
    """
    by_role: dict[Role, bytes] = {}
    for share in shares:
        if share.part != part:
            raise WrongShare(f"a share of the {share.part}, not of the {part}")
        verify_share(header, share)
        if share.role in by_role:
            raise WrongShare(f"two shares of the {share.role}")
        by_role[share.role] = share.value
    missing = [role for role in ROLES if role not in by_role]
    if missing:
        raise IncompleteShares(f"missing the share of {', '.join(missing)}")
    key = _xor(by_role["tenderer"], by_role["center"])
    suite = get_suite(header.suite)
    expected = header.keys[part].key_commitment
    if not hmac.compare_digest(_commit(suite, header._ident, f"key/{part}", key), expected):
        raise Inconsistent("the shares combine to a key that is not the committed one")
    return key


def _check_key(header: SealedHeader, part: Part, key: bytes) -> Suite:
    suite = get_suite(header.suite)
    actual = _commit(suite, header._ident, f"key/{part}", key)
    if len(key) != suite.aead_key_size or not hmac.compare_digest(
        actual, header.keys[part].key_commitment
    ):
        raise WrongKey(f"not the {part} key of this bid")
    return suite


def check_part_key(header: SealedHeader, part: Part, key: bytes) -> None:
    """Check a key the bidder recovered with the remedy against the header's commitment
    (``bid.wrong_key`` when it is not this bid's key of ``part``)."""
    if part not in PARTS:
        raise WrongKey(f"unknown part {part!r}")
    _check_key(header, part, key)


@dataclass(frozen=True)
class RecoveredKeys:
    """Both keys of a bid, recovered with the bidder's own key (remedy)."""

    header: SealedHeader
    summary_key: bytes
    files_key: bytes


def remedy_decrypt(stream: ReadableStream, bidder_private_key: PrivateKey) -> RecoveredKeys:
    """Recover ``K_summary`` and ``K_files`` with the bidder's certificate key (第31条 remedy).

    Reads only the header block. A key other than the one of the bid's signing certificate is
    refused with ``bid.wrong_key``.
    """
    header = _read_verified_header(stream)
    if bidder_private_key.public_key() != header.bidder_certificate.public_key:
        raise WrongKey("not the private key of the bidder's certificate")
    suite = get_suite(header.suite)
    keys: dict[Part, bytes] = {}
    for part in PARTS:
        info = header._ident.ctx(f"wrap/{part}/bidder")
        try:
            key = suite.unwrap(bidder_private_key, header.keys[part].remedy, info)
        except DecryptionFailed:
            raise Inconsistent(f"the remedy wrap of the {part} does not open") from None
        try:
            _check_key(header, part, key)
        except WrongKey:
            raise Inconsistent(f"the remedy {part} key is not the committed one") from None
        keys[part] = key
    return RecoveredKeys(header, keys["summary"], keys["files"])


REMEDY_KEYS_FORMAT: Final = "sunlit-remedy-keys"


def remedy_keys_document(keys: RecoveredKeys) -> bytes:
    """The file ``sunlit bid remedy --keys-out`` writes for the opening hall page: both keys
    of one bid (hex). It opens that bid: use it only in the opening's remedy window."""
    doc = {
        "format": REMEDY_KEYS_FORMAT,
        "version": 1,
        "section_code": keys.header.section_code,
        "bid_id": keys.header.bid_id.hex(),
        "credit_code": keys.header.bidder_credit_code,
        "summary_key": keys.summary_key.hex(),
        "files_key": keys.files_key.hex(),
    }
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def load_remedy_keys(data: bytes) -> dict[str, str]:
    """Parse a remedy key file; ``ValueError`` when it is not one."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("not a remedy key file (JSON)") from None
    fields = ("section_code", "credit_code", "summary_key", "files_key")
    if (
        not isinstance(doc, dict)
        or doc.get("format") != REMEDY_KEYS_FORMAT
        or not all(isinstance(doc.get(f), str) for f in fields)
    ):
        raise ValueError("not a remedy key file")
    return {f: str(doc[f]) for f in (*fields, "bid_id") if isinstance(doc.get(f), str)}


# --- opening ----------------------------------------------------------------------------------


def open_summary(stream: ReadableStream, summary_key: bytes) -> OpenedSummary:
    """Decrypt the 唱标 summary (reads the header block and the small summary blob only)."""
    header = _read_verified_header(stream)
    suite = _check_key(header, "summary", summary_key)
    blob = _read_exact(stream, header.summary_size)
    if not hmac.compare_digest(suite.hash(blob), header.summary_hash):
        raise Tampered("summary ciphertext hash mismatch")
    key, nonce = _summary_material(suite, summary_key, header._ident)
    try:
        plain = suite.open(key, nonce, blob)
    except DecryptionFailed:
        raise Inconsistent("the summary does not decrypt under the committed key") from None
    return _parse_summary_plaintext(plain, header._ident)


@dataclass(frozen=True)
class PlaintextChunk:
    """One authenticated plaintext chunk; ``last`` is True on the final chunk of its file."""

    file: FileEntry
    data: bytes
    last: bool


def decrypt_files(
    stream: ReadableStream,
    files_key: bytes,
    *,
    verify_ciphertext_hashes: bool = True,
    verify_plaintext_hashes: bool = False,
) -> Iterator[PlaintextChunk]:
    """Yield every file's plaintext chunk by chunk, authenticated (streaming, bounded memory).

    Always checked: the header digest and the bidder's signature, ``files_key`` against the
    bidder's key commitment (``bid.wrong_key``), every chunk's AEAD tag, position and
    final-chunk flag (``bid.tampered``), the length of the stream (``bid.truncated``).

    ``verify_ciphertext_hashes`` (default on) also hashes every blob and compares it with the
    signed header before releasing a file's last chunk. AEAD alone does not bind the content to
    the receipt once the key is known (the bidder knows it; everybody does after the opening),
    so keep it on unless the platform re-verified the stored bytes itself.
    ``verify_plaintext_hashes`` (default off) additionally checks each plaintext hash; it is
    implied by the ciphertext hash and the key commitment and only detects a bidder tool that
    wrote a wrong plaintext hash (``bid.inconsistent``).
    """
    return _decrypt(stream, files_key, verify_ciphertext_hashes, verify_plaintext_hashes, None)


def _decrypt(
    stream: ReadableStream,
    files_key: bytes,
    check_ciphertext: bool,
    check_plaintext: bool,
    on_header: Callable[[SealedHeader], None] | None,
) -> Iterator[PlaintextChunk]:
    header = _read_verified_header(stream)
    suite = _check_key(header, "files", files_key)
    _check_body_length(stream, header)
    if on_header is not None:
        on_header(header)
    blob = _read_exact(stream, header.summary_size)
    if check_ciphertext and not hmac.compare_digest(suite.hash(blob), header.summary_hash):
        raise Tampered("summary ciphertext hash mismatch")
    ident = header._ident
    # AES-256-GCM takes any buffer; the provider's SM4-GCM path needs bytes (its tag goes to
    # ``modes.GCM``), and at SM4 speed the saved allocation would not show anyway.
    reader = _ChunkReader(stream, reuse=suite.name == "intl")
    for entry in header.files:
        key, prefix, salt = _file_material(suite, files_key, ident, entry.index)
        c_hash = suite.hasher() if check_ciphertext else None
        p_hash = _plaintext_hasher(suite, ident, entry.index, salt) if check_plaintext else None
        count = chunk_count(entry.size)
        for j in range(count):
            last = j == count - 1
            size = min(CHUNK_SIZE, entry.size - j * CHUNK_SIZE) + TAG_SIZE
            sealed = reader.read(size)
            try:
                plain = suite.open(key, chunk_nonce(prefix, j, last), sealed)
            except DecryptionFailed:
                raise Tampered(f"chunk {j} of {entry.name} fails authentication") from None
            if c_hash is not None:
                c_hash.update(sealed)
                if last and not hmac.compare_digest(c_hash.digest(), entry.ciphertext_hash):
                    raise Tampered(f"ciphertext hash mismatch in {entry.name}")
            if p_hash is not None:
                p_hash.update(plain)
                if last and not hmac.compare_digest(p_hash.digest(), entry.plaintext_hash):
                    raise Inconsistent(f"plaintext hash mismatch in {entry.name}")
            yield PlaintextChunk(entry, plain, last)
    _expect_eof(stream)


@dataclass(frozen=True)
class OpenedFile:
    name: str
    path: Path
    size: int


def open_files(
    stream: ReadableStream,
    files_key: bytes,
    out_dir: Path | str,
    progress: Progress | None = None,
    *,
    verify_ciphertext_hashes: bool = True,
    verify_plaintext_hashes: bool = False,
) -> list[OpenedFile]:
    """Decrypt every file into ``out_dir`` (which must be absent or empty), streaming.

    Checks as :func:`decrypt_files`. On any failure everything written so far is removed and
    the error is raised, so a half-opened bid never lingers.
    """
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputExists(str(out), path=str(out))
    created_root = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    opened: list[OpenedFile] = []
    handle = None
    done = 0
    total = 0

    def on_header(header: SealedHeader) -> None:
        nonlocal total
        total = header.plaintext_size

    try:
        chunks = _decrypt(
            stream, files_key, verify_ciphertext_hashes, verify_plaintext_hashes, on_header
        )
        for chunk in chunks:
            if handle is None:
                path = out.joinpath(*chunk.file.name.split("/"))
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = path.open("xb")
            handle.write(chunk.data)
            done += len(chunk.data)
            if progress is not None:
                progress(done, total)
            if chunk.last:
                handle.close()
                handle = None
                opened.append(OpenedFile(chunk.file.name, path, chunk.file.size))
    except BaseException:
        if handle is not None:
            handle.close()
        if created_root:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for child in out.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise
    return opened


# --- sealing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    name: str
    path: Path
    size: int


def _collect_sources(source: Path | str | Sequence[Path | str]) -> list[_Source]:
    def refuse(what: str) -> NoReturn:
        raise InvalidBidInput(what, what=what)

    found: list[tuple[str, Path]] = []
    if isinstance(source, str | Path):
        root = Path(source)
        if root.is_symlink():
            refuse(f"不接受符号链接：{root}")
        if root.is_dir():
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                linked = [d for d in dirnames if Path(dirpath, d).is_symlink()]
                for name in sorted(filenames) + linked:
                    path = Path(dirpath, name)
                    rel = path.relative_to(root).as_posix()
                    found.append((unicodedata.normalize("NFC", rel), path))
        elif root.is_file():
            found.append((unicodedata.normalize("NFC", root.name), root))
        else:
            refuse(f"找不到文件或文件夹：{root}")
    else:
        for item in source:
            path = Path(item)
            found.append((unicodedata.normalize("NFC", path.name), path))
    if not found:
        refuse("没有要加密的文件")
    if len(found) > MAX_FILES:
        refuse(f"文件过多（上限 {MAX_FILES} 个）")
    sources = []
    for name, path in sorted(found, key=lambda item: item[0].encode("utf-8")):
        if path.is_symlink() or not path.is_file():
            refuse(f"只能加密普通文件（不接受符号链接或设备文件）：{path}")
        try:
            validate_file_name(name)
        except ValueError as exc:
            raise InvalidBidInput(str(exc), what=f"文件名不可移植：{name}（{exc}）") from None
        sources.append(_Source(name, path, path.stat().st_size))
    try:
        _check_names_portable([s.name for s in sources])
    except ValueError as exc:
        raise InvalidBidInput(str(exc), what=f"文件名冲突：{exc}") from None
    return sources


def _plain_chunks(handle: Any, size: int, name: str) -> Iterator[tuple[int, bytes, bool]]:
    count = chunk_count(size)
    for j in range(count):
        want = min(CHUNK_SIZE, size - j * CHUNK_SIZE)
        data = handle.read(want)
        while len(data) < want:
            more = handle.read(want - len(data))
            if not more:
                raise SourceChanged(f"{name} shrank while sealing")
            data += more
        yield j, data, j == count - 1
    if handle.read(1):
        raise SourceChanged(f"{name} grew while sealing")


@dataclass(frozen=True)
class SealResult:
    """What sealing produced: the header and the receipt values the platform will confirm."""

    header: SealedHeader

    @property
    def bid_digest(self) -> bytes:
        return self.header.digest

    @property
    def size(self) -> int:
        return self.header.total_size


def seal_bid(
    folder_or_files: Path | str | Sequence[Path | str],
    summary: BidSummary,
    section: SectionKeys,
    bidder_key: PrivateKey,
    bidder_cert: Certificate,
    out_stream: WritableStream,
    progress: Progress | None = None,
    *,
    fingerprint: MachineFingerprint | None = None,
    created_at: datetime | None = None,
) -> SealResult:
    """Seal a folder (recursively, names relative to it) or a list of files to ``section``.

    Reads each source file twice, 1 MiB at a time (the header, which lists the ciphertext
    hashes, precedes the blobs), and refuses with ``bid.source_changed`` if a file changed in
    between (the second pass's chunk tags must equal the first's). ``fingerprint`` defaults
    to this machine's, ``created_at`` to the clock's now. All randomness comes from
    :func:`secrets.token_bytes`.
    """
    return _seal(
        folder_or_files,
        summary,
        section,
        bidder_key,
        bidder_cert,
        out_stream,
        progress,
        fingerprint=fingerprint if fingerprint is not None else collect_machine_fingerprint(),
        created_at=created_at if created_at is not None else clock.now(),
        rng=secrets.token_bytes,
        wrap=None,
        sign=None,
    )


def _seal(
    folder_or_files: Path | str | Sequence[Path | str],
    summary: BidSummary,
    section: SectionKeys,
    bidder_key: PrivateKey,
    bidder_cert: Certificate,
    out_stream: WritableStream,
    progress: Progress | None,
    *,
    fingerprint: MachineFingerprint,
    created_at: datetime,
    rng: Rng,
    wrap: WrapFn | None,
    sign: SignFn | None,
) -> SealResult:
    """Sealing with injectable randomness (test vectors only; production passes ``secrets``)."""
    suite = get_suite(section.suite)
    wrap_fn: WrapFn = wrap if wrap is not None else suite.wrap
    sign_fn: SignFn = sign if sign is not None else suite.sign
    if bidder_key.suite_name != suite.name or bidder_cert.public_key.suite_name != suite.name:
        raise InvalidBidInput(
            "bidder key suite", what=f"本标段使用 {suite.name} 密码套件，投标人证书算法与之不符"
        )
    if bidder_cert.public_key != bidder_key.public_key():
        raise InvalidBidInput("key/cert mismatch", what="私钥与投标人证书不匹配")
    credit_code = certificate_credit_code(bidder_cert)
    if credit_code is None:
        raise InvalidBidInput("no credit code", what="投标人证书中没有统一社会信用代码")
    if created_at.tzinfo is None or created_at.utcoffset() is None:
        raise InvalidBidInput("naive created_at", what="时间必须带时区")
    sources = _collect_sources(folder_or_files)

    # Randomness, in the order fixed by the specification (section 10.1).
    n = suite.aead_key_size
    bid_id = rng(BID_ID_SIZE)
    part_keys: dict[Part, bytes] = {"summary": rng(n), "files": rng(n)}
    first_shares: dict[Part, bytes] = {"summary": rng(n), "files": rng(n)}
    random = rng(RANDOM_SIZE)
    if len(bid_id) != BID_ID_SIZE or len(random) != RANDOM_SIZE:
        raise ValueError("the random source returned short output")
    ident = _Ident(section.section_code, credit_code, bid_id)

    total = 2 * sum(s.size for s in sources)
    done = 0

    def tick(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    # Pass 1: hashes of every file's plaintext and ciphertext; each chunk's tag is kept
    # (16 bytes per MiB) to check pass 2 against.
    entries: list[dict[str, Any]] = []
    tags: list[list[bytes]] = []
    for index, src in enumerate(sources):
        key, prefix, salt = _file_material(suite, part_keys["files"], ident, index)
        p_hash = _plaintext_hasher(suite, ident, index, salt)
        c_hash = suite.hasher()
        file_tags: list[bytes] = []
        with src.path.open("rb") as handle:
            for j, data, last in _plain_chunks(handle, src.size, src.name):
                p_hash.update(data)
                sealed_chunk = suite.seal(key, chunk_nonce(prefix, j, last), data)
                c_hash.update(sealed_chunk)
                file_tags.append(sealed_chunk[-TAG_SIZE:])
                tick(len(data))
        tags.append(file_tags)
        entries.append(
            {
                "name": src.name,
                "size": src.size,
                "plaintext_hash": p_hash.digest().hex(),
                "ciphertext_size": ciphertext_size(src.size),
                "ciphertext_hash": c_hash.digest().hex(),
            }
        )

    s_key, s_nonce = _summary_material(suite, part_keys["summary"], ident)
    summary_blob = suite.seal(
        s_key, s_nonce, _summary_plaintext(summary, ident, random, fingerprint)
    )

    keys_doc: dict[str, Any] = {}
    bidder_pub = bidder_cert.public_key
    for part in PARTS:
        k, s1 = part_keys[part], first_shares[part]
        shares: dict[Role, bytes] = {"tenderer": s1, "center": _xor(k, s1)}
        entry: dict[str, Any] = {"key_commitment": _commit(suite, ident, f"key/{part}", k).hex()}
        for role in ROLES:
            entry[role] = {
                "wrapped": _b64(
                    wrap_fn(
                        section.public_key(role), shares[role], ident.ctx(f"wrap/{part}/{role}")
                    )
                ),
                "commitment": _commit(suite, ident, f"share/{part}/{role}", shares[role]).hex(),
            }
        entry["bidder"] = {
            "wrapped": _b64(wrap_fn(bidder_pub, k, ident.ctx(f"wrap/{part}/bidder")))
        }
        keys_doc[part] = entry

    doc = {
        "format": FORMAT,
        "version": VERSION,
        "suite": suite.name,
        "section_code": section.section_code,
        "bid_id": bid_id.hex(),
        "created_at": created_at.isoformat(timespec="seconds"),
        "chunk_size": CHUNK_SIZE,
        "bidder": {"credit_code": credit_code, "certificate": _b64(bidder_cert.der)},
        "opening_keys": {role: section.key_id(role).hex() for role in ROLES},
        "summary": {
            "ciphertext_size": len(summary_blob),
            "ciphertext_hash": suite.hash(summary_blob).hex(),
        },
        "files": entries,
        "keys": keys_doc,
    }
    raw = _canonical(doc)
    if len(raw) > MAX_HEADER:
        raise InvalidBidInput("header too large", what="文件过多或文件名过长，头部超过 1 MiB")
    signature = sign_fn(bidder_key, raw)
    block = (
        MAGIC + len(raw).to_bytes(4, "big") + raw + len(signature).to_bytes(2, "big") + signature
    )
    digest = suite.hash(block)
    out_stream.write(block + digest)
    out_stream.write(summary_blob)

    # Pass 2: encrypt again and write. A chunk whose content changed since pass 1 gets
    # another GCM tag (a tag is a MAC of the chunk under the same key and nonce), so comparing
    # the tags catches an edited source without hashing it a third time.
    for index, src in enumerate(sources):
        key, prefix, _salt = _file_material(suite, part_keys["files"], ident, index)
        with src.path.open("rb") as handle:
            for j, data, last in _plain_chunks(handle, src.size, src.name):
                sealed = suite.seal(key, chunk_nonce(prefix, j, last), data)
                if not hmac.compare_digest(sealed[-TAG_SIZE:], tags[index][j]):
                    raise SourceChanged(f"{src.name} changed while sealing (chunk {j})")
                out_stream.write(sealed)
                tick(len(data))

    header = _build_header(
        _parse_header_json(raw, suite.name), raw, signature, digest, len(block) + DIGEST_SIZE
    )
    return SealResult(header)
