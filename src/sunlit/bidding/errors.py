"""Refusals of the sealed-bid format, each with a stable code and a Chinese message.

Every class is a :class:`~sunlit.kernel.errors.DomainError` (HTTP 422 unless stated), so the
upload and opening services built on this package can return them as problem+json unchanged.
``reason`` carries an English technical detail for logs; it never contains secrets.

=================================  ===========================================================
code                               meaning
=================================  ===========================================================
``bid.not_sealed``                 not a sealed bid at all (wrong magic: a plain file, a ZIP…)
``bid.truncated``                  the container ends before its declared end
``bid.tampered``                   a byte changed: header digest, ciphertext hash or AEAD tag
                                   mismatch, chunks reordered, trailing data
``bid.malformed``                  intact (digest matches) but violates the specification
``bid.unsupported_version``        a format version this software does not know
``bid.bad_signature``              the bidder's header signature does not verify
``bid.bidder_mismatch``            the certificate does not belong to the bidder in the header
``bid.wrong_section``              sealed to another section, suite or opening keys
``bid.wrong_share``                a decryption share from the wrong key, role, section or bid
``bid.incomplete_shares``          collective decryption without both shares
``bid.wrong_key``                  remedy with a key that is not the bidder's
``bid.inconsistent``               the bidder's tool produced internally inconsistent data
``bid.source_changed``             a source file changed while it was being sealed
``bid.invalid_input``              bad input to sealing (summary, file names, keys…)
``bid.invalid_section_keys``       a section-keys.json that does not follow the specification
``bid.output_exists``              opening would overwrite an existing file
``bid.too_early``                  (409) a custody refuses to decrypt before the opening time
``bid.bad_passphrase``             the passphrase does not unlock the opening key
=================================  ===========================================================
"""

from __future__ import annotations

from typing import Any, ClassVar

from sunlit.kernel.errors import Conflict, InvalidInput

__all__ = [
    "BadPassphrase",
    "BadSignature",
    "BidError",
    "BidderMismatch",
    "IncompleteShares",
    "Inconsistent",
    "InvalidBidInput",
    "InvalidSectionKeys",
    "Malformed",
    "NotSealed",
    "OpeningTooEarly",
    "OutputExists",
    "SourceChanged",
    "Tampered",
    "Truncated",
    "UnsupportedVersion",
    "WrongKey",
    "WrongSection",
    "WrongShare",
]


class BidError(InvalidInput):
    """Base class: a sealed bid (or an input to sealing/opening) is refused."""

    CODE: ClassVar[str] = "bid.error"
    MESSAGE: ClassVar[str] = "投标文件无效"

    def __init__(self, reason: str = "", **params: Any) -> None:
        super().__init__(self.CODE, self.MESSAGE, **params)
        self.reason = reason

    def __str__(self) -> str:
        text = f"{self.code}: {self.detail}"
        return f"{text} ({self.reason})" if self.reason else text


class NotSealed(BidError):
    CODE = "bid.not_sealed"
    MESSAGE = "这不是加密投标文件（未加密或格式不符），平台只接收按规范加密的投标文件"


class Truncated(BidError):
    CODE = "bid.truncated"
    MESSAGE = "投标文件不完整（可能上传或复制中断），请重新上传"


class Tampered(BidError):
    CODE = "bid.tampered"
    MESSAGE = "投标文件已损坏或被篡改，完整性校验未通过"


class Malformed(BidError):
    CODE = "bid.malformed"
    MESSAGE = "投标文件格式不符合《加密投标文件格式》规范（请检查投标文件制作工具）"


class UnsupportedVersion(BidError):
    CODE = "bid.unsupported_version"
    MESSAGE = "不支持该加密投标文件版本，请升级软件"


class BadSignature(BidError):
    CODE = "bid.bad_signature"
    MESSAGE = "投标文件的投标人签名无效"


class BidderMismatch(BidError):
    CODE = "bid.bidder_mismatch"
    MESSAGE = "投标文件中的投标人统一社会信用代码与签名证书不一致"


class WrongSection(BidError):
    CODE = "bid.wrong_section"
    MESSAGE = "该投标文件不是加密给本标段的（标段编号、密码套件或开标公钥不符）"


class WrongShare(BidError):
    CODE = "bid.wrong_share"
    MESSAGE = "解密份额无效：不是本标段该角色的开标密钥，或份额与投标文件不符"


class IncompleteShares(BidError):
    CODE = "bid.incomplete_shares"
    MESSAGE = "解密需要招标人（代理）和交易中心两方的解密份额"


class WrongKey(BidError):
    CODE = "bid.wrong_key"
    MESSAGE = "该私钥不能解密此投标文件（不是投标人签名证书对应的私钥）"


class Inconsistent(BidError):
    CODE = "bid.inconsistent"
    MESSAGE = "投标文件内部数据不一致（制作投标文件时产生），无法正确解密"


class SourceChanged(BidError):
    CODE = "bid.source_changed"
    MESSAGE = "加密过程中源文件被修改，请关闭正在编辑的程序后重新加密"


class InvalidBidInput(BidError):
    CODE = "bid.invalid_input"
    MESSAGE = "输入无效：{what}"


class InvalidSectionKeys(BidError):
    CODE = "bid.invalid_section_keys"
    MESSAGE = "标段开标公钥文件无效：{what}"


class OutputExists(BidError):
    CODE = "bid.output_exists"
    MESSAGE = "输出位置已有同名文件，不会覆盖：{path}"


class BadPassphrase(BidError):
    CODE = "bid.bad_passphrase"
    MESSAGE = "口令错误，无法解锁开标密钥"


class OpeningTooEarly(BidError, Conflict):
    CODE = "bid.too_early"
    MESSAGE = "未到开标时间（{opening_time}），密钥保管方拒绝解密"
    status = 409
