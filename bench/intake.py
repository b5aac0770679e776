"""Intake from lower-level systems (汇聚): rows/s through POST /api/v1/exchange/evaluations, bare and in
the SM2-signed envelope, printed beside a reference measured in the same run against the same
server: record batches through POST /api/v1/records/batch (records/s).

  1. create a fresh PostgreSQL database (bench/ingest.py's, by default `haoping_bench_intake`),
     migrate it, load bench/ingest.py's directory plus a national item and a lower-level system
     (the district's own 好差评 system, its key, its SM2 key);
  2. start granian (haoping.asgi, as deploy/serve) against it;
  3. for each phase, `--clients` threads each send `--calls` calls of `--rows` rows over one
     keep-alive connection: a service row and its evaluation row per record, as a county's push
     sends them (a bad rating in 10 carries a comment and gets its case); the reference sends record
     batches of the same size;
  4. prints rows/s, call latency, and checks that every row was answered 201 and stored once.

    python bench/intake.py                      # 4 clients x 10 calls x 100 rows per phase
    python bench/intake.py --calls 30 --rows 100
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HAOPING_BENCH_DB", "haoping_bench_intake")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import ingest  # noqa: E402

from haoping.exchange import transport  # noqa: E402
from haoping.lib.gm import sm2_private_key, sm2_public_key  # noqa: E402

TASK_CODE = "11320102MB1234567X3000117009000"
APP_MARK, APP_WORD = "xuanwu-county", "bench-word"

LOWER_SCRIPT = r"""
import json, os
from haoping.accounts.services import api_client_create
from haoping.directory.models import Department, Region, ServiceItem
from haoping.exchange.models import CodeTable, LowerSystem

district = Region.objects.get(code="320102")
ServiceItem.objects.create(
    code=os.environ["BENCH_TASK"], name="食品经营许可证核发", type="行政许可",
    department=Department.objects.get(code="D-MKT"), promised_days=5,
)
keys = {}
for name, signed in (("unsigned", False), ("signed", True)):
    client, key = api_client_create(name=f"玄武区好差评系统 ({name})", region=district)
    LowerSystem.objects.create(
        name=f"玄武区好差评系统 ({name})", region=district, api_client=client,
        code_table=CodeTable.objects.get(slug="national"),
        app_mark=os.environ["BENCH_APP_MARK"] if signed else "",
        app_word=os.environ["BENCH_APP_WORD"] if signed else "",
        sign_public_key=os.environ["BENCH_PUBLIC"] if signed else "",
    )
    keys[name] = key
