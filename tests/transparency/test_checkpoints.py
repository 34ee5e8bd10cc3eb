"""Signed checkpoints: format, order of issue, signatures (OpenSSL interop), the platform key."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.kernel import tlog
from sunlit.kernel.audit import AuditEvent
from sunlit.kernel.authz import system_actor
from sunlit.kernel.errors import InvalidInput, PermissionDenied, ServiceUnavailable
from sunlit.kernel.merkle import root
from sunlit.settings import Settings
from sunlit.transparency import keys, note, service
from sunlit.transparency.keys import PlatformKey
from sunlit.transparency.models import Checkpoint
from tests.transparency.helpers import BIDDER, count, leaf_rows, make_key, note_something

SYSTEM = system_actor("test")


def test_checkpoint_covers_the_committed_log_and_its_own_event_comes_after(
    db: Session, key: PlatformKey
) -> None:
    for n in range(5):
        note_something(db, BIDDER, n)
    cp = service.issue_checkpoint(db, SYSTEM, "投标截止 S1", key=key)
    db.expire_all()
    leaves = leaf_rows(db)
    assert cp.tree_size == 5
    assert len(leaves) == 6
    meta = tlog.get_log(db)
    assert meta is not None
    assert cp.root_hash == root(tlog.hash_function(meta), [bytes(x.leaf_hash) for x in leaves[:5]])
    # The issue's own audit event is leaf 5 and names the checkpoint it issued.
    own = json.loads(leaves[5].leaf)
    assert own["action"] == "transparency.checkpoint.issued"
    assert own["object_id"] == cp.id
    assert own["data"]["tree_size"] == 5
    assert own["data"]["root"] == base64.b64encode(cp.root_hash).decode()
    # The next checkpoint covers it.
    cp2 = service.issue_checkpoint(db, SYSTEM, "开标", key=key)
    assert cp2.tree_size == 6


def test_checkpoint_text_and_signature(db: Session, key: PlatformKey) -> None:
    note_something(db, BIDDER, 1)
    cp = service.issue_checkpoint(db, SYSTEM, "定时", key=key)
    meta = tlog.get_log(db)
    assert meta is not None
    lines = cp.body.split("\n")
    assert lines == [
        meta.origin,
        "1",
        base64.b64encode(cp.root_hash).decode(),
        "hash sm3",
        f"time {cp.issued_at.isoformat()}",
        "",
    ]
    assert lines[4].endswith("+08:00")
    from sunlit.transparency.queries import signed_note

    signed = signed_note(cp)
    assert signed.startswith(cp.body + "\n\u2014 " + meta.origin + " ")
    parsed = note.verify_checkpoint(signed, key.public_key, origin=meta.origin)
    assert (parsed.size, parsed.root, parsed.hash_algorithm) == (1, cp.root_hash, "sm3")
    other = make_key("gm")
    with pytest.raises(note.VerificationFailed) as info:
        note.verify_checkpoint(signed, other.public_key)
    assert info.value.code == "transparency.verify.no_platform_signature"


@pytest.mark.parametrize("suite", ["gm", "intl"])
def test_checkpoint_signature_verifies_with_openssl(
    database: Any, tmp_path: Path, suite: str
) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    tlog.set_default_suite(suite)
    key = make_key(suite)
    with database.session_scope() as db:
        note_something(db, BIDDER, 1)
        cp = service.issue_checkpoint(db, SYSTEM, "互通测试", key=key)
        body, sig = cp.body, cp.signature
    (tmp_path / "body").write_text(body)
    (tmp_path / "sig").write_bytes(sig)
    (tmp_path / "pub.pem").write_text(key.public_pem())
    if suite == "intl":
        cmd = ["openssl", "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "body"]
    else:
        cmd = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin",
               "-digest", "sm3", "-in", "body", "-sigfile", "sig",
               "-pkeyopt", "distid:1234567812345678"]  # fmt: skip
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_log_never_mixes_suites(db: Session) -> None:
    note_something(db, BIDDER, 1)  # the log is created with the gm suite (SM3)
    with pytest.raises(tlog.LogSuiteMismatch) as info:
        service.issue_checkpoint(db, SYSTEM, "定时", key=make_key("intl"))
    assert info.value.code == "transparency.suite_mismatch"
    assert count(db, Checkpoint) == 0
    assert count(db, AuditEvent) == 1


def test_only_center_staff_issue_checkpoints_and_a_reason_is_required(
    db: Session, key: PlatformKey
) -> None:
    with pytest.raises(PermissionDenied):
        service.issue_checkpoint(db, BIDDER, "定时", key=key)
    with pytest.raises(InvalidInput) as info:
        service.issue_checkpoint(db, SYSTEM, "  ", key=key)
    assert info.value.code == "transparency.reason"
    assert count(db, Checkpoint) == 0


def test_platform_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", database_url="sqlite://", crypto_suite="gm")
    first = keys.load_platform_key(settings)
    path = tmp_path / "var" / "keys" / "platform.key.pem"
    assert first.path == path
    assert path.stat().st_mode & 0o777 == 0o600
    again = keys.load_platform_key(settings)
    assert again.public_key == first.public_key
    assert first.suite == "gm" and len(first.key_id) == 64
    assert not list(path.parent.glob(".platform-key-*"))  # no temporary file left behind


def test_configured_key_file_must_exist_and_match_the_suite(tmp_path: Path) -> None:
    missing = Settings(
        data_dir=tmp_path, database_url="sqlite://", platform_key_file=tmp_path / "none.pem"
    )
    with pytest.raises(ServiceUnavailable) as info:
        keys.load_platform_key(missing)
    assert info.value.code == "transparency.key.missing"
    assert not (tmp_path / "none.pem").exists()
    intl = tmp_path / "intl.pem"
    intl.write_bytes(make_key("intl").private_key.to_pem())
    wrong = Settings(
        data_dir=tmp_path, database_url="sqlite://", platform_key_file=intl, crypto_suite="gm"
    )
    with pytest.raises(ServiceUnavailable) as info:
        keys.load_platform_key(wrong)
    assert info.value.code == "transparency.key.suite"


def test_checkpoint_sizes_are_unique_and_increasing(db: Session, key: PlatformKey) -> None:
    sizes = []
    for n in range(4):
        note_something(db, BIDDER, n)
        sizes.append(service.issue_checkpoint(db, SYSTEM, f"第{n}次", key=key).tree_size)
    assert sizes == [1, 3, 5, 7]
    stored = list(db.scalars(select(Checkpoint.tree_size).order_by(Checkpoint.tree_size)))
    assert stored == sizes


def test_configured_uses_other_settings_inside_the_block_only(
    key: PlatformKey, settings: Any, tmp_path: Path
) -> None:
    """A loader for another data directory (the demo's) signs with that directory's key inside
    the block; afterwards the configured key is the app's again."""
    other = settings.model_copy(update={"data_dir": tmp_path / "other"})
    with keys.configured(other):
        inside = keys.platform_key()
    assert inside.path != key.path and inside.key_id != key.key_id
    assert keys.platform_key().key_id == key.key_id
