"""Electronic bid guarantees (电子投标保函): FI admission, sealed applications, premiums from
the basic account, signed issuance, 解密还原 after opening, release, claims, 验真, risk alerts.

The FI side talks to the platform only over the signed partner protocol
(``kernel/partner.py``); the messages are specified in ``docs/spec/guarantee-api.md``.
"""