print("BENCH-LOWER " + json.dumps(keys))
"""

COUNT_SCRIPT = r"""
import json
from haoping.evaluations.models import Evaluation
from haoping.exchange.models import IncomingRow
from haoping.records.models import ServiceRecord
print("BENCH-COUNT " + json.dumps({
    "stored": IncomingRow.objects.filter(status="stored").count(),
    "imported": Evaluation.objects.exclude(origin="").count(),
    "records": ServiceRecord.objects.count(),
}))
"""


def beijing(moment: dt.datetime) -> str:
    return moment.astimezone(transport.BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def national_rows(prefix: str, n_records: int) -> list[dict[str, str]]:
    now = dt.datetime.now(dt.UTC)
    rows: list[dict[str, str]] = []
    for i in range(n_records):
        project = f"{prefix}-{i:06d}"
        bad = i % 10 == 0
        rows.append(
            {
                "projectNo": project,
                "serviceNumber": "1",
                "serviceName": "办结",
                "serviceTime": beijing(now - dt.timedelta(hours=2)),
                "proStatus": "3",
                "acceptDate": beijing(now - dt.timedelta(hours=3)),
                "resultDate": beijing(now - dt.timedelta(hours=2)),
                "taskCode": TASK_CODE,
                "taskHandleItem": "",
                "taskName": "食品经营许可证核发",
                "taskType": "01",
                "areaCode": "320102000000",
                "deptCode": "D-MKT",
                "userProp": "1",
                "certKey": "",
                "projectType": "2",
                "promisetime": "2",
                "proChannel": "2",
                "dataSource": "165",
            }
        )
        rows.append(
            {
                "projectNo": project,
                "assessNumber": "1",
                "serviceNumber": "1",
                "pf": ("4", "2", "3", "7")[i % 4],
                "satisfaction": "1" if bad else ("5", "4", "5", "3")[i % 4],
                "evalDetail": "",
                "writingEvaluation": "等了很久" if bad else "",
                "assessTime": beijing(now - dt.timedelta(hours=1)),
                "dataSource": "165",
            }
        )
    return rows


def record_rows(prefix: str, n: int) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC)
    return [
        {
            "record_no": f"{prefix}-{i:06d}",
            "item_code": f"ITEM-{i % 5 + 1:03d}",
            "institution_code": "H-XW",
            "window_code": f"W-XW-{i % 4 + 1:02d}",
            "staff_no": f"S{i % 4 + 1:03d}",
            "mode": "onsite",
            "on_the_spot": True,
            "applicant": {"kind": "person", "name": "张三", "phone": f"139{i:08d}"},
            "accepted_at": (now - dt.timedelta(hours=3)).isoformat(),
            "completed_at": (now - dt.timedelta(hours=2)).isoformat(),
        }
        for i in range(n)
    ]


def phase(port: int, path: str, key: str, bodies: list[list[bytes]], ok: Any) -> dict[str, Any]:
    """Each client sends its bodies in turn on one connection; rows/s over the whole phase."""
    latencies: list[float] = []
    failures: list[str] = []
    rows = [0]
    lock = threading.Lock()

    def client(mine: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for body in mine:
            start = time.perf_counter()
            conn.request("POST", path, body, {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            answer = conn.getresponse()
            data = answer.read()
            spent = time.perf_counter() - start
            with lock:
                latencies.append(spent)
                good, problem = ok(answer.status, data)
                rows[0] += good
                if problem:
                    failures.append(problem)
        conn.close()

    threads = [threading.Thread(target=client, args=(mine,)) for mine in bodies]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    latencies.sort()
    return {
        "rows": rows[0],
        "seconds": seconds,
        "per_second": rows[0] / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "max_ms": latencies[-1] * 1000,
        "failures": failures[:5],
    }


def intake_ok(status: int, data: bytes) -> tuple[int, str]:
    if status != 200:
        return 0, f"HTTP {status}: {data[:200]!r}"
    results = json.loads(data)["C-Response-Body"]["results"]
    bad = [r for r in results if r["status"] != 201]
    return len(results) - len(bad), (f"row refused: {bad[0]}" if bad else "")


def records_ok(status: int, data: bytes) -> tuple[int, str]:
    if status != 200:
        return 0, f"HTTP {status}: {data[:200]!r}"
    results = json.loads(data)["results"]
    bad = [r for r in results if r["status"] != 201]
    return len(results) - len(bad), (f"row refused: {bad[0]}" if bad else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--calls", type=int, default=10, help="calls per client and phase")
    ap.add_argument("--rows", type=int, default=100, help="rows per call (the national gateway's most)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    server_args = argparse.Namespace(
        server="granian", interface="asgi", workers=args.workers, threads=16, port=None, clients=args.clients,
        db_socket=None, db_options="",
    )  # fmt: skip
    private = sm2_private_key(os.urandom(32))
    public = sm2_public_key(private)
    creds = transport.Credentials(url="", app_mark=APP_MARK, app_word=APP_WORD, private_key=private, public_key=public)
    with tempfile.TemporaryDirectory(prefix="haoping-intake-bench-") as tmp:
        workdir = Path(tmp)
        env = ingest.app_env(workdir, server_args)
        record_key = ingest.create_db(env)  # the district's business system, for the reference
        setup_env = {
            **env, "BENCH_TASK": TASK_CODE, "BENCH_APP_MARK": APP_MARK, "BENCH_APP_WORD": APP_WORD,
            "BENCH_PUBLIC": public,
        }  # fmt: skip
        out = ingest.subprocess.run(
            [ingest.PY, "manage.py", "shell", "-c", LOWER_SCRIPT],
            cwd=ingest.ROOT, env=setup_env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        keys = json.loads(next(line for line in out.splitlines() if line.startswith("BENCH-LOWER "))[12:])
        server = ingest.start_server(server_args, env, workdir)
        try:
            per_call = args.rows // 2  # records per call: a service and its evaluation each

            def bodies(prefix: str, make: Any) -> list[list[bytes]]:
                return [[make(f"{prefix}{c}-{k}", per_call) for k in range(args.calls)] for c in range(args.clients)]

            def bare(prefix: str, n: int) -> bytes:
                return json.dumps(national_rows(prefix, n), ensure_ascii=False).encode()

            def signed(prefix: str, n: int) -> bytes:
                # Signed as the upload signs each call (time + appMark + appWord), fresh per call.
                envelope = transport.envelope(national_rows(prefix, n), creds, dt.datetime.now(dt.UTC))
                return json.dumps(envelope, ensure_ascii=False).encode()

            def records(prefix: str, n: int) -> bytes:
                return json.dumps({"records": record_rows(prefix, args.rows)}, ensure_ascii=False).encode()

            path = "/api/v1/exchange/evaluations"
            results = {
                "warm-up": phase(server.port, path, keys["unsigned"], [[bare("W", per_call)]], intake_ok),
                "reference: POST /records/batch (records/s)": phase(
                    server.port, "/api/v1/records/batch", record_key, bodies("R", records), records_ok
                ),
                "intake, bare rows (rows/s)": phase(server.port, path, keys["unsigned"], bodies("U", bare), intake_ok),
                "intake, signed envelope (rows/s)": phase(
                    server.port, path, keys["signed"], bodies("S", signed), intake_ok
                ),
            }
        finally:
            server.stop()
        out = ingest.subprocess.run(
            [ingest.PY, "manage.py", "shell", "-c", COUNT_SCRIPT],
            cwd=ingest.ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        counts = json.loads(next(line for line in out.splitlines() if line.startswith("BENCH-COUNT "))[12:])
    print(f"server: {server.description}")
    print(f"{args.clients} clients x {args.calls} calls x {args.rows} rows per phase, one keep-alive connection each")
    print(f"{'phase':<44} {'rows':>6} {'s':>7} {'per s':>8} {'p50 ms':>8} {'max ms':>8}")
    for name, r in results.items():
        print(
            f"{name:<44} {r['rows']:>6} {r['seconds']:>7.2f} {r['per_second']:>8.0f} "
            f"{r['p50_ms']:>8.0f} {r['max_ms']:>8.0f}"
        )
        for failure in r["failures"]:
            print(f"  ! {failure}")
    expected = sum(r["rows"] for name, r in results.items() if name.startswith(("intake", "warm")))
    print(f"intake rows stored once each: {counts['stored']} of {expected} answered 201")
    print(f"imported ratings: {counts['imported']}")
    if counts["stored"] != expected:
        raise SystemExit("rows answered 201 and rows stored differ")


if __name__ == "__main__":
    main()
