"""Money as the documents print it: 人民币大写 (amounts in Chinese words)."""

from __future__ import annotations

from decimal import Decimal

import cn2an


def rmb_in_words(amount: Decimal) -> str:
    """人民币大写 of an amount in 元, to the 分 (e.g. 壹仟贰佰叁拾肆万伍仟元整)."""
    return str(cn2an.an2cn(f"{amount.quantize(Decimal('0.01'))}", "rmb"))
