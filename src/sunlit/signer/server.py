"""A tiny HTTP service on 127.0.0.1: list certificates, sign a platform challenge."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel

from sunlit.kernel.crypto import PrivateKey, load_private_key_any, sign_any
from sunlit.kernel.crypto.x509 import Certificate, load_certificate


@dataclass
class Credential:
    id: str
    label: str
    algorithm: str
    not_after: dt.datetime
    certificate_pem: str
    key: PrivateKey


def load_folder(folder: Path, password: bytes | None = None) -> list[Credential]:
    """Pairs ``NAME.cert.pem`` with ``NAME.key.pem`` in ``folder``."""
    creds = []
    for cert_path in sorted(folder.glob("*.cert.pem")):
        key_path = cert_path.with_name(cert_path.name.replace(".cert.pem", ".key.pem"))
        if not key_path.exists():
            continue
        pem = cert_path.read_text()
        cert = load_certificate(pem.encode())
        creds.append(
            Credential(
                id=hashlib.sha256(cert.der).hexdigest()[:16],
                label=_label(cert),
                algorithm={"sm2": "SM2", "p256": "ECDSA P-256"}.get(cert.algorithm, cert.algorithm),
                not_after=cert.not_after,
                certificate_pem=pem,
                key=load_private_key_any(key_path.read_bytes(), password),
            )
        )
    return creds


def _label(cert: Certificate) -> str:
    """How a person recognises a certificate: organization · holder."""
    subject = cert.subject
    parts = [subject.get("organization_name"), subject.get("common_name")]
    return " · ".join(p for p in parts if p) or cert.subject_text


class SignIn(BaseModel):
    id: str
    message: str


# Login and binding challenges, and the issuer's signature over a tender document's digest
# (docs/adr/0007-tender-setup-and-notices.md); each names the platform origin on line 2.
ALLOWED_PREFIXES = ("sunlit-login:v1\n", "sunlit-bind:v1\n", "sunlit-document:v1\n")


def create_signer_app(credentials: list[Credential], origin: str) -> FastAPI:
    app = FastAPI(title="Sunlit 证书助手", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[origin.rstrip("/")],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
    )
    by_id = {c.id: c for c in credentials}

    @app.get("/certificates")
    def certificates() -> list[dict[str, str]]:
        return [
            {
                "id": c.id,
                "label": c.label,
                "algorithm": c.algorithm,
                "not_after": c.not_after.isoformat(),
                "certificate": c.certificate_pem,
            }
            for c in credentials
        ]

    @app.post("/sign")
    def sign(data: SignIn) -> dict[str, str]:
        cred = by_id.get(data.id)
        if cred is None:
            raise HTTPException(404, "证书不存在")
        # Sign only Sunlit challenges addressed to the configured platform: a page from
        # elsewhere cannot make the helper sign arbitrary data.
        if not data.message.startswith(ALLOWED_PREFIXES):
            raise HTTPException(400, "只能签署平台登录、绑定挑战或文件摘要")
        audience = data.message.split("\n")[1]
        if audience.rstrip("/") != origin.rstrip("/"):
            raise HTTPException(400, "挑战不属于本助手服务的平台")
        signature = sign_any(cred.key, data.message.encode())
        return {"signature": base64.b64encode(signature).decode()}

    return app
