"""The public Atom feed of notices (RFC 4287), paged backwards with RFC 5005 links."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlsplit

from sunlit.kernel import clock
from sunlit.notices.models import Notice
from sunlit.notices.queries import FeedSlice
from sunlit.notices.states import kind_label
from sunlit.projects.catalog import Category, Method

NS = "http://www.w3.org/2005/Atom"


def _stamp(value: dt.datetime | None) -> str:
    return clock.ensure_aware(value or clock.now()).isoformat(timespec="seconds")


def _tag(base: str, what: str) -> str:
    """A tag URI (RFC 4151): stable ids that do not depend on the URL layout."""
    host = urlsplit(base).hostname or "sunlit.invalid"
    return f"tag:{host},2026:{what}"


def _summary(n: Notice) -> str:
    parts = [
        kind_label(n.kind),
        f"招标项目编号 {n.tender_project_code}",
        Category(n.category).label if n.category in Category._value2member_map_ else n.category,
        Method(n.method).label if n.method in Method._value2member_map_ else n.method,
    ]
    if n.tenderer_name:
        parts.append(f"招标人 {n.tenderer_name}")
    if n.deadline and n.kind != "termination":
        parts.append(f"投标截止 {clock.ensure_aware(n.deadline).strftime('%Y-%m-%d %H:%M')}")
    return "；".join(parts)


def render_feed(page: FeedSlice, base: str, self_url: str) -> bytes:
    ET.register_namespace("", NS)
    feed = ET.Element(f"{{{NS}}}feed")
    ET.SubElement(feed, f"{{{NS}}}id").text = _tag(base, "notices")
    ET.SubElement(feed, f"{{{NS}}}title").text = "阳光交易 · 交易公告"
    updated = max((n.modified_at for n in page.items), default=None)
    ET.SubElement(feed, f"{{{NS}}}updated").text = _stamp(updated)
    ET.SubElement(feed, f"{{{NS}}}link", rel="self", href=self_url)
    ET.SubElement(feed, f"{{{NS}}}link", rel="alternate", href=f"{base}/notices")
    if page.next_cursor:
        ET.SubElement(
            feed,
            f"{{{NS}}}link",
            rel="next",
            href=f"{base}/feeds/notices.atom?before={quote(page.next_cursor)}",
        )
    author = ET.SubElement(feed, f"{{{NS}}}author")
    ET.SubElement(author, f"{{{NS}}}name").text = "阳光交易公共资源交易平台"
    for n in page.items:
        entry = ET.SubElement(feed, f"{{{NS}}}entry")
        ET.SubElement(entry, f"{{{NS}}}id").text = _tag(base, f"notice/{n.id}")
        ET.SubElement(entry, f"{{{NS}}}title").text = n.title
        ET.SubElement(entry, f"{{{NS}}}updated").text = _stamp(n.modified_at)
        ET.SubElement(entry, f"{{{NS}}}published").text = _stamp(n.published_at)
        ET.SubElement(entry, f"{{{NS}}}link", rel="alternate", href=f"{base}/notices/{n.id}")
        ET.SubElement(entry, f"{{{NS}}}category", term=n.kind, label=kind_label(n.kind))
        ET.SubElement(entry, f"{{{NS}}}category", term=n.category)
        if n.tenderer_name:
            who = ET.SubElement(entry, f"{{{NS}}}author")
            ET.SubElement(who, f"{{{NS}}}name").text = n.tenderer_name
        ET.SubElement(entry, f"{{{NS}}}summary").text = _summary(n)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body
