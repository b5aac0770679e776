from __future__ import annotations

from typing import Any


def test_register_and_rate(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    res = api.post("/records", record_payload(record_no="A1"))
    assert res.status_code == 201, res.json()
    token = res.json()["completion"]["evaluation_url"].rstrip("/").split("/")[-1]
    res = api.post("/evaluations", {"token": token, "level": 5, "channel": "pad"})
    assert res.status_code == 201, res.json()
    res = api.get("/records/A1")
    assert res.json()["evaluations"][0]["level"] == 5
