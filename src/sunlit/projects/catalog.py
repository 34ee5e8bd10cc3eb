"""The domain vocabulary: transaction categories, procurement methods, evaluation methods.

Codes follow the national data specification where it has one (公共资源交易平台系统数据规范,
tables 500-504); see docs/adr/0007-tender-setup-and-notices.md for the choices made where it
does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sunlit.kernel.i18n import gettext


class Category(StrEnum):
    """交易类别."""

    ENGINEERING = "engineering"
    GOVERNMENT_PROCUREMENT = "government_procurement"
    LAND_MINERAL = "land_mineral"
    STATE_ASSETS = "state_assets"

    @property
    def label(self) -> str:
        return gettext(CATEGORY_LABELS[self])

    @property
    def code_letter(self) -> str:
        """First character of a project code (项目编号) of this category."""
        return CATEGORY_LETTERS[self]


CATEGORY_LABELS = {
    Category.ENGINEERING: "工程建设",
    Category.GOVERNMENT_PROCUREMENT: "政府采购",
    Category.LAND_MINERAL: "土地使用权和矿业权",
    Category.STATE_ASSETS: "国有产权",
}
CATEGORY_LETTERS = {
    Category.ENGINEERING: "E",
    Category.GOVERNMENT_PROCUREMENT: "P",
    Category.LAND_MINERAL: "L",
    Category.STATE_ASSETS: "S",
}


class Method(StrEnum):
    """招标方式 / 采购方式."""

    OPEN = "open"
    INVITED = "invited"
    COMPETITIVE_NEGOTIATION = "competitive_negotiation"
    COMPETITIVE_CONSULTATION = "competitive_consultation"
    INQUIRY = "inquiry"
    SINGLE_SOURCE = "single_source"

    @property
    def label(self) -> str:
        return gettext(METHOD_LABELS[self])

    @property
    def is_tender(self) -> bool:
        """公开招标 / 邀请招标 (as opposed to the non-tender procurement methods)."""
        return self in (Method.OPEN, Method.INVITED)


METHOD_LABELS = {
    Method.OPEN: "公开招标",
    Method.INVITED: "邀请招标",
    Method.COMPETITIVE_NEGOTIATION: "竞争性谈判",
    Method.COMPETITIVE_CONSULTATION: "竞争性磋商",
    Method.INQUIRY: "询价",
    Method.SINGLE_SOURCE: "单一来源",
}

GP_ONLY_METHODS = frozenset(
    {
        Method.COMPETITIVE_NEGOTIATION,
        Method.COMPETITIVE_CONSULTATION,
        Method.INQUIRY,
        Method.SINGLE_SOURCE,
    }
)


def methods_for(category: Category) -> list[Method]:
    if category == Category.GOVERNMENT_PROCUREMENT:
        return list(Method)
    return [Method.OPEN, Method.INVITED]


def minimum_bidders(method: Method) -> int:
    """Statutory minimum number of bidders / suppliers (招标投标法第17、28条; 74号令)."""
    return 1 if method == Method.SINGLE_SOURCE else 3


class Draws(StrEnum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    NONE = "none"


@dataclass(frozen=True)
class EvaluationMethod:
    key: str
    label: str
    categories: frozenset[Category]
    methods: frozenset[Method]
    draws: Draws


_TENDER = frozenset({Method.OPEN, Method.INVITED})
_ENG = frozenset({Category.ENGINEERING})
_GP = frozenset({Category.GOVERNMENT_PROCUREMENT})
_ASSETS = frozenset({Category.LAND_MINERAL, Category.STATE_ASSETS})

EVALUATION_METHODS: dict[str, EvaluationMethod] = {
    m.key: m
    for m in [
        # 工程 (七部委12号令; 公路 合理低价法 draws its coefficients at opening).
        EvaluationMethod(
            "lowest_evaluated_price", "经评审的最低投标价法", _ENG, _TENDER, Draws.OPTIONAL
        ),
        EvaluationMethod("comprehensive", "综合评估法", _ENG, _TENDER, Draws.OPTIONAL),
        EvaluationMethod("reasonable_low_price", "合理低价法", _ENG, _TENDER, Draws.REQUIRED),
        # 政府采购 (87号令 / 74号令 / 财库〔2014〕214号): formulas fixed by the rules, no draws.
        EvaluationMethod("gp_lowest_price", "最低评标价法", _GP, _TENDER, Draws.NONE),
        EvaluationMethod(
            "gp_comprehensive_scoring",
            "综合评分法",
            _GP,
            _TENDER | {Method.COMPETITIVE_CONSULTATION},
            Draws.NONE,
        ),
        EvaluationMethod(
            "gp_lowest_price_deal",
            "最低价成交",
            _GP,
            frozenset({Method.COMPETITIVE_NEGOTIATION, Method.INQUIRY}),
            Draws.NONE,
        ),
        EvaluationMethod(
            "gp_negotiated", "协商确定成交价格", _GP, frozenset({Method.SINGLE_SOURCE}), Draws.NONE
        ),
        # 土地 / 产权 招标.
        EvaluationMethod("asset_comprehensive", "综合评标法", _ASSETS, _TENDER, Draws.NONE),
        EvaluationMethod("asset_highest_price", "最高报价法", _ASSETS, _TENDER, Draws.NONE),
    ]
}


def evaluation_methods_for(category: Category, method: Method) -> list[EvaluationMethod]:
    return [
        m for m in EVALUATION_METHODS.values() if category in m.categories and method in m.methods
    ]


def evaluation_label(key: str) -> str:
    m = EVALUATION_METHODS.get(key)
    return gettext(m.label) if m else key


# 招标项目类型 (工程, data spec 代码集 as used for 501 TENDER_PROJECT_TYPE).
ENGINEERING_TYPES: dict[str, str] = {
    "A01": "房屋建筑",
    "A02": "市政",
    "A03": "公路",
    "A04": "铁路",
    "A05": "民航",
    "A06": "水运",
    "A07": "水利",
    "A08": "能源",
    "A09": "邮电通信",
    "A10": "桥梁",
    "A11": "城市轨道交通",
    "A12": "矿产冶金",
    "A13": "信息网络",
    "A14": "工业制造",
    "A97": "海洋渔港",
    "A98": "园林绿化",
    "A99": "其他",
}


class RoomKind(StrEnum):
    OPENING = "opening"
    EVALUATION = "evaluation"

    @property
    def label(self) -> str:
        return gettext("开标室" if self == RoomKind.OPENING else "评标室")


BOOKING_PURPOSE_LABELS = {RoomKind.OPENING: "开标", RoomKind.EVALUATION: "评标"}
