"""Checkpoints as signed notes (spec §5): pure formatting, parsing, signing and verification.

A checkpoint follows C2SP ``tlog-checkpoint`` inside a C2SP ``signed-note``::

    sunlit/5f0c...e1            origin (the log's identity)
    1234                        tree size, decimal
    q1Yx...=                    root hash, base64
    hash sm3                    extension line: the tree hash (sm3 | sha256)
    time 2026-11-23T09:30:00+08:00   extension line: issue time (Asia/Shanghai)
                                (blank line)
    — sunlit/5f0c...e1 AbCd...   signature line(s): key name, base64(key ID || DER signature)

Signatures are over the note text (the five lines, final newline included): SM2-with-SM3
(``gm``) or ECDSA P-256 with SHA-256 (``intl``), DER-encoded. This module has no database and
is what ``sunlit log verify`` runs.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Final

from sunlit.kernel.clock import CHINA_TZ
from sunlit.kernel.crypto import InvalidSignature, PrivateKey, PublicKey, get_suite
from sunlit.kernel.crypto.errors import CryptoError
from sunlit.kernel.errors import DomainError

SIGNATURE_PREFIX: Final = "\u2014 "  # em dash, space
KEY_TYPE_ECDSA: Final = 0x02  # signed-note signature type: ECDSA (transparency-dev/witness)
KEY_TYPE_OTHER: Final = 0xFF  # signed-note: followed by a longer identifier
SM2_TYPE_NAME: Final = b"sunlit/sm2-sm3"
HASH_NAMES: Final = {"gm": "sm3", "intl": "sha256"}
_SUITE_OF_HASH: Final = {v: k for k, v in HASH_NAMES.items()}
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,19})$")
_KEY_NAME = re.compile(r"^[^\s+]+$")
MAX_SIZE: Final = 2**64 - 1


class VerificationFailed(DomainError):
    """A checkpoint, proof or bundle does not verify; the message says exactly why."""

    status = 422


def _fail(code: str, message: str, **params: Any) -> VerificationFailed:
    return VerificationFailed(f"transparency.verify.{code}", message, **params)


def b64(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def unb64(value: object, what: str, size: int | None = None) -> bytes:
    """Strict base64 decoding with a precise error."""
    if not isinstance(value, str):
        raise _fail("bad_base64", "{what}应为 base64 字符串", what=what)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _fail("bad_base64", "{what}不是有效的 base64 编码", what=what) from None
    if size is not None and len(raw) != size:
        raise _fail(
            "bad_length",
            "{what}应为 {size} 字节，实为 {got} 字节",
            what=what,
            size=size,
            got=len(raw),
        )
    return raw


def format_time(value: dt.datetime) -> str:
    """Checkpoint time: seconds precision, Asia/Shanghai offset."""
    return value.astimezone(CHINA_TZ).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Checkpoint:
    """The signed statement: this log had ``size`` leaves with ``root`` at ``time``."""

    origin: str
    size: int
    root: bytes
    hash_algorithm: str
    time: dt.datetime

    @property
    def suite(self) -> str:
        """The crypto suite implied by the hash (``gm`` for sm3, ``intl`` for sha256)."""
        return _SUITE_OF_HASH[self.hash_algorithm]

    def text(self) -> str:
        """The note text that is signed (final newline included)."""
        return (
            f"{self.origin}\n{self.size}\n{b64(self.root)}\n"
            f"hash {self.hash_algorithm}\ntime {format_time(self.time)}\n"
        )

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint's note text strictly."""
        if not text.endswith("\n"):
            raise _fail("checkpoint_format", "检查点正文必须以换行结束")
        lines = text[:-1].split("\n")
        if len(lines) != 5:
            raise _fail(
                "checkpoint_format",
                "检查点正文应为 5 行（来源、树大小、根哈希、hash、time），实为 {n} 行",
                n=len(lines),
            )
        origin, size_s, root_s, hash_line, time_line = lines
        if not origin or not _KEY_NAME.match(origin):
            raise _fail("checkpoint_format", "检查点第 1 行（日志来源）无效")
        if not _DECIMAL.match(size_s) or int(size_s) > MAX_SIZE:
            raise _fail(
                "checkpoint_format", "检查点第 2 行（树大小）不是有效的十进制数：{v}", v=size_s
            )
        if not hash_line.startswith("hash ") or hash_line[5:] not in _SUITE_OF_HASH:
            raise _fail("checkpoint_format", "检查点第 4 行应为“hash sm3”或“hash sha256”")
        root = unb64(root_s, "检查点根哈希", 32)
        if not time_line.startswith("time "):
            raise _fail("checkpoint_format", "检查点第 5 行应为“time <时间>”")
        try:
            when = dt.datetime.fromisoformat(time_line[5:])
        except ValueError:
            raise _fail("checkpoint_format", "检查点时间格式无效：{v}", v=time_line[5:]) from None
        if when.tzinfo is None:
            raise _fail("checkpoint_format", "检查点时间必须带时区")
        cp = cls(origin, int(size_s), root, hash_line[5:], when)
        if cp.text() != text:
            raise _fail("checkpoint_format", "检查点正文不是规范格式")
        return cp


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID, DER signature."""

    key_name: str
    key_hash: bytes
    signature: bytes

    def line(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.key_name} {b64(self.key_hash + self.signature)}\n"


def key_hash(key_name: str, public_key: PublicKey) -> bytes:
    """The signed-note key ID (4 bytes) of ``public_key`` under ``key_name``.

    ``intl`` (ECDSA P-256, signature type 0x02 as in transparency-dev/witness):
    ``SHA-256(SPKI DER)[:4]``. ``gm`` (SM2, type 0xff + ``sunlit/sm2-sm3``):
    ``SHA-256(key name || 0x0A || 0xFF || "sunlit/sm2-sm3" || SPKI DER)[:4]``.
    """
    spki = public_key.to_der()
    if public_key.suite_name == "intl":
        return hashlib.sha256(spki).digest()[:4]
    material = key_name.encode() + b"\n" + bytes([KEY_TYPE_OTHER]) + SM2_TYPE_NAME + spki
    return hashlib.sha256(material).digest()[:4]


def sign(text: str, key_name: str, private_key: PrivateKey) -> NoteSignature:
    """Sign a note text with the suite of ``private_key``."""
    if not _KEY_NAME.match(key_name):
        raise ValueError(f"invalid key name {key_name!r}")
    suite = get_suite(private_key.suite_name)
    signature = suite.sign(private_key, text.encode())
    return NoteSignature(key_name, key_hash(key_name, private_key.public_key()), signature)


def format_note(text: str, signatures: list[NoteSignature]) -> str:
    """The signed note: text, blank line, one line per signature."""
    return text + "\n" + "".join(s.line() for s in signatures)


def parse_note(note: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signature lines (C2SP signed-note)."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise _fail("note_format", "签名文本含有不允许的控制字符")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise _fail("note_format", "不是有效的签名检查点：缺少正文与签名之间的空行，或文件被截断")
    text, sig_block = note[: cut + 1], note[cut + 2 :]
    signatures = []
    for line in sig_block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise _fail("note_format", "签名行格式无效：{line}", line=line[:60])
        parts = line[len(SIGNATURE_PREFIX) :].split(" ")
        if len(parts) != 2 or not _KEY_NAME.match(parts[0]):
            raise _fail("note_format", "签名行格式无效：{line}", line=line[:60])
        raw = unb64(parts[1], "签名")
        if len(raw) < 5:
            raise _fail("note_format", "签名行过短：{line}", line=line[:60])
        signatures.append(NoteSignature(parts[0], raw[:4], raw[4:]))
    if not signatures:
        raise _fail("note_format", "检查点没有签名")
    return text, signatures


def verify_signature(text: str, sig: NoteSignature, public_key: PublicKey) -> None:
    """Verify one signature line over ``text`` with ``public_key``."""
    try:
        get_suite(public_key.suite_name).verify(public_key, text.encode(), sig.signature)
    except (InvalidSignature, CryptoError, ValueError):
        raise _fail(
            "bad_signature",
            "“{name}”的签名无法用所给公钥验证：内容被改动或签名无效",
            name=sig.key_name,
        ) from None


def verify_checkpoint(note: str, public_key: PublicKey, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint with the platform's public key and return it.

    The platform signs with key name = origin. Signatures by other keys (witnesses) are
    ignored here, as signed-note requires; :func:`verify_witness` checks them.
    """
    text, signatures = parse_note(note)
    cp = Checkpoint.parse(text)
    if origin is not None and cp.origin != origin:
        raise _fail(
            "wrong_origin",
            "检查点属于日志“{got}”，而不是所期望的“{want}”",
            got=cp.origin,
            want=origin,
        )
    if public_key.suite_name != cp.suite:
        raise _fail(
            "wrong_key_type",
            "检查点使用 {hash} 哈希，所给公钥属于{suite}套件，不是该日志的签名密钥",
            hash=cp.hash_algorithm,
            suite=public_key.suite_name,
        )
    want = key_hash(cp.origin, public_key)
    mine = [s for s in signatures if s.key_name == cp.origin and s.key_hash == want]
    if not mine:
        raise _fail(
            "no_platform_signature",
            "检查点上没有所给平台公钥（密钥标识 {kid}）的签名：公钥不对，或签名被替换",
            kid=want.hex(),
        )
    for sig in mine:
        verify_signature(text, sig, public_key)
    return cp


def verify_witness(note: str, key_name: str, public_key: PublicKey) -> None:
    """Verify a witness co-signature (by ``key_name``) on a signed checkpoint."""
    text, signatures = parse_note(note)
    want = key_hash(key_name, public_key)
    mine = [s for s in signatures if s.key_name == key_name and s.key_hash == want]
    if not mine:
        raise _fail("no_witness_signature", "检查点上没有见证人“{name}”的联署签名", name=key_name)
    for sig in mine:
        verify_signature(text, sig, public_key)
