"""Bid deposits (投标保证金) through the deposit bank's virtual sub-accounts (虚拟子账号).

A bidder requests a sub-account per section from the center's deposit bank, pays into it from
its basic account (基本户) before the deadline; the bank's incoming-payment notices are matched,
checked and kept confidential until the opening; after the contract the deposits are refunded
with interest at the bank's demand-deposit rate, as instructions the bank confirms; a daily
reconciliation compares the bank's statement with the platform's records. ADR 0017.
"""
