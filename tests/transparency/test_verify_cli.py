"""Export with ``sunlit log export-*``, verify offline with ``sunlit log verify`` (no database)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sunlit.kernel.authz import system_actor
from sunlit.transparency import service
from sunlit.transparency.keys import PlatformKey
from tests.transparency.helpers import BIDDER, make_key, note_something, write_json

SYSTEM = system_actor("test")
SUNLIT = Path(sys.executable).parent / "sunlit"


@pytest.fixture
def logged(db: Session, key: PlatformKey) -> dict[str, Any]:
    """Events 0..3, checkpoint at 4 (its event is leaf 4), events 5..11, checkpoint at 12."""
    ids = [note_something(db, BIDDER, n) for n in range(4)]
    first = service.issue_checkpoint(db, SYSTEM, "投标截止", key=key)
    ids += [note_something(db, BIDDER, n) for n in range(4, 11)]
    second = service.issue_checkpoint(db, SYSTEM, "开标", key=key)
    return {"ids": ids, "first": first.tree_size, "second": second.tree_size}


def test_inclusion_proof_verifies_offline_from_exported_files_only(
    cli: Any, logged: dict[str, Any], key_pem: Path, tmp_path: Path
) -> None:
    event_id = logged["ids"][2]
    proof = tmp_path / "proof.json"
    r = cli("log", "export-proof", event_id, "--out", str(proof))
    assert r.exit_code == 0, r.output
    bundle = json.loads(proof.read_text())
    assert (bundle["leafIdx"], bundle["treeSize"]) == (2, 12)  # against the later checkpoint
    assert json.loads(base64.b64decode(bundle["leaf"]))["id"] == event_id
    r = cli("log", "verify", str(proof), "--key", str(key_pem))
    assert r.exit_code == 0, r.output
    assert "存在性证明有效：叶子 2" in r.output and "大小为 12 的树中" in r.output
    # Against the earlier checkpoint too.
    early = tmp_path / "early.json"
    assert cli("log", "export-proof", event_id, "--out", str(early), "--size", "4").exit_code == 0
    assert cli("log", "verify", str(early), "--key", str(key_pem)).exit_code == 0


def test_verify_runs_as_a_separate_process_without_any_database(
    cli: Any, logged: dict[str, Any], key_pem: Path, tmp_path: Path
) -> None:
    proof = tmp_path / "proof.json"
    assert cli("log", "export-proof", logged["ids"][0], "--out", str(proof)).exit_code == 0
    env = dict(os.environ)
    env["SUNLIT_DATABASE_URL"] = "postgresql+psycopg://nobody:x@127.0.0.1:1/none"  # unreachable
    env["SUNLIT_DATA_DIR"] = str(tmp_path / "empty")
    env["COLUMNS"] = "300"
    done = subprocess.run(
        [str(SUNLIT), "log", "verify", str(proof), "--key", str(key_pem)],
        capture_output=True, text=True, env=env, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "存在性证明有效" in done.stdout
    assert not (tmp_path / "empty").exists()  # verify touched no platform state


def test_consistency_between_two_checkpoints(
    cli: Any, logged: dict[str, Any], key_pem: Path, tmp_path: Path
) -> None:
    out = tmp_path / "consistency.json"
    r = cli("log", "export-consistency", "--from", str(logged["first"]), "--out", str(out))
    assert r.exit_code == 0, r.output
    r = cli("log", "verify", str(out), "--key", str(key_pem))
    assert r.exit_code == 0, r.output
    assert "一致性证明有效" in r.output and "大小 12 的树是大小 4 的树的延续" in r.output
    # A forked history: the second root replaced (its checkpoint re-signed by the same key
    # would be needed to fool anyone; here the proof itself no longer leads to it).
    doc = json.loads(out.read_text())
    doc["proof"][0] = base64.b64encode(bytes(32)).decode()
    bad = write_json(tmp_path / "forked.json", doc)
    r = cli("log", "verify", str(bad), "--key", str(key_pem))
    assert r.exit_code == 1
    assert "证明验证失败" in r.output and "mismatch" in r.output


def test_checkpoint_files_verify_and_a_bad_signature_is_rejected(
    cli: Any, logged: dict[str, Any], key_pem: Path, tmp_path: Path
) -> None:
    cp = tmp_path / "checkpoint.txt"
    assert cli("log", "export-checkpoint", "--out", str(cp)).exit_code == 0
    r = cli("log", "verify", str(cp), "--key", str(key_pem))
    assert r.exit_code == 0, r.output
    assert "检查点签名有效" in r.output and "树大小 12" in r.output
    # Change the size in the signed text: the signature no longer verifies.
    lines = cp.read_text().split("\n")
    lines[1] = "13"
    forged = tmp_path / "forged.txt"
    forged.write_text("\n".join(lines))
    r = cli("log", "verify", str(forged), "--key", str(key_pem))
    assert r.exit_code == 1
    assert "签名无法用所给公钥验证" in r.output and "transparency.verify.bad_signature" in r.output
    # Flip a byte of the signature itself.
    text, _, sigline = cp.read_text().partition("\n\n")
    name, b64sig = sigline.strip().rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64sig))
    raw[-3] ^= 0x01
    flipped = tmp_path / "flipped.txt"
    flipped.write_text(f"{text}\n\n{name} {base64.b64encode(bytes(raw)).decode()}\n")
    r = cli("log", "verify", str(flipped), "--key", str(key_pem))
    assert r.exit_code == 1 and "transparency.verify.bad_signature" in r.output
    # Someone else's key: no signature by that key on the checkpoint.
    other = tmp_path / "other.pem"
    other.write_text(make_key("gm").public_pem())
    r = cli("log", "verify", str(cp), "--key", str(other))
    assert r.exit_code == 1 and "transparency.verify.no_platform_signature" in r.output


def test_a_proof_for_a_wrong_size_is_rejected(
    cli: Any, logged: dict[str, Any], key_pem: Path, tmp_path: Path
) -> None:
    proof = tmp_path / "proof.json"
    assert cli("log", "export-proof", logged["ids"][1], "--out", str(proof)).exit_code == 0
    doc = json.loads(proof.read_text())
    doc["treeSize"] = 11
    bad = write_json(tmp_path / "wrong-size.json", doc)
    r = cli("log", "verify", str(bad), "--key", str(key_pem))
    assert r.exit_code == 1
    assert "证明针对的树大小为 11，而所附检查点的树大小为 12" in r.output
    assert "transparency.verify.size_mismatch" in r.output
    # The proof of the earlier checkpoint stapled to the later one: wrong path length.
    early = tmp_path / "early.json"
    assert (
        cli("log", "export-proof", logged["ids"][1], "--out", str(early), "--size", "4").exit_code
        == 0
    )
    mixed = json.loads(early.read_text())
    mixed["checkpoint"], mixed["treeSize"], mixed["root"] = doc["checkpoint"], 12, doc["root"]
    r = cli("log", "verify", str(write_json(tmp_path / "mixed.json", mixed)), "--key", str(key_pem))
    assert r.exit_code == 1
    assert "证明验证失败" in r.output and "wrong inclusion proof length" in r.output
    # And the API refuses to produce a proof beyond the log.
    r = cli(
        "log", "export-proof", logged["ids"][1], "--out", str(tmp_path / "x.json"), "--size", "999"
    )
    assert r.exit_code == 1 and "transparency.size_out_of_range" in r.output


def test_a_truncated_export_file_is_rejected(
    cli: Any, logged: dict[str, Any], key_pem: Path, tmp_path: Path
) -> None:
    proof = tmp_path / "proof.json"
    assert cli("log", "export-proof", logged["ids"][0], "--out", str(proof)).exit_code == 0
    content = proof.read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(content[: len(content) // 2])
    r = cli("log", "verify", str(cut), "--key", str(key_pem))
    assert r.exit_code == 1
    assert "文件不完整或不是有效的 JSON" in r.output and "transparency.verify.truncated" in r.output
    # Cut exactly after a complete JSON value would leave fields missing instead.
    doc = json.loads(content)
    del doc["proof"]
    r = cli("log", "verify", str(write_json(tmp_path / "noproof.json", doc)), "--key", str(key_pem))
    assert r.exit_code == 1 and "缺少字段“proof”" in r.output
    # A checkpoint file cut before its signature line.
    cp = tmp_path / "cp.txt"
    assert cli("log", "export-checkpoint", "--out", str(cp)).exit_code == 0
    short = tmp_path / "short.txt"
    short.write_text(cp.read_text().partition("\n\n")[0] + "\n")
    r = cli("log", "verify", str(short), "--key", str(key_pem))
    assert r.exit_code == 1 and "transparency.verify.note_format" in r.output


def test_tampered_leaf_bytes_in_a_bundle_are_rejected(
    cli: Any, logged: dict[str, Any], key_pem: Path, tmp_path: Path
) -> None:
    proof = tmp_path / "proof.json"
    assert cli("log", "export-proof", logged["ids"][3], "--out", str(proof)).exit_code == 0
    doc = json.loads(proof.read_text())
    leaf = json.loads(base64.b64decode(doc["leaf"]))
    leaf["data"]["n"] = 999
    doc["leaf"] = base64.b64encode(json.dumps(leaf).encode()).decode()
    r = cli("log", "verify", str(write_json(tmp_path / "t.json", doc)), "--key", str(key_pem))
    assert r.exit_code == 1 and "transparency.verify.leaf_hash_mismatch" in r.output
    # Recomputing the leaf hash as well does not help: the path no longer reaches the root.
    from sunlit.kernel.merkle import SM3, leaf_hash

    doc["leafHash"] = base64.b64encode(leaf_hash(SM3, base64.b64decode(doc["leaf"]))).decode()
    r = cli("log", "verify", str(write_json(tmp_path / "t2.json", doc)), "--key", str(key_pem))
    assert r.exit_code == 1 and "root mismatch" in r.output


def test_several_files_at_once_and_exit_code(
    cli: Any, logged: dict[str, Any], key_pem: Path, tmp_path: Path
) -> None:
    good = tmp_path / "good.json"
    assert cli("log", "export-proof", logged["ids"][0], "--out", str(good)).exit_code == 0
    missing = tmp_path / "missing.json"
    r = cli("log", "verify", str(good), str(missing), "--key", str(key_pem))
    assert r.exit_code == 1
    assert "✓" in r.output and "无法读取" in r.output
