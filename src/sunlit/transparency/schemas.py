"""Transparency API models. Hashes and signatures are standard base64 (RFC 4648 §4).

Proof bundles use the field names of the conformance vectors (``leafIdx``, ``treeSize``, ...)
so that the API answer *is* the export file ``sunlit log verify`` reads (spec §8).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from sunlit.transparency import note
from sunlit.transparency.keys import PlatformKey
from sunlit.transparency.models import Checkpoint, Cosignature
from sunlit.transparency.queries import signed_note


class KeyOut(BaseModel):
    """The platform's checkpoint-signing key, published for offline verification."""

    suite: str = Field(description="gm (SM2/SM3) 或 intl (ECDSA P-256/SHA-256)")
    algorithm: str
    key_id: str = Field(description="SM3/SHA-256 of the DER SubjectPublicKeyInfo, hex")
    note_key_id: str | None = Field(description="4-byte signed-note key ID, hex")
    key_name: str | None = Field(description="signed-note key name = log origin")
    origin: str | None
    hash_algorithm: str | None
    public_key_pem: str

    @classmethod
    def of(cls, key: PlatformKey, origin: str | None, hash_algorithm: str | None) -> KeyOut:
        return cls(
            suite=key.suite,
            algorithm="SM2-with-SM3" if key.suite == "gm" else "ECDSA-P256-SHA256",
            key_id=key.key_id,
            note_key_id=note.key_hash(origin, key.public_key).hex() if origin else None,
            key_name=origin,
            origin=origin,
            hash_algorithm=hash_algorithm,
            public_key_pem=key.public_pem(),
        )


class CosignatureOut(BaseModel):
    key_name: str
    signer_name: str
    certificate_fingerprint: str
    public_key_pem: str
    signature: str
    signed_at: dt.datetime

    @classmethod
    def of(cls, c: Cosignature) -> CosignatureOut:
        return cls(
            key_name=c.key_name,
            signer_name=c.signer_name,
            certificate_fingerprint=c.certificate_fingerprint,
            public_key_pem=c.public_key_pem,
            signature=note.b64(c.signature),
            signed_at=c.signed_at,
        )


class CheckpointOut(BaseModel):
    origin: str
    tree_size: int
    root_hash: str
    hash_algorithm: str
    issued_at: dt.datetime
    reason: str
    key_id: str
    body: str = Field(description="the signed note text (what witnesses co-sign)")
    note: str = Field(description="the signed checkpoint: text, blank line, signature lines")
    cosignatures: list[CosignatureOut]

    @classmethod
    def of(cls, cp: Checkpoint) -> CheckpointOut:
        return cls(
            origin=cp.origin,
            tree_size=cp.tree_size,
            root_hash=note.b64(cp.root_hash),
            hash_algorithm=cp.hash_algorithm,
            issued_at=cp.issued_at,
            reason=cp.reason,
            key_id=cp.key_id,
            body=cp.body,
            note=signed_note(cp),
            cosignatures=[CosignatureOut.of(c) for c in cp.cosignatures],
        )


class IssueIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200, description="签发原因")


class CosignIn(BaseModel):
    signature: str = Field(description="base64 DER signature over the checkpoint body")
    certificate_id: str | None = None


class _Bundle(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    format: str
    hash: str
    origin: str


class InclusionOut(_Bundle):
    event_id: str = Field(alias="eventId")
    leaf_idx: int = Field(alias="leafIdx")
    tree_size: int = Field(alias="treeSize")
    leaf_hash: str = Field(alias="leafHash")
    leaf: str | None = Field(description="canonical leaf bytes, base64; null if not visible")
    proof: list[str]
    root: str
    checkpoint: str | None = Field(description="signed checkpoint of treeSize, if issued")


class ConsistencyOut(_Bundle):
    size1: int
    size2: int
    root1: str
    root2: str
    proof: list[str]
    checkpoint1: str | None
    checkpoint2: str | None


class OpeningOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    format: str
    hash: str
    event_id: str = Field(alias="eventId")
    commitment: str
    salt: str
    sealed: str = Field(description="canonical JSON of the sealed object, base64")
    reveal_after: str = Field(alias="revealAfter")


class LeafOut(BaseModel):
    index: int
    event_id: str
    hash_algorithm: str
    leaf_hash: str
    leaf: str | None = Field(description="canonical JSON (RFC 8785), base64; null if not visible")
    visible: bool
