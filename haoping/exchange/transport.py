"""The envelope and the call to the upper platform: SM2 signature and optional SM2 encryption
(haoping.lib.gm, over gmssl), retries with exponential backoff and jitter. No Django here."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from haoping.lib.gm import sm2_encrypt, sm2_sign

BEIJING = ZoneInfo("Asia/Shanghai")
TIMEOUT = 20.0


@dataclass(frozen=True)
class Credentials:
    url: str
    app_mark: str
    app_word: str
    private_key: str
    public_key: str
    platform_public_key: str = ""  # set: the rows travel SM2-encrypted
    tenancy_id: str = ""
    api_key: str = ""  # set: sent as a bearer key (an upper 好差评 system's intake)


def sign_input(time_text: str, app_mark: str, app_word: str) -> bytes:
    """What `sign` signs: time + appMark + appWord (field notes §1a)."""
    return (time_text + app_mark + app_word).encode()


def envelope(rows: Sequence[dict[str, Any]], creds: Credentials, now: dt.datetime) -> dict[str, Any]:
    time_text = now.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")
    body = json.dumps(list(rows), ensure_ascii=False, separators=(",", ":"))
    evaluate: list[Any] = (
        [sm2_encrypt(creds.platform_public_key, body.encode())] if creds.platform_public_key else list(rows)
    )
    return {
        "txnBodyCom": {
            "appMark": creds.app_mark,
            "time": time_text,
            "sign": sm2_sign(
                creds.private_key, creds.public_key, sign_input(time_text, creds.app_mark, creds.app_word)
            ),
            "params": {"evaluate": evaluate},
        },
        "txnCommCom": {},
    }


class TransportError(Exception):
    """No usable answer: the call failed, or the answer was not the gateway's."""


@dataclass
class Answer:
    http_status: int
    message: str  # the transport level's words
    # Per row (by position): None accepted, else the upstream's reason.
    rejections: list[str | None] = field(default_factory=list)
    # Per row: the upstream's words when it answered that it has the row already (accepted).
    duplicates: list[str] = field(default_factory=list)


DUPLICATE_MARKS = ("不可重复", "请勿重复", "已存在")


def read_answer(status: int, raw: bytes, size: int) -> Answer:
    """The gateway's answer: {"C-Response-Desc": "success", "C-Response-Body": {...}} where the body
    says success for the call and may list rows refused ({"results": [{"index", "success", "message"}]})
    or refuse them all ({"success": "false", "message"}). An upstream that says a row exists
    already has it: accepted, not counted twice."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise TransportError(f"HTTP {status}: not JSON") from exc
    if not isinstance(data, dict):
        raise TransportError(f"HTTP {status}: not an object")
    desc = str(data.get("C-Response-Desc", data.get("message", "")))
    if status >= 400 or desc.lower() != "success":
        raise TransportError(f"HTTP {status}: {desc or 'no answer'}"[:500])
    body = data.get("C-Response-Body") or {}
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            body = {"message": body}
    rejections: list[str | None] = [None] * size
    duplicates = [""] * size
    results = body.get("results") if isinstance(body, dict) else None
    if isinstance(results, list):
        for entry in results:
            if not isinstance(entry, dict):
                continue
            index = entry.get("index")
            if isinstance(index, int) and 0 <= index < size and str(entry.get("success")).lower() != "true":
                rejections[index], duplicates[index] = _reason(entry.get("message"))
    elif isinstance(body, dict) and str(body.get("success", "true")).lower() == "false":
        reason, duplicate = _reason(body.get("message"))
        rejections, duplicates = [reason] * size, [duplicate] * size
    return Answer(http_status=status, message=desc, rejections=rejections, duplicates=duplicates)


def _reason(message: Any) -> tuple[str | None, str]:
    """(the reason a row was refused, None when the upstream has it already; its words then)."""
    text = str(message or "").strip()[:500] or "rejected"
    return (None, text) if any(m in text for m in DUPLICATE_MARKS) else (text, "")


def post(creds: Credentials, payload: dict[str, Any]) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if creds.tenancy_id:
        headers["C-Tenancy-Id"] = creds.tenancy_id
    if creds.api_key:
        headers["Authorization"] = f"Bearer {creds.api_key}"
    request = urllib.request.Request(
        creds.url, data=json.dumps(payload, ensure_ascii=False).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (the address is an administrator's setting)
            return int(response.status), response.read(1_000_000)
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read(100_000)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise TransportError(str(exc)[:500]) from exc


def backoff(attempt: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Seconds before retry `attempt` (1, 2, …): exponential with full jitter, so that many
    senders failing together do not come back together."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))  # noqa: S311 (jitter, not a secret)


def send(
    rows: Sequence[dict[str, Any]],
    creds: Credentials,
    *,
    now: Callable[[], dt.datetime],
    tries: int = 3,
    base_delay: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    on_try: Callable[[int], None] | None = None,
) -> Answer:
    """Send one batch, retrying a failed call up to `tries` times in all; each try is freshly
    signed (the time is part of the signature). Raises the last TransportError."""
    last: TransportError | None = None
    for attempt in range(1, tries + 1):
        if on_try is not None:
            on_try(attempt)
        try:
            status, raw = post(creds, envelope(rows, creds, now()))
            return read_answer(status, raw, len(rows))
        except TransportError as exc:
            last = exc
            if attempt < tries:
                sleep(backoff(attempt, base=base_delay))
    assert last is not None
    raise last
