"""Remote opening (不见面开标): opening sessions, the two collective decryptions, 唱标, the
bidder's remedy and 第31条 classification, the coefficient draw, the signed opening record.

Decisions and threat model: ``docs/adr/0010-submission-and-opening.md``.
"""
