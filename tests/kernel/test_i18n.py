"""The English catalog: it parses, and every entry translates a message the code really uses."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from sunlit.kernel import i18n

SRC = Path(i18n.__file__).resolve().parents[1]


def test_every_english_entry_translates_a_message_in_the_code() -> None:
    with (i18n.LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    entries = [m for m in catalog if m.id]
    assert len(entries) > 40
    source = "".join(
        p.read_text(encoding="utf-8") for p in SRC.rglob("*") if p.suffix in (".py", ".html")
    )
    stale = [m.id for m in entries if str(m.id) not in source]
    assert stale == []
    assert all(m.string for m in entries)


def test_gettext_translates_formats_and_falls_back_to_chinese() -> None:
    assert i18n.gettext("请先登录") == "请先登录"
    with i18n.use_locale("en"):
        assert i18n.gettext("请先登录") == "Please log in first"
        assert (
            i18n.gettext("{kind}不存在或无权查看", kind="X")
            == "X does not exist or you may not see it"
        )
        assert i18n.gettext("尚未翻译的消息") == "尚未翻译的消息"
