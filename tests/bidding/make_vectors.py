"""Regenerate the test vectors of docs/spec/sealed-bid.md (between the ``vectors`` markers).

    .venv/bin/python -m tests.bidding.make_vectors            # keep the published keys
    .venv/bin/python -m tests.bidding.make_vectors --new-keys # new test keys and certificates

The containers contain randomized SM2 / HPKE wraps and signatures, so each run gives new
container bytes; everything else is fixed by the seed. Run the tests afterwards.
"""

from __future__ import annotations

import base64
import io
import sys
import tempfile
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from sunlit.bidding import sealed
from sunlit.kernel.crypto import get_suite
from sunlit.kernel.crypto.x509 import CertificateAuthority, SubjectInfo

from . import vectors

BEGIN = "<!-- vectors:begin -->\n"
END = "<!-- vectors:end -->\n"
EXAMPLE_BEGIN = "<!-- example-header:begin -->\n"
EXAMPLE_END = "<!-- example-header:end -->\n"


def _new_keys(suite_name: str) -> vectors.VectorKeys:
    suite = get_suite(suite_name)
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2036, 11, 1, tzinfo=UTC)
    ca = CertificateAuthority.create_root(
        suite.generate_keypair(),
        common_name=f"Sunlit test-vector CA ({suite_name})",
        not_before=start,
        not_after=end,
    )
    bidder = suite.generate_keypair()
    cert = ca.issue(
        SubjectInfo("张三", "阳光测试建设有限公司", "9144030071526726XG", role="投标人授权代表"),
        bidder.public_key(),
        not_before=start,
        not_after=end,
    )
    return vectors.VectorKeys(suite.generate_keypair(), suite.generate_keypair(), bidder, cert)


def _block(name: str, body: str) -> str:
    return f"```text {name}\n{body.rstrip()}\n```\n\n"


def _render(suite_name: str, keys: vectors.VectorKeys) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        data = vectors.seal_vector(suite_name, keys, Path(tmp))
    header = sealed.verify_structure(io.BytesIO(data), keys.section(suite_name)).header
    files_key = sealed.remedy_decrypt(io.BytesIO(data), keys.bidder).files_key
    values = vectors.intermediates(suite_name, header)
    values.update(vectors.stream_values(suite_name, header, files_key))
    values["container_hash"] = get_suite(suite_name).hash(data)
    out = [f"#### Suite `{suite_name}`\n\n"]
    for role in ("tenderer", "center", "bidder"):
        key = getattr(keys, role)
        out.append(_block(f"{suite_name}.{role}-key", key.to_pem().decode()))
    out.append(_block(f"{suite_name}.bidder-cert", keys.certificate.to_pem().decode()))
    lines = "\n".join(f"{suite_name}.{name}: {value.hex()}" for name, value in values.items())
    out.append(_block(f"{suite_name}.values", lines))
    out.append(
        f"The container ({len(data)} bytes), base64:\n\n"
        + _block(
            f"{suite_name}.container", "\n".join(textwrap.wrap(base64.b64encode(data).decode(), 76))
        )
    )
    return "".join(out)


def main() -> None:
    text = vectors.spec_text()
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    fresh = "--new-keys" in sys.argv
    body = "".join(
        _render(name, _new_keys(name) if fresh else vectors.vector_keys(name, text))
        for name in ("gm", "intl")
    )
    text = text[:start] + "\n" + body + text[stop:]
    start, stop = text.index(EXAMPLE_BEGIN) + len(EXAMPLE_BEGIN), text.index(EXAMPLE_END)
    example = "```json\n" + vectors.example_header(vectors.container("gm", text)) + "\n```\n"
    text = text[:start] + example + text[stop:]
    vectors.SPEC.write_text(text, encoding="utf-8")
    print(f"wrote the vectors into {vectors.SPEC}")


if __name__ == "__main__":
    main()
