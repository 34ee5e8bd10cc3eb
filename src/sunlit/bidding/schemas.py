"""Bidding API schemas."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class OpeningKeyIn(BaseModel):
    role: str = Field(description="tenderer（招标人/代理）或 center（交易中心）")
    public_key: str = Field(description="开标公钥 PEM（sunlit bid keygen 生成）")
    encrypted_private_key: str | None = Field(
        default=None, description="可选：口令加密的 PKCS#8 私钥 PEM（平台从不接收口令）"
    )


class OpeningKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    section_id: str
    role: str
    suite: str
    key_id: str
    registered_at: dt.datetime


class DrawCommitmentIn(BaseModel):
    commitment: str = Field(description="draws.CenterSecret 的承诺值（64 位十六进制）")


class DrawCommitmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    section_id: str
    suite: str
    commitment: str
    committed_at: dt.datetime


class BidOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    section_id: str
    status: str
    bid_digest: str
    size: int
    submitted_at: dt.datetime
    withdrawn_at: dt.datetime | None


class SubmissionOut(BaseModel):
    bid: BidOut
    receipt: dict[str, object]
    signature: str


class BidCountOut(BaseModel):
    section_id: str
    valid_bids: int
