"""The demo's expert pool: the 12 demo experts (users with role expert in three employers)
become pool entries with specialties, titles and valid ID numbers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sunlit.experts import queries as expert_queries
from sunlit.experts import service as expert_service
from sunlit.experts.catalog import id_check_char
from sunlit.experts.schemas import ExpertIn
from sunlit.identity.models import Organization, User
from sunlit.kernel.authz import Actor, Role

# (main specialty, other specialties, title), cycled over the demo experts.
PROFILES = [
    ("A010133", ["A020132"], "教授"),
    ("A040103", ["A040102"], "教授级高级工程师"),
    ("A040104", [], "高级工程师"),
    ("A030101", ["A030102"], "高级工程师"),
    ("A010134", ["A040102"], "正高级经济师"),
    ("A040106", [], "高级工程师"),
]


def load_experts(db: Session, actor: Actor) -> int:
    """Register every active user with role expert who is not in the pool yet."""
    users = db.scalars(select(User).order_by(User.mobile, User.id))
    n = 0
    for user in users:
        if Role.EXPERT.value not in (user.roles or []):
            continue
        if expert_queries.expert_by_user(db, user.id) is not None:
            continue
        org = db.get(Organization, user.organization_id)
        if org is None or org.status != "active":
            continue
        main, others, title = PROFILES[n % len(PROFILES)]
        first17 = f"320502{1965 + n * 2}{(n % 12) + 1:02d}{10 + n:02d}{n:03d}"
        n += 1
        expert_service.register_expert(
            db,
            actor,
            ExpertIn(
                name=user.name,
                id_number=first17 + id_check_char(first17),
                mobile=user.mobile or f"1370000{n:04d}",
                employer_name=org.name,
                employer_credit_code=org.credit_code,
                title=title,
                region_code=org.region_code,
                main_specialty=main,
                other_specialties=others,
                user_id=user.id,
            ),
        )
    return n
