"""R11: the hall as a whole, at most once a day per evaluator; never among the service ratings."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from haoping.evaluations.models import Evaluation
from haoping.pads.models import HallCode, HallRating
from haoping.pads.selectors import hall_summary
from haoping.pads.tests.support import bound_pad, manager
from haoping.rectification.models import Message
from haoping.rectification.tests.support import at


def _code_sent(client: Client, phone: str = "138 1234 5678") -> str:
    page = client.get("/h/H-XW/")
    token = re.search(r'name="form_token" value="([^"]+)"', page.content.decode()).group(1)  # type: ignore[union-attr]
    sent = client.post("/h/H-XW/", {"form_token": token, "action": "send_code", "phone": phone})
    assert sent.status_code == 200 and 'id="code-sent"' in sent.content.decode(), sent.content.decode()[-800:]
    message = Message.objects.order_by("-pk").first()
    assert message is not None and message.template == "hall_code"
    return str(message.params["code"])


def _rate(client: Client, **fields: Any) -> Any:
    page = client.get("/h/H-XW/")
    token = re.search(r'name="form_token" value="([^"]+)"', page.content.decode()).group(1)  # type: ignore[union-attr]
    return client.post("/h/H-XW/", {"form_token": token, "action": "rate", **fields})


def test_a_phone_rates_the_hall_once_a_day(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    clock = {"now": at(2026, 6, 16, 10)}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    client = Client()
    code = _code_sent(client)
    done = _rate(client, phone="13812345678", code=code, level="4")
    assert done.status_code == 200 and 'id="receipt"' in done.content.decode()
    rating = HallRating.objects.get()
    assert (rating.level, rating.channel, rating.institution, rating.day) == (
        4,
        "qrcode",
        world["hall"],
        dt.date(2026, 6, 16),
    )
    # The number itself is nowhere in the row: only its keyed digest, in the evaluator's key.
    assert "13812345678" not in str(HallRating.objects.values().get()) and rating.evaluator_key.startswith("phone:")
    # The same number again that day, with a fresh code: refused.
    clock["now"] += dt.timedelta(minutes=2)
    again = _rate(
        client, phone="+86 138-1234-5678", code=_code_sent(client, "+86 138-1234-5678"), level="1", reasons=["attitude"]
    )
    assert again.status_code == 409 and "今天" in again.content.decode()
    assert HallRating.objects.count() == 1
    # The next day (China time), again.
    clock["now"] = at(2026, 6, 17, 0, 5)
    assert _rate(client, phone="13812345678", code=_code_sent(client), level="5").status_code == 200
    assert HallRating.objects.count() == 2
    # Never among the service ratings.
    assert not Evaluation.objects.exists()


def test_a_wrong_or_missing_code_rates_nothing(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client()
    no_phone = _rate(client, level="5")
    assert no_phone.status_code == 422 and 'id="hall-error"' in no_phone.content.decode()
    code = _code_sent(client)
    wrong = "000000" if code != "000000" else "111111"
    for _n in range(5):
        assert _rate(client, phone="13812345678", code=wrong, level="5").status_code == 422
    # Five wrong tries end the code, even the right one.
    assert _rate(client, phone="13812345678", code=code, level="5").status_code == 422
    assert HallCode.objects.get().attempts == 5
    assert not HallRating.objects.exists()


def test_codes_go_out_at_most_once_a_minute_per_number(world: dict[str, Any]) -> None:
    client = Client()
    _code_sent(client)
    page = client.get("/h/H-XW/")
    token = re.search(r'name="form_token" value="([^"]+)"', page.content.decode()).group(1)  # type: ignore[union-attr]
    again = client.post("/h/H-XW/", {"form_token": token, "action": "send_code", "phone": "13812345678"})
    assert again.status_code == 429 and HallCode.objects.count() == 1
    bad = client.post("/h/H-XW/", {"form_token": token, "action": "send_code", "phone": "12345"})
    assert bad.status_code == 422 and "手机号" in bad.content.decode()


def test_a_pad_rates_the_hall_anonymously_once_a_minute(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    clock = {"now": at(2026, 6, 16, 10, 0)}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    tablet = bound_pad(manager("xw", world["district"]), "W-XW-01")
    assert 'id="rate-hall"' in tablet.get("/pad/").content.decode()
    form = tablet.get("/pad/hall/")
    assert form.status_code == 200 and 'id="hall-rating"' in form.content.decode()
    first = tablet.post("/pad/hall/", {"level": "5"})
    assert first.status_code == 200 and 'id="thanks"' in first.content.decode()
    clock["now"] += dt.timedelta(seconds=30)
    assert tablet.post("/pad/hall/", {"level": "4"}).status_code == 409
    clock["now"] += dt.timedelta(seconds=31)
    assert tablet.post("/pad/hall/", {"level": "2"}).status_code == 422  # R8: a bad rating says why
    assert tablet.post("/pad/hall/", {"level": "2", "reasons": ["environment"]}).status_code == 200
    ratings = list(HallRating.objects.order_by("rated_at").values_list("level", "channel"))
    assert ratings == [(5, "pad"), (2, "pad")]
    summary = hall_summary(institution=world["hall"], first=dt.date(2026, 6, 16), last=dt.date(2026, 6, 16))
    assert (summary.total, summary.good, summary.bad, summary.good_rate) == (2, 1, 1, 0.5)
    assert not Evaluation.objects.exists()


def test_no_ratings_is_no_data(world: dict[str, Any]) -> None:
    summary = hall_summary(institution=world["hall"], first=dt.date(2026, 6, 1), last=dt.date(2026, 6, 30))
    assert (summary.total, summary.good_rate) == (0, None)


def test_the_institution_dashboard_shows_the_hall_apart(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    clock = {"now": at(2026, 6, 16, 10, 0)}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    tablet = bound_pad(manager("xw", world["district"]), "W-XW-01")
    assert tablet.post("/pad/hall/", {"level": "5"}).status_code == 200
    console = manager("boss", world["district"])
    page = console.get("/console/indicators/institution/H-XW/?from=2026-06-01&to=2026-06-30").content.decode()
    assert 'id="hall-overall"' in page
    assert re.search(r'id="hall-total">1<', page) and re.search(r'id="hall-good-rate">100', page)


def test_an_unknown_hall_is_a_404(world: dict[str, Any]) -> None:
    assert Client().get("/h/NOPE/").status_code == 404
    assert Client().get("/h/NOPE/qr.svg").status_code == 404
    qr = Client().get("/h/H-XW/qr.svg")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
