from __future__ import annotations

import pytest

from haoping.lib.gm import DecryptionError, hmac_sm3, sm3, sm4_decrypt, sm4_encrypt
from haoping.lib.masking import mask_id_number, mask_name, mask_phone, mask_text, redact_text


def test_sm3_standard_vector() -> None:
    # GB/T 32905-2016, example 1: SM3("abc").
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm4_round_trip_and_tamper_detection() -> None:
    key = bytes(range(16))
    token = sm4_encrypt(key, "13812345678")
    assert "13812345678" not in token and sm4_decrypt(key, token) == "13812345678"
    assert sm4_encrypt(key, "same") != sm4_encrypt(key, "same")  # a fresh nonce each time
    with pytest.raises(DecryptionError):
        sm4_decrypt(bytes(16), token)
    assert hmac_sm3(key, b"a") != hmac_sm3(bytes(16), b"a")


def test_masks() -> None:
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("32010219900101123X") == "3201**********123X"
    text = "请打13812345678联系我，身份证32010219900101123X，订单号2026112100001234567"
    assert mask_text(text) == "请打138****5678联系我，身份证3201**********123X，订单号2026112100001234567"


@pytest.mark.parametrize(
    "written",
    [
        "13812345678",
        "138-1234-5678",
        "138 1234 5678",
        "138－1234－5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "86-138-1234-5678",
        "(+86) 138 1234 5678",
        "１３８１２３４５６７８",
        "１３８ １２３４ ５６７８",
        "138.1234.5678",
        "138/1234/5678",
        "138_1234_5678",
        "138 - 1234 - 5678",
        "138  1234  5678",
        "138\u20091234\u20095678",  # thin spaces
        "138\u200b1234\u200b5678",  # zero-width spaces, invisible on a screen
        "138·1234·5678",
        "0086 138 1234 5678",
        "0086-13812345678",
        "008613812345678",
        "(0086)138-1234-5678",
        "+86.138.1234.5678",
        "＋８６－１３８．１２３４．５６７８",
    ],
)
def test_phones_are_found_in_every_separator_style(written: str) -> None:
    text = f"已电话联系评价人{written}，满意"
    assert mask_text(text) == "已电话联系评价人138****5678，满意"
    assert redact_text(text) == "已电话联系评价人***，满意"


@pytest.mark.parametrize(
    "written",
    [
        "32010219900101123X",
        "320102 19900101 123X",
        "3201 0219 9001 0112 3X",
        "320102-19900101-123x",
        "３２０１０２１９９００１０１１２３Ｘ",
        "320102.19900101.123X",
        "320102/19900101/123X",
        "320102 - 19900101 - 123X",
    ],
)
def test_id_numbers_are_found_in_every_separator_style(written: str) -> None:
    text = f"身份证{written}。"
    assert mask_text(text).replace("x", "X") == "身份证3201**********123X。"
    assert redact_text(text) == "身份证***。"


@pytest.mark.parametrize("written", ["320102900101123", "320102-900101-123", "３２０１０２ ９００１０１ １２３"])
def test_first_generation_id_numbers_of_15_digits_are_found(written: str) -> None:
    text = f"老身份证{written}。"
    assert mask_text(text) == "老身份证3201*******1123。"
    assert redact_text(text) == "老身份证***。"
    assert redact_text(mask_text(text)) == "老身份证***。"


def test_fifteen_digits_without_a_birth_date_are_not_an_id_number() -> None:
    # Month 13, day 32: an order number, not an ID number.
    untouched = "单号320102901301123，流水号320102900132123"
    assert mask_text(untouched) == untouched and redact_text(untouched) == untouched


def test_numbers_side_by_side_and_ordinary_figures() -> None:
    assert redact_text("13812345678 13912345678") == "*** ***"
    untouched = "2026-11-21 办结，收费 12345 元，订单号2026112100001234567，第 3 次"
    assert mask_text(untouched) == untouched and redact_text(untouched) == untouched


def test_redaction_removes_the_names_given() -> None:
    # The names given go whatever they are; 王芳 goes as a personal name (haoping.lib.masking.redact_names).
    assert redact_text("阿宝说王芳态度差，阿宝很生气", names=["阿宝", "", "李"]) == "***说***态度差，***很生气"


def test_redaction_also_removes_what_masking_left() -> None:
    masked = mask_text("电话138-1234-5678，身份证320102199001011234")
    assert masked == "电话138****5678，身份证3201**********1234"
    assert redact_text(masked) == "电话***，身份证***"
