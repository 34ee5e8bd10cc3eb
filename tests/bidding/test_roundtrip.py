"""Seal → verify → collective decryption / remedy → open, in both suites."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sunlit.bidding import sealed
from sunlit.bidding.errors import InvalidBidInput, OutputExists, SourceChanged, Tampered

from .conftest import CREDIT_CODE, FINGERPRINT, NOW, SAMPLE_FILES, SUMMARY, Party, write_tree
from .helpers import header_of, regions


def collective(p: Party, header: sealed.SealedHeader, part: sealed.Part) -> bytes:
    shares = [
        sealed.partial_decrypt(header.wrapped_share(part, "tenderer"), p.tenderer_key, "tenderer"),
        sealed.partial_decrypt(header.wrapped_share(part, "center"), p.center_key, "center"),
    ]
    return sealed.combine(header, part, shares)


def test_round_trip(p: Party, sample: bytes, tmp_path: Path) -> None:
    verified = sealed.verify_structure(io.BytesIO(sample), p.section)
    header = verified.header
    assert header.suite == p.name
    assert verified.section_code == p.section.section_code
    assert verified.bidder_credit_code == CREDIT_CODE
    assert verified.bidder_certificate == p.cert
    assert verified.size == len(sample)
    assert verified.bid_digest == p.suite.hash(sample[: header.header_block_size - 32])
    assert [f.name for f in header.files] == sorted(SAMPLE_FILES, key=lambda n: n.encode())
    assert {f.name: f.size for f in header.files} == {n: len(d) for n, d in SAMPLE_FILES.items()}

    summary = sealed.open_summary(io.BytesIO(sample), collective(p, header, "summary"))
    assert summary.price == "98765.40" and summary.price_decimal == SUMMARY.price_decimal
    assert summary.duration_days == 180 and summary.quality == "合格"
    assert summary.items == {"项目经理": "王五"}
    assert summary.machine == FINGERPRINT
    assert len(summary.random) == 32 and summary.bid_id == header.bid_id

    out = tmp_path / "opened"
    opened = sealed.open_files(
        io.BytesIO(sample), collective(p, header, "files"), out, verify_plaintext_hashes=True
    )
    assert [o.name for o in opened] == [f.name for f in header.files]
    for name, data in SAMPLE_FILES.items():
        assert out.joinpath(*name.split("/")).read_bytes() == data


def test_remedy_recovers_the_same_keys(p: Party, sample: bytes, tmp_path: Path) -> None:
    header = header_of(sample)
    keys = sealed.remedy_decrypt(io.BytesIO(sample), p.bidder_key)
    assert keys.summary_key == collective(p, header, "summary")
    assert keys.files_key == collective(p, header, "files")
    assert sealed.open_summary(io.BytesIO(sample), keys.summary_key).price == "98765.40"
    sealed.open_files(io.BytesIO(sample), keys.files_key, tmp_path / "r")
    assert (tmp_path / "r" / "空文件.dat").read_bytes() == b""


def test_random_numbers_and_keys_differ_between_bids(p: Party, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"same content")
    one, two = p.seal(tmp_path / "a.txt"), p.seal(tmp_path / "a.txt")
    h1, h2 = header_of(one), header_of(two)
    assert h1.bid_id != h2.bid_id
    assert h1.files[0].ciphertext_hash != h2.files[0].ciphertext_hash
    assert h1.files[0].plaintext_hash != h2.files[0].plaintext_hash  # keyed: hides equal content
    k1 = sealed.remedy_decrypt(io.BytesIO(one), p.bidder_key)
    k2 = sealed.remedy_decrypt(io.BytesIO(two), p.bidder_key)
    assert k1.files_key != k2.files_key and k1.summary_key != k1.files_key
    r1 = sealed.open_summary(io.BytesIO(one), k1.summary_key).random
    r2 = sealed.open_summary(io.BytesIO(two), k2.summary_key).random
    assert r1 != r2


def test_list_of_files_uses_base_names(p: Party, tmp_path: Path) -> None:
    write_tree(tmp_path, {"x/报价单.xlsx": b"price", "y/清单.xml": b"<x/>"})
    data = p.seal([tmp_path / "x" / "报价单.xlsx", tmp_path / "y" / "清单.xml"])
    assert [f.name for f in header_of(data).files] == ["报价单.xlsx", "清单.xml"]


def test_summary_is_padded_so_the_price_length_does_not_show(p: Party, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    small = p.seal(tmp_path / "f", summary=sealed.BidSummary("1"))
    large = p.seal(tmp_path / "f", summary=sealed.BidSummary("9999999999999999.99"))
    assert header_of(small).summary_size == header_of(large).summary_size == 4096 + 16


@pytest.mark.parametrize(
    "sizes",
    [
        [0],
        [1],
        [sealed.CHUNK_SIZE - 1],
        [sealed.CHUNK_SIZE],
        [sealed.CHUNK_SIZE + 1],
        [2 * sealed.CHUNK_SIZE, 3],
    ],
)
def test_chunk_boundaries(p: Party, tmp_path: Path, sizes: list[int]) -> None:
    files = {f"f{i}": bytes([i + 1]) * size for i, size in enumerate(sizes)}
    data = p.seal(write_tree(tmp_path / "src", files))
    header = header_of(data)
    for entry in header.files:
        assert entry.ciphertext_size == entry.size + 16 * max(
            1, -(-entry.size // sealed.CHUNK_SIZE)
        )
    assert len([r for r in regions(data) if ".chunk" in r]) == sum(
        sealed.chunk_count(s) for s in sizes
    )
    keys = sealed.remedy_decrypt(io.BytesIO(data), p.bidder_key)
    sealed.open_files(io.BytesIO(data), keys.files_key, tmp_path / "out")
    for name, content in files.items():
        assert (tmp_path / "out" / name).read_bytes() == content


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(contents=st.lists(st.binary(max_size=3000), min_size=1, max_size=4))
def test_any_small_files_round_trip(
    p: Party, tmp_path_factory: pytest.TempPathFactory, contents: list[bytes]
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    files = {f"文件{i}.bin": data for i, data in enumerate(contents)}
    data = p.seal(write_tree(folder / "src", files))
    sealed.verify_structure(io.BytesIO(data), p.section)
    keys = sealed.remedy_decrypt(io.BytesIO(data), p.bidder_key)
    got = {
        c.file.name: c.data
        for c in sealed.decrypt_files(
            io.BytesIO(data), keys.files_key, verify_plaintext_hashes=True
        )
    }
    assert got == files


def test_open_files_refuses_a_non_empty_output_and_cleans_up(
    p: Party, sample: bytes, tmp_path: Path
) -> None:
    key = sealed.remedy_decrypt(io.BytesIO(sample), p.bidder_key).files_key
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("keep")
    with pytest.raises(OutputExists):
        sealed.open_files(io.BytesIO(sample), key, tmp_path / "busy")
    assert (tmp_path / "busy" / "x").read_text() == "keep"
    # a failure half-way removes what was written
    r = regions(sample)
    start, _ = r["file1.chunk2"]
    broken = sample[:start] + bytes([sample[start] ^ 1]) + sample[start + 1 :]
    with pytest.raises(Tampered):
        sealed.open_files(io.BytesIO(broken), key, tmp_path / "half")
    assert not (tmp_path / "half").exists()


def test_sealing_refuses_bad_inputs(p: Party, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    other = p.suite.generate_keypair()
    with pytest.raises(InvalidBidInput):  # key does not match the certificate
        sealed.seal_bid(tmp_path / "f", SUMMARY, p.section, other, p.cert, io.BytesIO())
    (tmp_path / "empty-dir").mkdir()
    with pytest.raises(InvalidBidInput):  # nothing to seal
        p.seal(tmp_path / "empty-dir")
    write_tree(tmp_path / "case", {"A.txt": b"1", "sub/x": b"2"})
    (tmp_path / "case" / "a.TXT").write_bytes(b"3")
    with pytest.raises(InvalidBidInput):  # names equal ignoring case
        p.seal(tmp_path / "case")
    write_tree(tmp_path / "clash", {"x": b"1"})
    (tmp_path / "clash" / "X.d").mkdir()
    (tmp_path / "clash" / "X.d" / "y").write_bytes(b"2")
    (tmp_path / "clash" / "x.D").write_bytes(b"3")
    with pytest.raises(InvalidBidInput):  # a file name equal to a folder name
        p.seal(tmp_path / "clash")
    (tmp_path / "link-src").mkdir()
    (tmp_path / "link-src" / "l").symlink_to(tmp_path / "f")
    with pytest.raises(InvalidBidInput):
        p.seal(tmp_path / "link-src")
    with pytest.raises(InvalidBidInput):
        sealed.seal_bid(
            tmp_path / "f", SUMMARY, p.section, p.bidder_key, p.cert, io.BytesIO(),
            created_at=NOW.replace(tzinfo=None),
        )  # fmt: skip


def test_a_file_changing_during_sealing_is_refused(p: Party, tmp_path: Path) -> None:
    path = tmp_path / "grows.bin"
    path.write_bytes(b"a" * 5000)
    calls = 0

    def progress(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:  # after pass 1 read the file: change it before pass 2
            path.write_bytes(b"b" * 5000)

    with pytest.raises(SourceChanged):
        sealed.seal_bid(
            path, SUMMARY, p.section, p.bidder_key, p.cert, io.BytesIO(), progress,
            fingerprint=FINGERPRINT, created_at=NOW,
        )  # fmt: skip


def test_the_suite_of_the_section_decides(tmp_path: Path) -> None:
    from .conftest import party

    gm, intl = party("gm"), party("intl")
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(InvalidBidInput):  # an SM2 bidder cannot seal to an intl section
        sealed.seal_bid(tmp_path / "f", SUMMARY, intl.section, gm.bidder_key, gm.cert, io.BytesIO())
