"""Bidding (投标): the sealed-bid format, the bidder's sealing tool and the opening keys.

* :mod:`sunlit.bidding.sealed` — container format, sealing, keyless verification, collective
  decryption (2-of-2 shares), the bidder's remedy, streaming opening;
* :mod:`sunlit.bidding.opening_keys` — opening key pairs, passphrase protection, custody;
* :mod:`sunlit.bidding.cli` — ``sunlit bid``.

Specification: ``docs/spec/sealed-bid.md``; decisions and threat model:
``docs/adr/0008-sealed-bids-and-opening-keys.md``. Upload, receipts, withdrawal and the opening
workflow are built on this API (they are the only parts that touch the database).
"""
