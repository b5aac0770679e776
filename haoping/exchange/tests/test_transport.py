"""The envelope and the gateway's answers, without a network."""

from __future__ import annotations

import datetime as dt
import json
import os

from haoping.exchange import transport
from haoping.lib.gm import sm2_decrypt, sm2_private_key, sm2_public_key, sm2_sign, sm2_verify


def test_the_envelope_signs_time_appmark_appword_and_can_encrypt_the_rows() -> None:
    ours, theirs = sm2_private_key(os.urandom(32)), sm2_private_key(os.urandom(32))
    creds = transport.Credentials(
        url="http://127.0.0.1:8899/",
        app_mark="mark",
        app_word="word",
        private_key=ours,
        public_key=sm2_public_key(ours),
        platform_public_key=sm2_public_key(theirs),
    )
    rows = [{"projectNo": "R1", "serviceNumber": "1"}]
    moment = dt.datetime(2026, 12, 4, 1, 2, 3, tzinfo=dt.UTC)

    env = transport.envelope(rows, creds, moment)

    body = env["txnBodyCom"]
    assert env["txnCommCom"] == {} and body["appMark"] == "mark"
    assert body["time"] == "20261204090203"  # Beijing time
    assert sm2_verify(sm2_public_key(ours), b"20261204090203markword", body["sign"])
    assert not sm2_verify(sm2_public_key(ours), b"20261204090203markother", body["sign"])
    assert json.loads(sm2_decrypt(theirs, body["params"]["evaluate"][0])) == rows


def test_a_public_key_starting_with_04_signs_and_verifies() -> None:
    # gmssl strips "04" and every 0 and 4 after it from such a key unless it is set again.
    key = "0a9fe0d1fb47ebb07dfc936faf002cc824922a91862e4415c1c87993df193c71"
    public = sm2_public_key(key)
    assert public.startswith("04")
    assert sm2_verify(public, b"data", sm2_sign(key, public, b"data"))
    assert sm2_verify("04" + public, b"data", sm2_sign(key, public, b"data"))


def test_transport_success_with_rows_refused_keeps_both_levels() -> None:
    raw = json.dumps(
        {
            "C-Response-Desc": "success",
            "C-Response-Body": {
                "success": "true",
                "results": [
                    {"index": 0, "success": "true"},
                    {"index": 1, "success": "false", "message": "差评必须勾选详情或填写文字评价"},
                    {"index": 2, "success": "false", "message": "评价数据不可重复"},
                ],
            },
        }
    ).encode()

    answer = transport.read_answer(200, raw, 3)

    assert answer.message == "success"
    # A duplicate is a row the upstream has: accepted, not counted twice.
    assert answer.rejections == [None, "差评必须勾选详情或填写文字评价", None]


def test_a_whole_batch_refused_and_a_gateway_error() -> None:
    refused = json.dumps(
        {"C-Response-Desc": "success", "C-Response-Body": {"success": "false", "message": "没有对应的服务数据"}}
    )
    assert transport.read_answer(200, refused.encode(), 2).rejections == ["没有对应的服务数据"] * 2
    for status, raw in ((502, b"<html>bad gateway</html>"), (200, b'{"C-Response-Desc": "sign error"}')):
        try:
            transport.read_answer(status, raw, 1)
        except transport.TransportError:
            continue
        raise AssertionError("not a transport error")


def test_backoff_grows_and_is_jittered() -> None:
    waits = [transport.backoff(n, base=1.0, cap=8.0) for n in range(1, 7) for _ in range(50)]
    assert all(0 <= w <= 8.0 for w in waits)
    assert max(transport.backoff(6, base=1.0, cap=8.0) for _ in range(200)) > 4.0
    assert max(transport.backoff(1, base=1.0) for _ in range(200)) <= 1.0
