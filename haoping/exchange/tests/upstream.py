"""A stand-in for the upper platform on 127.0.0.1: checks each call's SM2 signature, opens the rows
when they come encrypted, keeps rows once per natural key, and answers per row, as the national
gateway does (transport status, then each row's own)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from haoping.exchange import national
from haoping.lib.gm import sm2_decrypt, sm2_verify

PORTS = range(8840, 8899)


class Upstream:
    def __init__(self, *, app_mark: str, app_word: str, public_key: str, private_key: str = "") -> None:
        self.app_mark, self.app_word, self.public_key = app_mark, app_word, public_key
        self.private_key = private_key  # the platform's, to open encrypted rows
        self.fail_next = 0  # calls answered 503 before any is taken
        self.refuse: dict[str, str] = {}  # natural key → reason given for that row
        self.calls = 0
        self.bad_signatures = 0
        self.services: dict[tuple[str, str], dict[str, Any]] = {}
        self.evaluations: dict[tuple[str, str], dict[str, Any]] = {}
        self.steps: list[dict[str, Any]] = []
        # Whether a row marked replacesDefault replaces the evaluation under its key (an upper
        # 好差评 system), or is answered "already exists" like any row sent again (the national
        # platform as the sources show it); the rows replaced.
        self.takes_replacements = True
        self.replaced: list[dict[str, Any]] = []
        # A lower system's chain checkpoints, checked with the key it registered, by number.
        self.chain_public_key = ""
        self.checkpoints: dict[int, dict[str, Any]] = {}
        self.received = 0  # rows taken, duplicates included
        self.headers: list[dict[str, str]] = []
        self.server = self._bind()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hcp/evaluate"

    def _bind(self) -> ThreadingHTTPServer:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, body = upstream.answer(raw, dict(self.headers))
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        for port in PORTS:
            try:
                return ThreadingHTTPServer(("127.0.0.1", port), Handler)
            except OSError:
                continue
        raise RuntimeError("no free port for the stand-in upstream")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, raw: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.calls += 1
        self.headers.append(headers)
        if self.fail_next:
            self.fail_next -= 1
            return 503, {"C-Response-Desc": "service unavailable"}
        body = json.loads(raw)["txnBodyCom"]
        signed = (body["time"] + body["appMark"] + self.app_word).encode()
        if body["appMark"] != self.app_mark or not sm2_verify(self.public_key, signed, body["sign"]):
            self.bad_signatures += 1
            return 200, {
                "C-Response-Desc": "sign error",
                "C-Response-Body": {"success": "false", "message": "签名错误"},
            }
        rows = body["params"]["evaluate"]
        if self.private_key:
            rows = json.loads(sm2_decrypt(self.private_key, rows[0]))
        results = []
        for index, row in enumerate(rows):
            reason = self.take(row)
            results.append({"index": index, "success": "false" if reason else "true", "message": reason or ""})
        return 200, {"C-Response-Desc": "success", "C-Response-Body": {"success": "true", "results": results}}

    def take(self, row: dict[str, Any]) -> str | None:
        """None when the row is taken (or was already), else the reason it is refused."""
        if national.is_checkpoint_row(row):
            return self.take_checkpoint(row)
        project = row["projectNo"]
        if "handleStep" in row:
            key = f"case:{project}:{row['assessNumber']}:{row['handleStep']}"
        elif "assessNumber" in row:
            key = f"evaluation:{project}:{row['assessNumber']}"
        else:
            key = f"service:{project}:{row['serviceNumber']}"
        if key in self.refuse:
            return self.refuse[key]
        self.received += 1
        if "handleStep" in row:
            self.steps.append(row)
        elif "assessNumber" in row:
            if (project, row["serviceNumber"]) not in self.services:
                return "没有对应的服务数据"
            rated = (project, row["assessNumber"])
            if rated in self.evaluations:
                # Kept once per key, as the national platform does; a row marked as replacing the
                # default sent before takes its place where the platform takes replacements.
                if not (national.replaces_default(row) and self.takes_replacements):
                    return "本次服务已存在评价，请勿重复评价！"
                self.replaced.append(self.evaluations[rated])
            self.evaluations[rated] = row
        else:
            self.services[(project, row["serviceNumber"])] = row
        return None

    def take_checkpoint(self, row: dict[str, Any]) -> str | None:
        key = national.checkpoint_key(row.get("checkpointNumber"))
        if key in self.refuse:
            return self.refuse[key]
        try:
            parsed = national.parse_checkpoint_row(row, public_key=self.chain_public_key)
        except national.RowError as exc:
            return str(exc)
        self.received += 1
        self.checkpoints[parsed.number] = parsed.entry
        return None
