"""The providers' official SDKs, each pointed at a local stand-in of its API on 127.0.0.1: the real
client code signs and sends the request; the stand-in checks what arrived and answers as the
provider does."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from haoping.channels.models import Invitation
from haoping.channels.services import invitations_send
from haoping.channels.tests.test_invitations import day_at, served
from haoping.rectification.models import Message

Answer = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


class Stub:
    """An HTTP server on 127.0.0.1 that records each request and answers with `answer`."""

    def __init__(self, answer: Answer) -> None:
        self.requests: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                stub.requests.append(seen)
                status, payload = answer(seen)
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub() -> Iterator[Callable[[Answer], Stub]]:
    started: list[Stub] = []

    def start(answer: Answer) -> Stub:
        started.append(Stub(answer))
        return started[-1]

    yield start
    for s in started:
        s.close()


TEMPLATES = "invitation=SMS_900001,reminder=SMS_900002,sms_reply=SMS_900003,answer_ready=SMS_900004"


def invite(register: Any) -> Message:
    at = served()
    register(at)
    invitations_send(now=day_at(at, 1, 10))
    return Message.objects.get(kind=Message.Kind.INVITATION)


def use_aliyun(settings: Any, monkeypatch: Any, endpoint: str) -> None:
    """The Alibaba Cloud gateway, configured as the environment does, pointed at the stand-in."""
    monkeypatch.setenv("HAOPING_ALIYUN_ACCESS_KEY_ID", "LTAI-test")
    monkeypatch.setenv("HAOPING_ALIYUN_ACCESS_KEY_SECRET", "secret")
    monkeypatch.setenv("HAOPING_ALIYUN_SMS_ENDPOINT", endpoint)
    monkeypatch.setenv("HAOPING_SMS_SCHEME", "http")
    monkeypatch.setenv("HAOPING_SMS_TEMPLATES", TEMPLATES)
    settings.HAOPING_MESSAGE_BACKEND = "haoping.channels.gateways.AliyunSmsBackend"


def use_tencent(settings: Any, monkeypatch: Any, endpoint: str) -> None:
    """The Tencent Cloud gateway, configured as the environment does, pointed at the stand-in."""
    monkeypatch.setenv("HAOPING_TENCENT_SECRET_ID", "AKID-test")
    monkeypatch.setenv("HAOPING_TENCENT_SECRET_KEY", "tc-secret")
    monkeypatch.setenv("HAOPING_TENCENT_SMS_APP_ID", "1400000001")
    monkeypatch.setenv("HAOPING_TENCENT_SMS_ENDPOINT", endpoint)
    monkeypatch.setenv("HAOPING_SMS_SCHEME", "http")
    monkeypatch.setenv("HAOPING_SMS_TEMPLATES", TEMPLATES)
    settings.HAOPING_MESSAGE_BACKEND = "haoping.channels.gateways.TencentSmsBackend"


def aliyun_ok(seen: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5"}


def test_aliyun_sdk_sends_the_invitation(
    settings: Any, monkeypatch: Any, register: Any, stub: Any, django_capture_on_commit_callbacks: Any
) -> None:
    server = stub(aliyun_ok)
    use_aliyun(settings, monkeypatch, server.endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        message = invite(register)
    [request] = server.requests
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request["path"]).query))
    query.update(dict(urllib.parse.parse_qsl(request["body"].decode())))
    assert query["PhoneNumbers"] == "13812345678"
    assert query["TemplateCode"] == "SMS_900001"
    assert query["SignName"] == "政务服务好差评"
    params = json.loads(query["TemplateParam"])
    code = Invitation.objects.get().code
    assert params == {"item": "企业开办", "link": f"http://127.0.0.1:8000/s/{code}/"}
    # Signed by the SDK with the access key (ACS3-HMAC-SHA256 in the header, or a signed query).
    assert "LTAI-test" in request["headers"].get("authorization", "") or query.get("AccessKeyId") == "LTAI-test"
    message.refresh_from_db()
    assert message.sent_at is not None and message.backend == "AliyunSmsBackend"


def test_aliyun_refusal_leaves_the_message_unsent(
    settings: Any, monkeypatch: Any, register: Any, stub: Any, django_capture_on_commit_callbacks: Any
) -> None:
    server = stub(lambda seen: (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控", "RequestId": "x"}))
    use_aliyun(settings, monkeypatch, server.endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        message = invite(register)
    assert len(server.requests) == 1
    message.refresh_from_db()
    assert message.sent_at is None  # stays in the outbox, the invitation stands
    assert Invitation.objects.count() == 1


def tc3_valid(seen: dict[str, Any], secret_id: str, secret_key: str) -> bool:
    """Tencent Cloud's TC3-HMAC-SHA256 signature, recomputed from what arrived."""
    headers = seen["headers"]
    auth = headers["authorization"]
    parts = dict(p.strip().split("=", 1) for p in auth.removeprefix("TC3-HMAC-SHA256 ").split(","))
    credential = parts["Credential"].split("/")
    if credential[0] != secret_id:
        return False
    date, service = credential[1], credential[2]
    signed = parts["SignedHeaders"].split(";")
    canonical_headers = "".join(f"{name}:{headers[name].strip().lower()}\n" for name in signed)
    canonical = "\n".join(
        ["POST", "/", "", canonical_headers, parts["SignedHeaders"], hashlib.sha256(seen["body"]).hexdigest()]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(
        ["TC3-HMAC-SHA256", headers["x-tc-timestamp"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )

    def sign(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = sign(sign(sign(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), parts["Signature"])


def tencent_ok(seen: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body = json.loads(seen["body"])
    status = {"SerialNo": "2028:1", "PhoneNumber": body["PhoneNumberSet"][0], "Fee": 1, "SessionContext": ""}
    return 200, {"Response": {"SendStatusSet": [{**status, "Code": "Ok", "Message": "send success"}], "RequestId": "r"}}


def test_tencent_sdk_sends_the_invitation(
    settings: Any, monkeypatch: Any, register: Any, stub: Any, django_capture_on_commit_callbacks: Any
) -> None:
    server = stub(tencent_ok)
    use_tencent(settings, monkeypatch, server.endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        message = invite(register)
    [request] = server.requests
    assert request["headers"]["x-tc-action"] == "SendSms" and request["headers"]["x-tc-version"] == "2021-01-11"
    assert tc3_valid(request, "AKID-test", "tc-secret")
    assert not tc3_valid(request, "AKID-test", "another-secret")
    body = json.loads(request["body"])
    code = Invitation.objects.get().code
    assert body["PhoneNumberSet"] == ["+8613812345678"] and body["SmsSdkAppId"] == "1400000001"
    assert body["TemplateId"] == "SMS_900001" and body["SignName"] == "政务服务好差评"
    assert body["TemplateParamSet"] == ["企业开办", f"http://127.0.0.1:8000/s/{code}/"]
    message.refresh_from_db()
    assert message.sent_at is not None and message.backend == "TencentSmsBackend"


def test_missing_configuration_is_named(monkeypatch: Any) -> None:
    from haoping.channels.gateways import TencentSmsBackend

    monkeypatch.delenv("HAOPING_TENCENT_SECRET_ID", raising=False)
    with (
        translation.override("zh-hans"),
        pytest.raises(ImproperlyConfigured, match="^未设置 HAOPING_TENCENT_SECRET_ID$"),
    ):
        TencentSmsBackend()


def test_a_template_without_provider_id_is_named_in_chinese(monkeypatch: Any) -> None:
    from haoping.channels.gateways import AliyunSmsBackend

    monkeypatch.setenv("HAOPING_ALIYUN_ACCESS_KEY_ID", "LTAI-test")
    monkeypatch.setenv("HAOPING_ALIYUN_ACCESS_KEY_SECRET", "secret")
    monkeypatch.setenv("HAOPING_SMS_TEMPLATES", "reminder=SMS_900002")
    message = Message(kind=Message.Kind.INVITATION, to_phone="13900001111", template="invitation")
    with translation.override("zh-hans"), pytest.raises(ImproperlyConfigured) as exc:
        AliyunSmsBackend().send(message)
    assert str(exc.value) == "HAOPING_SMS_TEMPLATES 及本地区渠道策略均未配置“invitation”对应的短信服务商模板"


def test_each_region_sends_with_its_own_signature_and_templates(
    world: dict[str, Any],
    settings: Any,
    monkeypatch: Any,
    register: Any,
    stub: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The city's signature and templates reach its districts' texts (the nearest region's template
    wins); a text for no region goes out with the deployment's."""
    from haoping.channels.models import ChannelPolicy
    from haoping.rectification.tests.support import set_policy

    server = stub(aliyun_ok)
    use_aliyun(settings, monkeypatch, server.endpoint)
    set_policy(world["city"], sms_signature="南京政务服务")
    ChannelPolicy.objects.create(region=world["city"], sms_templates="invitation=SMS_320100,reminder=SMS_320101")
    ChannelPolicy.objects.create(region=world["district"], sms_templates="reminder=SMS_320102")
    with django_capture_on_commit_callbacks(execute=True):
        message = invite(register)
    assert message.region == world["district"] and message.text.startswith("【南京政务服务】")
    [request] = server.requests
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request["path"]).query))
    query.update(dict(urllib.parse.parse_qsl(request["body"].decode())))
    assert (query["SignName"], query["TemplateCode"]) == ("南京政务服务", "SMS_320100")
    # The district's own reminder template, the city's signature.
    from haoping.channels.gateways import AliyunSmsBackend
    from haoping.rectification.models import Message

    reminder = Message(
        kind=Message.Kind.REMINDER, region=world["district"], to_phone="13900001111", template="reminder"
    )
    AliyunSmsBackend().send(reminder)
    query = dict(urllib.parse.parse_qsl(server.requests[-1]["body"].decode()))
    query.update(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(server.requests[-1]["path"]).query)))
    assert (query["SignName"], query["TemplateCode"]) == ("南京政务服务", "SMS_320102")
    # The other district has no policies of its own: the city's.
    other = Message(kind=Message.Kind.REMINDER, region=world["other"], to_phone="13900001111", template="reminder")
    AliyunSmsBackend().send(other)
    query = dict(urllib.parse.parse_qsl(server.requests[-1]["body"].decode()))
    query.update(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(server.requests[-1]["path"]).query)))
    assert (query["SignName"], query["TemplateCode"]) == ("南京政务服务", "SMS_320101")
    # A text for no region: the deployment's signature and templates.
    plain = Message(kind=Message.Kind.REMINDER, to_phone="13900001111", template="reminder")
    AliyunSmsBackend().send(plain)
    query = dict(urllib.parse.parse_qsl(server.requests[-1]["body"].decode()))
    query.update(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(server.requests[-1]["path"]).query)))
    assert (query["SignName"], query["TemplateCode"]) == ("政务服务好差评", "SMS_900002")


def test_tencent_carries_the_regions_signature(
    world: dict[str, Any],
    settings: Any,
    monkeypatch: Any,
    register: Any,
    stub: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from haoping.channels.models import ChannelPolicy
    from haoping.rectification.tests.support import set_policy

    server = stub(tencent_ok)
    use_tencent(settings, monkeypatch, server.endpoint)
    set_policy(world["district"], sms_signature="玄武政务")
    ChannelPolicy.objects.create(region=world["district"], sms_templates="invitation=1912345")
    with django_capture_on_commit_callbacks(execute=True):
        invite(register)
    body = json.loads(server.requests[0]["body"])
    assert (body["SignName"], body["TemplateId"]) == ("玄武政务", "1912345")
    assert tc3_valid(server.requests[0], "AKID-test", "tc-secret")


def test_a_policys_templates_are_checked() -> None:
    from django.core.exceptions import ValidationError

    from haoping.channels.models import validate_sms_templates

    validate_sms_templates("invitation=SMS_1, reminder=1912345")
    with pytest.raises(ValidationError, match="SMS_1"):
        validate_sms_templates("SMS_1")
