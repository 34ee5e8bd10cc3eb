"""A development CA kept in a folder, so demos and tests need no outside CA.

Folder layout: ``ca.cert.pem``, ``ca.key.pem`` (mode 0600), ``state.json`` (revoked serials and
the CRL number). Production platforms trust real CAs' roots instead (``sunlit ca trust``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from sunlit.kernel.crypto import PrivateKey, get_suite, load_private_key_any
from sunlit.kernel.crypto.x509 import (
    Certificate,
    CertificateAuthority,
    RevocationList,
    SubjectInfo,
    load_certificate,
)


@dataclass
class IssuedCredential:
    certificate: Certificate
    private_key: PrivateKey


class DevCA:
    def __init__(self, folder: Path, ca: CertificateAuthority, crl_number: int) -> None:
        self.folder = folder
        self.ca = ca
        self.crl_number = crl_number

    @property
    def certificate(self) -> Certificate:
        return self.ca.certificate

    @classmethod
    def create(
        cls, folder: Path, name: str, suite: str, now: dt.datetime, years: int = 10
    ) -> DevCA:
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / "ca.cert.pem").exists():
            raise FileExistsError(f"a CA already exists in {folder}")
        key = get_suite(suite).generate_keypair()
        ca = CertificateAuthority.create_root(
            key,
            common_name=name,
            organization=name,
            not_before=now - dt.timedelta(days=1),
            not_after=now + dt.timedelta(days=365 * years),
        )
        key_path = folder / "ca.key.pem"
        key_path.write_bytes(key.to_pem())
        key_path.chmod(0o600)
        (folder / "ca.cert.pem").write_bytes(ca.certificate.to_pem())
        dev = cls(folder, ca, 0)
        dev._save()
        return dev

    @classmethod
    def load(cls, folder: Path) -> DevCA:
        cert = load_certificate((folder / "ca.cert.pem").read_bytes())
        key = load_private_key_any((folder / "ca.key.pem").read_bytes())
        ca = CertificateAuthority(cert, key)
        state = json.loads((folder / "state.json").read_text())
        for serial, when in state.get("revoked", {}).items():
            ca.revoke(int(serial, 16), dt.datetime.fromisoformat(when))
        return cls(folder, ca, int(state.get("crl_number", 0)))

    def _save(self) -> None:
        state = {
            "revoked": {format(s, "x"): t.isoformat() for s, t in self.ca.revoked.items()},
            "crl_number": self.crl_number,
        }
        (self.folder / "state.json").write_text(json.dumps(state, indent=2))

    def issue(
        self,
        subject: SubjectInfo,
        now: dt.datetime,
        *,
        suite: str | None = None,
        days: int = 730,
        not_before: dt.datetime | None = None,
    ) -> IssuedCredential:
        """Generate a key pair (as the holder's own tool would) and certify it."""
        key = get_suite(suite or self.certificate.public_key.suite_name).generate_keypair()
        start = not_before or now - dt.timedelta(hours=1)
        cert = self.ca.issue(
            subject, key.public_key(), not_before=start, not_after=start + dt.timedelta(days=days)
        )
        return IssuedCredential(cert, key)

    def revoke(self, serial: int, now: dt.datetime) -> None:
        self.ca.revoke(serial, now)
        self._save()

    def crl(self, now: dt.datetime, days: int = 7) -> RevocationList:
        self.crl_number += 1
        self._save()
        return self.ca.issue_crl(
            this_update=now - dt.timedelta(minutes=5),
            next_update=now + dt.timedelta(days=days),
            crl_number=self.crl_number,
        )


def write_credential(folder: Path, name: str, cred: IssuedCredential) -> tuple[Path, Path]:
    """Write ``NAME.cert.pem`` and ``NAME.key.pem`` (0600), the layout `sunlit signer` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{name}.cert.pem", folder / f"{name}.key.pem"
    cert_path.write_bytes(cred.certificate.to_pem())
    key_path.write_bytes(cred.private_key.to_pem())
    key_path.chmod(0o600)
    return cert_path, key_path
