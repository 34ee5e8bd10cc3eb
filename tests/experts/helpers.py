"""Expert-pool fixtures: valid ID numbers and credit codes, a pool, a section past its deadline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from sunlit.experts import service
from sunlit.experts.catalog import id_check_char
from sunlit.experts.models import Expert
from sunlit.experts.schemas import ExpertIn
from sunlit.kernel import clock as kclock
from sunlit.kernel.authz import Actor
from sunlit.kernel.codes import make_credit_code

EMPLOYERS = {
    "uni": ("苏州大学", make_credit_code("1", "2", "320500", "46600001")),
    "design": (
        "苏州市建筑设计研究院有限责任公司",
        make_credit_code("9", "1", "320508", "13771001"),
    ),
    "consult": ("江苏华正工程咨询有限公司", make_credit_code("9", "1", "320505", "67450002")),
    "nanjing": ("南京工业大学", make_credit_code("1", "2", "320100", "46600099")),
}


def id_number(n: int, region: str = "320502") -> str:
    first17 = f"{region}19{70 + n % 30:02d}0101{n % 1000:03d}"
    return first17 + id_check_char(first17)


def expert_in(n: int, specialty: str = "A010133", employer: str = "uni", **over: Any) -> ExpertIn:
    name, credit = EMPLOYERS[employer]
    body: dict[str, Any] = {
        "name": f"专家{n:03d}",
        "id_number": id_number(n),
        "mobile": f"137{n:08d}",
        "employer_name": name,
        "employer_credit_code": credit,
        "title": "高级工程师",
        "region_code": "320500" if employer != "nanjing" else "320100",
        "main_specialty": specialty,
        "other_specialties": [],
    }
    body.update(over)
    return ExpertIn(**body)


def make_pool(
    db: Session, staff: Actor, specs: Sequence[tuple[int, str, str]], **over: Any
) -> list[Expert]:
    """``specs``: (number, specialty, employer key)."""
    return [service.register_expert(db, staff, expert_in(n, s, emp, **over)) for n, s, emp in specs]


def past_deadline(clock: kclock.ManualClock, section: Any) -> None:
    clock.set(kclock.ensure_aware(section.bid_deadline) + dt.timedelta(minutes=5))


def at(days: int, hour: int) -> dt.datetime:
    return dt.datetime.combine(
        kclock.now().date() + dt.timedelta(days=days), dt.time(hour, 0), kclock.CHINA_TZ
    )
