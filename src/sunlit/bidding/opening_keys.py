"""Opening keys (开标密钥) of a section: generation, passphrase protection and custody.

Each section has two opening key pairs, the tenderer's (or agency's) and the trading center's.
A bid's keys are split 2-of-2 between them (:mod:`sunlit.bidding.sealed`), so decrypting needs
both holders. The rules (ADR 0008):

* a key pair is generated **on its holder's machine** (``sunlit bid keygen`` or the browser);
  the private key leaves it only encrypted under the holder's passphrase (RFC 5958 PBES2 with
  scrypt and SM4-CBC / AES-256-CBC, via the crypto provider). The platform stores the public key
  and, at most, that encrypted file; it never sees the passphrase;
* at the opening the holder unlocks the key locally and sends the platform only the *share*
  of each bid (:func:`sunlit.bidding.sealed.partial_decrypt`), never the private key;
* alternatively a key sits in an :class:`OpeningKeyCustody` (an HSM or KMS service of the
  center), which decrypts shares only from the opening time on and only for its own section
  and role. :class:`TimeLockedCustody` is the reference implementation of that policy.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sunlit.kernel.crypto import (
    DecryptionFailed,
    MalformedKey,
    PrivateKey,
    PublicKey,
    UnsupportedKey,
    get_suite,
    load_private_key_any,
)

from .errors import BadPassphrase, InvalidBidInput, OpeningTooEarly, WrongShare
from .sealed import ROLES, Role, SectionKeys, Share, WrappedShare, partial_decrypt

__all__ = [
    "MIN_PASSPHRASE_LENGTH",
    "OpeningKey",
    "OpeningKeyCustody",
    "TimeLockedCustody",
    "check_passphrase",
    "generate_opening_key",
    "generate_passphrase",
    "generate_section_keys",
    "unlock_opening_key",
]

MIN_PASSPHRASE_LENGTH: Final = 12
#: Crockford's base32 alphabet: no I, L, O, U, so a passphrase read aloud is unambiguous.
_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def generate_passphrase(groups: int = 5) -> str:
    """A random passphrase such as ``7K2M-Q9XW-FD3A-PZ8R-T6VB`` (20 bits per group; 100 by
    default), from :mod:`secrets`. Recommended: the encrypted key file may sit on the platform,
    so the passphrase is what stands between an operator and the key until the opening."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(groups))


def check_passphrase(passphrase: str) -> None:
    """Refuse passphrases that an offline guesser would find before the opening."""
    text = passphrase.strip()
    if len(text) < MIN_PASSPHRASE_LENGTH or len(set(text)) < 6:
        raise InvalidBidInput(
            "weak passphrase",
            what=f"口令至少 {MIN_PASSPHRASE_LENGTH} 个字符且不少于 6 种不同字符"
            "（建议使用 sunlit bid keygen 生成的随机口令）",
        )


@dataclass(frozen=True)
class OpeningKey:
    """A freshly generated opening key: the public key to publish and the private key as
    ``ENCRYPTED PRIVATE KEY`` PEM (the unencrypted key is never kept)."""

    section_code: str
    role: Role
    suite: str
    public_key: PublicKey
    encrypted_private_pem: bytes

    @property
    def public_pem(self) -> bytes:
        return self.public_key.to_pem()

    @property
    def key_id(self) -> bytes:
        return self.public_key.key_id()


def generate_opening_key(section_code: str, role: Role, suite: str, passphrase: str) -> OpeningKey:
    """Generate one opening key pair on this machine, the private key encrypted at once."""
    if role not in ROLES:
        raise InvalidBidInput("bad role", what=f"角色必须是 {' 或 '.join(ROLES)}")
    check_passphrase(passphrase)
    private = get_suite(suite).generate_keypair()
    pem = private.to_pem(passphrase.encode("utf-8"))
    return OpeningKey(section_code, role, suite, private.public_key(), pem)


