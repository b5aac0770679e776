"""Monthly reports are built by a huey worker, outside the request that asked for them."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from haoping.reports.services import report_build


@db_task()
def build_report(report_id: int) -> str:
    return report_build(report_id=report_id)
