"""Fixtures of the sealed-bid tests: CAs, bidder certificates, opening keys and sealed samples
for both suites, made once per session (SM2 operations cost milliseconds each)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest

from sunlit.bidding import sealed
from sunlit.bidding.machine import MachineFingerprint
from sunlit.kernel.crypto import PrivateKey, Suite, get_suite
from sunlit.kernel.crypto.x509 import Certificate, CertificateAuthority, SubjectInfo

CREDIT_CODE = "9144030071526726XG"
OTHER_CREDIT_CODE = "91330100716105852F"
SECTION = "E3205000001000123001"
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
FINGERPRINT = MachineFingerprint("0123456789abcdef0123456789abcdef", "02:00:00:00:00:09", "t")
SUMMARY = sealed.BidSummary("98765.40", 180, "合格", {"项目经理": "王五"})
SUITES = ("gm", "intl")


@dataclass(frozen=True)
class Party:
    """Everything one suite's tests need."""

    suite: Suite
    ca: CertificateAuthority
    bidder_key: PrivateKey
    cert: Certificate
    tenderer_key: PrivateKey
    center_key: PrivateKey
    section: sealed.SectionKeys

    @property
    def name(self) -> str:
        return self.suite.name

    def issue(self, key: PrivateKey, credit_code: str = CREDIT_CODE) -> Certificate:
        return self.ca.issue(
            SubjectInfo("李四", "阳光测试建设有限公司", credit_code, role="投标人授权代表"),
            key.public_key(),
            not_before=NOW - timedelta(days=1),
            not_after=NOW + timedelta(days=365),
        )

    def other_section(self, code: str = SECTION) -> sealed.SectionKeys:
        return sealed.SectionKeys(
            code,
            self.name,
            self.suite.generate_keypair().public_key(),
            self.center_key.public_key(),
        )

    def seal(
        self,
        source: Path | list[Path],
        section: sealed.SectionKeys | None = None,
        summary: sealed.BidSummary = SUMMARY,
    ) -> bytes:
        out = io.BytesIO()
        sealed.seal_bid(
            source,
            summary,
            section or self.section,
            self.bidder_key,
            self.cert,
            out,
            fingerprint=FINGERPRINT,
            created_at=NOW,
        )
        return out.getvalue()


@cache
def party(name: str) -> Party:
    suite = get_suite(name)
    ca = CertificateAuthority.create_root(
        suite.generate_keypair(),
        common_name=f"Bidding test CA {name}",
        not_before=NOW - timedelta(days=10),
        not_after=NOW + timedelta(days=3650),
    )
    bidder = suite.generate_keypair()
    tenderer, center = suite.generate_keypair(), suite.generate_keypair()
    cert = ca.issue(
        SubjectInfo("李四", "阳光测试建设有限公司", CREDIT_CODE, role="投标人授权代表"),
        bidder.public_key(),
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=365),
    )
    section = sealed.SectionKeys(SECTION, name, tenderer.public_key(), center.public_key())
    return Party(suite, ca, bidder, cert, tenderer, center, section)


SAMPLE_FILES: dict[str, bytes] = {
    "商务标/投标函.txt": "投标函：我方愿以上述报价承担本标段施工。\n".encode() * 20,
    "技术标/data.bin": bytes(range(256)) * (2 * sealed.CHUNK_SIZE // 256) + b"tail!!!",
    "空文件.dat": b"",
}


def write_tree(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = folder.joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


@cache
def _sample(name: str, folder: str) -> bytes:
    return party(name).seal(write_tree(Path(folder), SAMPLE_FILES))


@pytest.fixture(params=SUITES)
def p(request: pytest.FixtureRequest) -> Party:
    return party(request.param)


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sample-src")


@pytest.fixture
def sample(p: Party, sample_dir: Path) -> bytes:
    """A sealed bid of SAMPLE_FILES in p's suite (sealed once per suite and session)."""
    return _sample(p.name, str(sample_dir / p.name))


@pytest.fixture(scope="session")
def openssl() -> Callable[..., subprocess.CompletedProcess[bytes]]:
    binary = shutil.which("openssl")
    if binary is None:
        pytest.fail("the openssl CLI (OpenSSL 3) is required for the interoperability tests")

    def run(*args: str | os.PathLike[str]) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([binary, *map(str, args)], capture_output=True, timeout=120)

    return run
