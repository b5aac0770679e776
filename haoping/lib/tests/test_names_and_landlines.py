"""R10: personal names written into comments, and landline and service numbers, are removed before
the rated staff, hot problems or reports show them (20 real-looking comments each way)."""

from __future__ import annotations

import pytest

from haoping.lib.masking import mask_text, personal_data_in, redact_names, redact_text


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("我叫李四，窗口态度差", "我叫***，窗口态度差"),
        ("我叫小明，等了很久", "我叫***，等了很久"),
        ("我姓王，来办营业执照", "我姓***，来办营业执照"),
        ("王师傅态度很好", "***态度很好"),
        ("张女士说办事太慢", "***说办事太慢"),
        ("李老师很耐心", "***很耐心"),
        ("窗口的刘姐不理人", "窗口的***不理人"),
        ("工作人员小李态度差", "工作人员***态度差"),
        ("窗口工作人员刘德华不理人", "窗口工作人员***不理人"),
        ("王建国科长推诿", "***科长推诿"),
        ("材料反复让补正，张三丰说没办法", "材料反复让补正，***说没办法"),
        ("欧阳娜娜经理说明天再来", "***经理说明天再来"),
        ("陈某某一直在玩手机", "***一直在玩手机"),
    ],
)
def test_names_in_comments_are_removed(written: str, shown: str) -> None:
    assert redact_text(written) == shown
    assert redact_names(written) == shown


@pytest.mark.parametrize(
    "written",
    [
        # Places jieba tags as names: a place's last character, or what follows it, tells them apart.
        "我去王府井办事",
        "石家庄户口不能办",
        "高新区政务中心排队太久",
        "向阳街道办事处没人",
        "黄河路窗口关门早",
        "常州市的材料这里不认",
        # Everyday words with a surname's character, and titles without a surname.
        "何时能办好",
        "出租车师傅都知道这里难办",
        "保安大哥很热心",
        "一位女士插队",
        "窗口的老师说系统坏了",
        "我叫了好几次号都没人应",
        "我是来办营业执照的",
        "白跑一趟，方便快捷是假的",
        "周末不开门，马上就办做不到",
        "系统老是卡，金额不对",
        "等了两个小时",
    ],
)
def test_words_that_are_not_names_stay(written: str) -> None:
    assert redact_text(written) == written


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("025-84561234", "025****1234"),
        ("02584561234", "025****1234"),
        ("(025)84561234", "025****1234"),
        ("（025）8456 1234", "025****1234"),
        ("0571-87654321", "057*****4321"),
        ("010 1234 5678", "010****5678"),
        ("０２５－８４５６１２３４", "025****1234"),
        ("400-820-8820", "400***8820"),
        ("4008208820", "400***8820"),
        ("800 810 8888", "800***8888"),
    ],
)
def test_landlines_and_service_numbers_are_found_like_mobiles(written: str, masked: str) -> None:
    text = f"请回电{written}，谢谢"
    assert mask_text(text) == f"请回电{masked}，谢谢"
    assert redact_text(text) == "请回电***，谢谢"
    # What masking left is removed for the staff as thoroughly as the number itself.
    assert redact_text(mask_text(text)) == "请回电***，谢谢"
    assert personal_data_in(text)


def test_figures_that_are_not_phone_numbers_stay() -> None:
    untouched = "2026-09-29 10:00 办结，收费 400 元，第 3 次，排了 025 号，费用 1234567 元"
    assert mask_text(untouched) == untouched
    assert redact_text(untouched) == untouched
