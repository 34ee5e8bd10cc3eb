"""Statutory minimum periods (法定最短期限), computed with the working-day calendar.

Two rules, each as a table keyed by the tender project's category and method:

* issuing period: from the day the documents are first issued (the notice is published) to the
  bid deadline;
* clarification lead: a clarification or amendment (澄清或修改) must be issued at least this long
  before the bid deadline, or the deadline is extended.

Day counting follows 民法典第二百零一条: the day of issue is not counted, so a period of N
days starting on day D is satisfied by a deadline on day D + N or later. Working-day periods count
only statutory working days (调休 included) from ``kernel.clock.WorkingCalendar``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sunlit.kernel.clock import WorkingCalendar
from sunlit.projects.catalog import Category, Method


@dataclass(frozen=True)
class Period:
    amount: int
    working_days: bool
    basis: str  # the rule, cited in refusals

    @property
    def text(self) -> str:
        return f"{self.amount}个工作日" if self.working_days else f"{self.amount}日"

    def earliest(self, start: dt.date, calendar: WorkingCalendar) -> dt.date:
        """The earliest date that satisfies the period counted from ``start``."""
        if self.working_days:
            return calendar.add_working_days(start, self.amount)
        return start + dt.timedelta(days=self.amount)


def issuing_period(category: Category, method: Method, must_tender: bool) -> Period | None:
    """Minimum time from issuing the documents to the bid deadline, or None if no rule."""
    if category == Category.GOVERNMENT_PROCUREMENT:
        if method.is_tender:
            return Period(20, False, "《政府采购法》第三十五条")
        if method == Method.COMPETITIVE_CONSULTATION:
            return Period(10, False, "《政府采购竞争性磋商采购方式管理暂行办法》第十条")
        if method == Method.COMPETITIVE_NEGOTIATION:
            return Period(3, True, "《政府采购非招标采购方式管理办法》第二十九条")
        if method == Method.INQUIRY:
            return Period(3, True, "《政府采购非招标采购方式管理办法》第四十五条")
        return Period(5, True, "《政府采购非招标采购方式管理办法》第三十八条（单一来源公示）")
    if category == Category.ENGINEERING:
        if must_tender:
            return Period(20, False, "《招标投标法》第二十四条")
        return None
    if category == Category.LAND_MINERAL:
        return Period(20, False, "《招标拍卖挂牌出让国有建设用地使用权规定》第十条")
    return Period(20, True, "《企业国有资产交易监督管理办法》第十三条")


def clarification_lead(category: Category, method: Method) -> Period:
    """How long before the deadline a clarification or amendment must be issued."""
    if category == Category.GOVERNMENT_PROCUREMENT:
        if method == Method.COMPETITIVE_CONSULTATION:
            return Period(5, False, "《政府采购竞争性磋商采购方式管理暂行办法》第十条")
        if method in (Method.COMPETITIVE_NEGOTIATION, Method.INQUIRY, Method.SINGLE_SOURCE):
            return Period(3, True, "《政府采购非招标采购方式管理办法》第二十九条")
        return Period(15, False, "《政府采购货物和服务招标投标管理办法》第二十七条")
    return Period(15, False, "《招标投标法》第二十三条")
