"""Masking of personal data (dashboards.masking): phones and names as they may appear on screen."""

from __future__ import annotations

from dashboards.masking import looks_like_name, mask_cell, mask_name, mask_phone, mask_text


def test_mobile_numbers_keep_first_three_and_last_four_digits():
    """A mainland mobile shows as 138****5678, with or without +86, spaces or dashes; a relay number's
    extension stays; an already masked number is left as it is."""
    assert mask_phone("13812345678") == "138****5678"
    assert mask_text("call +86 138 1234 5678 now") == "call +86 138****5678 now"
    assert mask_text("138-1234-5678") == "138****5678"
    assert mask_phone("17188671709_2465") == "171****1709_2465"
    assert mask_phone("138****5678") == "138****5678"


def test_landlines_and_unknown_formats_show_only_the_last_four_digits():
    """A landline keeps its area code and last four digits; a number in a format the masker does not know
    keeps only its last four."""
    assert mask_text("门店电话 021-62345678") == "门店电话 021-****5678"
    assert mask_phone("4001234567") == "****4567"


def test_order_numbers_and_amounts_are_not_taken_for_phones():
    """Digits inside order keys, SKU codes, long platform ids, times and amounts are not masked."""
    for text in (
        "meituan:270126112600000106",
        "app:APP2026112600170",
        "SKU0243 x1",
        "eleme:502611260000000288",
        "paid 327.00, expected 13812.00",
        "2026-11-26 13:30",
        "order 913812345678",
    ):
        assert mask_text(text) == text


def test_names_keep_the_first_character():
    """张三 -> 张*, three characters -> 王**, titles in brackets dropped; a one-character name still gets a
    star, so the shown text never equals the name."""
    assert mask_name("张三") == "张*"
    assert mask_name("王秀英") == "王**"
    assert mask_name("梁(女士)") == "梁*"
    assert mask_name("张") == "张*"
    assert mask_name(None) is None


def test_cells_are_masked_only_when_text():
    """Table cells: strings have phones masked, numbers and None pass through."""
    assert mask_cell("tel 13912345678") == "tel 139****5678"
    assert mask_cell(13912345678) == 13912345678
    assert mask_cell(None) is None


def test_names_are_told_apart_from_codes():
    """A statement's account column holds merchant codes, shop ids, account numbers or, on a group-buy
    sheet, possibly the leader's name: only the name is treated as a person's."""
    assert looks_like_name("王秀英") and looks_like_name("梁(女士)") and looks_like_name("阿依古丽·买买提")
    for code in ("LD33", "SH001", "20880211096256330156", "MT-SHOP-1", "鲜到家张江前置仓店", None, ""):
        assert not looks_like_name(code), code