def generate_section_keys(
    section_code: str, suite: str, tenderer_passphrase: str, center_passphrase: str
) -> tuple[SectionKeys, OpeningKey, OpeningKey]:
    """Both opening keys of a section and its :class:`SectionKeys` (demos and tests; in
    production each holder runs :func:`generate_opening_key` on their own machine)."""
    tenderer = generate_opening_key(section_code, "tenderer", suite, tenderer_passphrase)
    center = generate_opening_key(section_code, "center", suite, center_passphrase)
    keys = SectionKeys(section_code, suite, tenderer.public_key, center.public_key)
    return keys, tenderer, center


def unlock_opening_key(encrypted_pem: bytes | str, passphrase: str) -> PrivateKey:
    """Decrypt an opening key file; a wrong passphrase is ``bid.bad_passphrase``.

    An *unencrypted* private key is refused: opening keys are never stored in clear.
    """
    try:
        return load_private_key_any(encrypted_pem, passphrase.encode("utf-8"))
    except DecryptionFailed:
        raise BadPassphrase("wrong passphrase") from None
    except UnsupportedKey as exc:
        raise InvalidBidInput(
            str(exc), what="开标私钥必须以口令加密保存（ENCRYPTED PRIVATE KEY）"
        ) from None
    except (MalformedKey, ValueError) as exc:
        raise InvalidBidInput(str(exc), what="不是有效的开标私钥文件") from None


class OpeningKeyCustody(ABC):
    """Where an opening private key lives when it is not in its holder's hands.

    A custody never hands out the private key: it only turns wrapped shares of *its* section
    and role into shares, and only from the opening time on. ``now`` is passed in; the caller
    takes it from the trusted clock (the custody may also check its own clock).
    """

    section_code: str
    role: Role
    public_key: PublicKey

    @abstractmethod
    def partial_decrypt_many(
        self, wrapped: Sequence[WrappedShare], *, now: datetime
    ) -> list[Share]:
        """Shares of several bids at once (one key unlock for the whole opening)."""

    def partial_decrypt(self, wrapped: WrappedShare, *, now: datetime) -> Share:
        return self.partial_decrypt_many([wrapped], now=now)[0]


class TimeLockedCustody(OpeningKeyCustody):
    """Reference custody: refuses before ``opening_time``, then decrypts shares.

    The private key is obtained from ``load_key`` only after the time check, for each batch,
    and is not kept: before the opening this object holds nothing that decrypts. In production
    ``load_key`` reaches an HSM / KMS of the center (or unlocks an encrypted key with a
    passphrase held by that service); :meth:`from_encrypted_pem` is the simple form.
    """

    def __init__(
        self,
        *,
        section_code: str,
        role: Role,
        public_key: PublicKey,
        opening_time: datetime,
        load_key: Callable[[], PrivateKey],
    ) -> None:
        if opening_time.tzinfo is None or opening_time.utcoffset() is None:
            raise ValueError("opening_time must be timezone-aware")
        self.section_code = section_code
        self.role = role
        self.public_key = public_key
        self.opening_time = opening_time
        self._load_key = load_key

    @classmethod
    def from_encrypted_pem(
        cls,
        *,
        section_code: str,
        role: Role,
        encrypted_pem: bytes,
        passphrase: str,
        public_key: PublicKey,
        opening_time: datetime,
    ) -> TimeLockedCustody:
        return cls(
            section_code=section_code,
            role=role,
            public_key=public_key,
            opening_time=opening_time,
            load_key=lambda: unlock_opening_key(encrypted_pem, passphrase),
        )

    def partial_decrypt_many(
        self, wrapped: Sequence[WrappedShare], *, now: datetime
    ) -> list[Share]:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        if now < self.opening_time:
            raise OpeningTooEarly(
                f"opening at {self.opening_time.isoformat()}",
                opening_time=self.opening_time.isoformat(timespec="minutes"),
            )
        for item in wrapped:
            if item.section_code != self.section_code or item.role != self.role:
                raise WrongShare(
                    f"custody of {self.section_code}/{self.role} got "
                    f"{item.section_code}/{item.role}"
                )
        if not wrapped:
            return []
        key = self._load_key()
        if key.public_key() != self.public_key:
            raise WrongShare("the custody's key is not its published public key")
        return [
            partial_decrypt(item, key, self.role, section_code=self.section_code)
            for item in wrapped
        ]
