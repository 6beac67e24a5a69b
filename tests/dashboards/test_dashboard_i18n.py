"""The Chinese/English text table."""

from __future__ import annotations

import string

from dashboards.i18n import CODE_LABELS, LANGS, TEXT, label, t


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_text_has_both_languages_with_the_same_placeholders():
    """No text is missing a language, and both languages take the same {placeholders} (else switching
    language would raise KeyError on that text, or drop a number)."""
    for key, texts in TEXT.items():
        assert set(texts) == set(LANGS), key
        assert all(texts[lang].strip() for lang in LANGS), key
        assert _placeholders(texts["zh"]) == _placeholders(texts["en"]), key
    for kind, codes in CODE_LABELS.items():
        for code, texts in codes.items():
            assert set(texts) == set(LANGS), (kind, code)


def test_channel_labels():
    """The six channels carry the operators' names in Chinese, and English names in English."""
    zh = {code: label("channel", code, "zh") for code in CODE_LABELS["channel"]}
    assert zh == {
        "app": "自营App",
        "miniprogram": "微信小程序",
        "meituan": "美团",
        "eleme": "饿了么",
        "pos": "门店POS",
        "groupbuy": "社区团购",
    }
    assert label("channel", "meituan", "en") == "Meituan"


def test_unknown_codes_fall_back_to_the_code():
    """A code the table does not know (a new channel, say) is shown as is instead of breaking the page."""
    assert label("channel", "douyin", "zh") == "douyin"
    assert label("severity", None, "en") == "—"


def test_t_fills_placeholders():
    """t() picks the language and fills the placeholders."""
    assert t("age.seconds", "zh", n=3) == "3 秒前"
    assert t("tile.orders", "en") == "Orders"


def test_no_text_key_is_defined_twice():
    """A key written twice in the TEXT table silently keeps only the last text (one page would show the
    other page's words): every key appears once in the source."""
    import ast
    import collections
    from pathlib import Path

    import dashboards.i18n as i18n

    tree = ast.parse(Path(i18n.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            assert [k for k, n in collections.Counter(keys).items() if n > 1] == []
