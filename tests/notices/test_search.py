"""Keyword search of the portal through the substring index (SQLite FTS5 trigram, PostgreSQL
pg_trgm): on both databases the answer equals the plain ``LIKE '%q%'`` over the same rows, for
Chinese, mixed-case and punctuated text, short keywords, wildcards and FTS syntax alike; the
index is really consulted, and it follows inserts, edits and deletes."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from sunlit.identity.models import Organization
from sunlit.kernel import clock
from sunlit.kernel.db import Database, new_id
from sunlit.notices import queries
from sunlit.notices.models import Notice
from sunlit.projects.models import Project, TenderProject

TITLES = [
    "苏州市轨道交通8号线车辆段土建施工招标公告",
    "苏州市第4242号道路改造工程施工招标公告",
    "苏州市第14242号道路改造工程施工招标公告",
    "吴江区ABC智慧园区 abc 监理采购公告",
    "昆山市Abc-Def 平台软件采购（二次）公告",
    "ＡＢＣ全角字母项目澄清公告",
    '含"引号"与*星号*的公告 NEAR AND OR',
    "折扣50%以上_下划线_的供应商公示",
    "太仓港区码头 扩建工程 终止公告",
    "园区εΣ希腊字母 ÄÖ 测试公告",
    "道路",
    "路",
]
TENDERERS = ["苏州市轨道交通集团有限公司", "吴江区城投公司", "ABC Holdings 有限公司", ""]
QUERIES = [
    "苏州",  # 2 characters: no trigram, plain scan
    "路",
    "道路改造",
    "第4242号",
    "4242",
    "242号道",
    "abc",
    "ABC",
    "Abc-D",
    "ＡＢＣ",
    "ａｂｃ",
    '"引号"',
    "*星号*",
    "NEAR AND",
    "50%以上",
    "_下划线_",
    "%",
    "εσ",
    "ΕΣ希",
    "äö",
    "码头 扩建",
    "轨道交通集团",
    "holdings",
    "不存在的关键字",
    "SZ",
    "E3205",
]


def _tender(db: Session) -> TenderProject:
    now = clock.now()
    org = Organization(
        id=new_id(),
        credit_code="91320500MA1XXXXXXA",
        name="搜索测试招标人",
        region_code="320500",
        status="active",
        created_at=now,
        updated_at=now,
    )
    project = Project(
        id=new_id(),
        code="E3205000000000001",
        name="搜索测试项目",
        category="engineering",
        region_code="320500",
        owner_org_id=org.id,
        invest_project_code="",
        address="",
        legal_person="",
        fund_source="",
        registered_by_org_id=org.id,
        created_at=now,
        updated_at=now,
    )
    tender = TenderProject(
        id=new_id(),
        project_id=project.id,
        code="E3205000000000001001",
        name="搜索测试招标项目",
        category="engineering",
        method="open",
        region_code="320500",
        tenderer_org_id=org.id,
        status="tendering",
        created_at=now,
        updated_at=now,
    )
    db.add_all([org, project, tender])
    db.commit()
    return tender


def _notice(tender: TenderProject, i: int, title: str, tenderer: str, code: str) -> Notice:
    when = clock.now() - dt.timedelta(minutes=i)
    return Notice(
        id=new_id(),
        tender_project_id=tender.id,
        kind="tender_notice",
        title=title,
        status="published",
        public=True,
        tender_project_code=code,
        tender_project_name="搜索测试",
        category="engineering",
        method="open",
        region_code="320500",
        tenderer_name=tenderer,
        published_at=when,
        modified_at=when,
        created_at=when,
    )


@pytest.fixture
def corpus(db: Session) -> list[Notice]:
    tender = _tender(db)
    rows = [
        _notice(tender, i, title, TENDERERS[i % len(TENDERERS)], f"E3205{i:04d}SZ")
        for i, title in enumerate(TITLES)
    ]
    db.add_all(rows)
    db.commit()
    return rows


def reference(db: Session, q: str) -> list[str]:
    """The old implementation: ``LIKE '%q%'`` over the three columns, no index involved."""
    like = f"%{q}%"
    stmt = (
        select(Notice.id)
        .where(
            Notice.public.is_(True),
            Notice.status.in_(queries.VISIBLE_STATUSES),
            or_(
                Notice.title.like(like),
                Notice.tender_project_code.like(like),
                Notice.tenderer_name.like(like),
            ),
        )
        .order_by(Notice.published_at.desc(), Notice.id.desc())
    )
    return list(db.scalars(stmt))


def searched(db: Session, q: str) -> tuple[list[str], int]:
    rows, total = queries.search_public(db, queries.NoticeFilter(q=q), limit=100)
    return [n.id for n in rows], total


@pytest.mark.parametrize("q", QUERIES)
def test_search_equals_like(db: Session, corpus: list[Notice], q: str) -> None:
    expected = reference(db, q.strip())
    ids, total = searched(db, q)
    assert ids == expected
    assert total == len(expected)


def test_the_corpus_exercises_both_paths_and_real_matches(
    database: Database, db: Session, corpus: list[Notice]
) -> None:
    """Guard against a vacuous equality: several queries match, some do not, and on SQLite
    the keywords of 3+ characters without wildcards do go through the index."""
    matched = [q for q in QUERIES if reference(db, q)]
    assert len(matched) >= 15
    assert len(matched) < len(QUERIES)
    if database.dialect == "sqlite":
        assert queries.text_candidates(db, "道路改造") is not None
        assert queries.text_candidates(db, "道路") is None  # too short for trigrams
        assert queries.text_candidates(db, "50%以上") is None  # LIKE wildcard
        # ASCII case folds on SQLite's LIKE, and the index agrees.
        assert reference(db, "abc") == reference(db, "ABC") != []


def test_index_is_consulted(database: Database, db: Session, corpus: list[Notice]) -> None:
    if database.dialect == "sqlite":
        assert searched(db, "道路改造")[0] != []
        # Empty the index behind the triggers' back: a search that still found the rows
        # would not be using it.
        db.execute(text("DELETE FROM notices_fts"))
        db.commit()
        assert searched(db, "道路改造")[0] == []
        assert searched(db, "道路")[0] != []  # 2 characters: the plain scan
    else:
        names = set(
            db.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'notices'"))
        )
        assert {
            "ix_notices_title_trgm",
            "ix_notices_tender_project_code_trgm",
            "ix_notices_tenderer_name_trgm",
        } <= names
        db.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            db.scalars(
                text("EXPLAIN SELECT id FROM notices WHERE title LIKE :p"),
                {"p": "%道路改造%"},
            )
        )
        db.rollback()
        assert "ix_notices_title_trgm" in plan


def test_index_follows_edits_and_deletes(
    database: Database, db: Session, corpus: list[Notice]
) -> None:
    first = corpus[0]
    assert searched(db, "车辆段")[0] == [first.id]
    first.title = "苏州市轨道交通9号线停车场土建施工招标公告"
    db.commit()
    assert searched(db, "车辆段")[0] == []
    assert searched(db, "停车场")[0] == [first.id]
    first.tenderer_name = "新招标人集团有限公司"
    db.commit()
    assert searched(db, "新招标人集团")[0] == [first.id]
    db.delete(first)
    db.commit()
    assert searched(db, "停车场")[0] == []
    if database.dialect == "sqlite":
        indexed = db.scalar(text("SELECT count(*) FROM notices_fts"))
        keys = db.scalar(text("SELECT count(*) FROM notice_search_keys"))
        assert indexed == keys == len(corpus) - 1
        # The index rows still carry the right notices (keys stable, none left over).
        pairs = {tuple(r) for r in db.execute(text("SELECT notice_id, title FROM notices_fts"))}
        assert pairs == {(n.id, n.title) for n in corpus[1:]}


def test_more_candidates_than_the_cap_fall_back_to_the_scan(
    db: Session, corpus: list[Notice], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    expected = reference(db, "公告")  # most titles
    assert len(expected) > 3
    assert queries.text_candidates(db, "公告") is None
    rows, total = queries.search_public(db, queries.NoticeFilter(q="公告"), limit=100)
    assert [n.id for n in rows] == expected[:4] or [n.id for n in rows] == expected
    assert total == 4  # capped: "more than 3"


def test_filters_combine_with_the_index(db: Session, corpus: list[Notice]) -> None:
    corpus[1].category = "procurement"
    corpus[2].status = "draft"
    db.commit()
    rows, total = queries.search_public(
        db, queries.NoticeFilter(q="道路改造", category="engineering"), limit=100
    )
    assert [n.id for n in rows] == [] and total == 0
    rows, total = queries.search_public(
        db, queries.NoticeFilter(q="道路改造", category="procurement"), limit=100
    )
    assert [n.id for n in rows] == [corpus[1].id] and total == 1


def test_api_search_uses_the_same_semantics(
    client: object, db: Session, corpus: list[Notice]
) -> None:
    for q in ("第4242号", "abc", "道路", "*星号*"):
        r = client.get("/api/v1/notices", params={"q": q, "limit": 100})  # type: ignore[attr-defined]
        assert r.status_code == 200
        assert [n["id"] for n in r.json()] == reference(db, q)
        assert r.headers["X-Total-Count"] == str(len(reference(db, q)))


ALPHABET = "道路改造工程苏州aAbB1２ "


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    titles=st.lists(st.text(ALPHABET, min_size=1, max_size=12), min_size=1, max_size=8),
    q=st.text(ALPHABET, min_size=1, max_size=5),
)
def test_property_search_equals_like(db: Session, titles: list[str], q: str) -> None:
    db.rollback()
    db.query(Notice).delete()
    tender = db.scalar(select(TenderProject)) or _tender(db)
    db.add_all(_notice(tender, i, t, "", f"C{i}") for i, t in enumerate(titles))
    db.commit()
    q = q.strip()
    ids, _ = searched(db, q)
    assert ids == reference(db, q)
