"""Transparency (透明日志): signed checkpoints, proofs and the offline verifier (T1–T4).

The append path lives in the kernel (``sunlit.kernel.tlog``): every audit event is a leaf. This
domain signs checkpoints over the log, serves proofs, audits the stored log and verifies
exported proofs offline. Specification: ``docs/spec/transparency-log.md``.
"""
