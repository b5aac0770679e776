"""SMS gateways for the outbox (haoping.rectification.messaging): Alibaba Cloud SMS and Tencent Cloud
SMS through their official SDKs. Choose one with `HAOPING_MESSAGE_BACKEND`; the default stays the
database outbox.

Providers send registered templates only: each of our template codes (`Message.template`) maps to
the provider's template id in `HAOPING_SMS_TEMPLATES` ("invitation=SMS_1,reminder=SMS_2,…"); the
values travel as the template's parameters, the link among them. Each message goes out with the
signature and templates of the region it was written for (`Message.region`): the region policy's
signature and the channel policy's `sms_templates`, inherited down the region tree, else the
deployment's. A message to a console user or
unit is no SMS: it stays in the inbox, as with the outbox's own gateway.

Settings (environment): Alibaba `HAOPING_ALIYUN_ACCESS_KEY_ID`, `HAOPING_ALIYUN_ACCESS_KEY_SECRET`,
`HAOPING_ALIYUN_SMS_ENDPOINT` (dysmsapi.aliyuncs.com); Tencent `HAOPING_TENCENT_SECRET_ID`,
`HAOPING_TENCENT_SECRET_KEY`, `HAOPING_TENCENT_SMS_APP_ID`, `HAOPING_TENCENT_SMS_ENDPOINT`
(sms.tencentcloudapi.com), `HAOPING_TENCENT_SMS_REGION` (ap-guangzhou); `HAOPING_SMS_SCHEME`
(https) for both.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from haoping.channels.models import sms_template_ids
from haoping.channels.selectors import sms_templates_for
from haoping.rectification.models import Message
from haoping.rectification.sms import sms_signature

logger = logging.getLogger("haoping.messages")


class SmsNotSent(RuntimeError):
    """The provider refused the message (its code only: the answer may quote the number)."""


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise ImproperlyConfigured(_("%(name)s is not set") % {"name": name})
    return value


def template_ids() -> dict[str, str]:
    """The deployment's template ids (`HAOPING_SMS_TEMPLATES`)."""
    return sms_template_ids(os.environ.get("HAOPING_SMS_TEMPLATES", ""))


def _parameters(message: Message) -> dict[str, str]:
    """The template's values, the link among them, in a stable order (Tencent's are positional)."""
    values = {name: str(value) for name, value in sorted((message.params or {}).items())}
    if message.link:
        values["link"] = message.link
    return values


def _recipient(message: Message) -> tuple[str, str, str] | None:
    """(phone, provider template id, signature name), or None for a console message."""
    evaluator = message.to_evaluator
    phone = evaluator.phone if evaluator is not None else message.to_phone
    if not phone:
        return None
    # The region the text was written for: its signature (the one in the text) and its templates.
    region = message.region if message.region_id else None
    if region is None and message.case is not None:
        region = message.case.region
    ids = sms_templates_for(region, template_ids())
    if message.template not in ids:
        raise ImproperlyConfigured(
            _("HAOPING_SMS_TEMPLATES names no provider template for %(template)s")
            % {"template": message.template or _("free text")}
        )
    return phone, ids[message.template], sms_signature(region)


class AliyunSmsBackend:
    """Alibaba Cloud SMS (dysmsapi 2017-05-25, `alibabacloud_dysmsapi20170525`)."""

    delivers_by_storing = False

    def __init__(self) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.models import Config

        config = Config(
            access_key_id=_env("HAOPING_ALIYUN_ACCESS_KEY_ID"),
            access_key_secret=_env("HAOPING_ALIYUN_ACCESS_KEY_SECRET"),
            endpoint=_env("HAOPING_ALIYUN_SMS_ENDPOINT", "dysmsapi.aliyuncs.com"),
            protocol=_env("HAOPING_SMS_SCHEME", "https"),
            read_timeout=10_000,
            connect_timeout=5_000,
        )
        self.client = Client(config)

    def send(self, message: Message) -> None:
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest

        found = _recipient(message)
        if found is None:
            return
        phone, template, signature = found
        request = SendSmsRequest(
            phone_numbers=phone,
            sign_name=signature,
            template_code=template,
            template_param=json.dumps(_parameters(message), ensure_ascii=False),
            out_id=str(message.pk),
        )
        answer: Any = self.client.send_sms(request).body
        if answer.code != "OK":
            raise SmsNotSent(str(answer.code))
        logger.info("message %s sent through Alibaba Cloud (%s)", message.pk, answer.biz_id)


class TencentSmsBackend:
    """Tencent Cloud SMS (2021-01-11, `tencentcloud-sdk-python-sms`)."""

    delivers_by_storing = False

    def __init__(self) -> None:
        from tencentcloud.common.credential import Credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111.sms_client import SmsClient

        http = HttpProfile(
            protocol=_env("HAOPING_SMS_SCHEME", "https"),
            endpoint=_env("HAOPING_TENCENT_SMS_ENDPOINT", "sms.tencentcloudapi.com"),
            reqTimeout=10,
        )
        credential = Credential(_env("HAOPING_TENCENT_SECRET_ID"), _env("HAOPING_TENCENT_SECRET_KEY"))
        self.app_id = _env("HAOPING_TENCENT_SMS_APP_ID")
        self.client = SmsClient(
            credential, _env("HAOPING_TENCENT_SMS_REGION", "ap-guangzhou"), ClientProfile(httpProfile=http)
        )

    def send(self, message: Message) -> None:
        from tencentcloud.sms.v20210111.models import SendSmsRequest

        found = _recipient(message)
        if found is None:
            return
        phone, template, signature = found
        request = SendSmsRequest()
        request.PhoneNumberSet = ["+86" + phone]
        request.SmsSdkAppId = self.app_id
        request.SignName = signature
        request.TemplateId = template
        request.TemplateParamSet = list(_parameters(message).values())
        request.SessionContext = str(message.pk)
        answer = self.client.SendSms(request)
        status = answer.SendStatusSet[0] if answer.SendStatusSet else None
        if status is None or status.Code != "Ok":
            raise SmsNotSent(status.Code if status else "no status")
        logger.info("message %s sent through Tencent Cloud (%s)", message.pk, status.SerialNo)
