"""R10: phone and ID numbers typed into free text never leave the system in full, and nothing that
identifies the evaluator reaches the rated staff member."""

from __future__ import annotations

import re
from typing import Any

from haoping.rectification.tests.support import act_ok, detail

PHONE_STYLES = ["138-1234-5678", "138 1234 5678", "+86 138 1234 5678", "１３８１２３４５６７８"]
ID_STYLES = ["320102 19900101 123X", "３２０１０２１９９００１０１１２３Ｘ"]
# A run of 7 or more digits (ASCII or full-width, however grouped) is a number shown in full.
IN_FULL = re.compile(r"[0-9０-９](?:[ \-－]?[0-9０-９]){6,}")


def test_case_api_masks_comments_and_notes(world: dict[str, Any], record_payload: Any) -> None:
    body = record_payload()
    api = world["api"]
    assert api.post("/records", body).status_code == 201
    comment = "窗口态度差，请回电 " + "，或 ".join(PHONE_STYLES)
    res = api.post("/evaluations", {"record_no": body["record_no"], "level": 1, "channel": "pc", "comment": comment})
    assert res.status_code == 201, res.content
    case_id = api.get("/cases").json()[0]["id"]
    note = "已电话联系评价人 " + PHONE_STYLES[1] + "，身份证 " + "、".join(ID_STYLES)
    act_ok(api, case_id, "contact", note=note)
    shown = detail(api, case_id)
    assert shown["comment"].count("138****5678") == len(PHONE_STYLES)
    contact = next(h for h in shown["history"] if h["action"] == "contact")
    assert "138****5678" in contact["note"] and contact["note"].count("3201**********123X") == 2
    texts = [shown["comment"], *(h["note"] for h in shown["history"])]
    assert not any(IN_FULL.search(t) for t in texts), texts
