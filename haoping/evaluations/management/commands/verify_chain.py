from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haoping.directory.models import Region
from haoping.evaluations.chain import ChainBroken, ChainProblem, chain_audit, chain_seal
from haoping.evaluations.models import Evaluation

REASONS = {
    "chain link missing": gettext_lazy("a link of the chain is missing"),
    "evaluation deleted": gettext_lazy("the evaluation was deleted"),
    "evaluation altered": gettext_lazy("the evaluation was altered"),
    "chain link altered": gettext_lazy("the chain link was altered"),
    "chain head differs": gettext_lazy("the chain differs from its signed checkpoint"),
    "evaluation altered (not sealed yet)": gettext_lazy("the evaluation was altered (not yet sealed)"),
}

ROW = gettext_lazy("evaluation %(id)s (chain position %(seq)s, record %(no)s): %(reason)s")
GAP = gettext_lazy("chain positions %(first)s to %(last)s are missing: %(count)d evaluations deleted with their links")
TAIL = gettext_lazy(
    "the newest chain positions %(first)s to %(last)s are missing although a signed checkpoint "
    "anchored them: %(count)d evaluations deleted"
)
REGION_SHORT = gettext_lazy(
    "region %(region)s: %(missing)d evaluations fewer than its signed checkpoint counted (deleted)"
)
CHECKPOINT = {
    "anchor invalid": gettext_lazy("line %(n)s of the anchor log is not a valid signed checkpoint"),
    "checkpoint deleted": gettext_lazy("checkpoint %(n)s of the anchor log is missing from the database"),
    "checkpoint altered": gettext_lazy("checkpoint %(n)s in the database was altered"),
}
SUMMARY = gettext_lazy("%(problems)d problems found; %(n)d evaluations verified")
FIRST_ROW = gettext_lazy("; the first row: %(row)s")
MAX_LISTED = 100


class Command(BaseCommand):
    help = (
        "Check every evaluation against its SM3 MAC, the keyed chain and its signed checkpoints; "
        "report altered and deleted rows and gaps."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-seal", action="store_true", help="do not seal pending evaluations first")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_seal"]:
            try:
                chain_seal(full=True)
            except ChainBroken:
                # Sealing refuses to go on; the audit below says why.
                pass
        report = chain_audit()
        if not report.problems:
            self.stdout.write(_("chain intact: %(n)d evaluations verified") % {"n": report.checked})
            return
        for problem in report.problems[:MAX_LISTED]:
            self.stderr.write(self.describe(problem))
        summary = str(SUMMARY % {"problems": len(report.problems), "n": report.checked})
        first_row = next((p for p in report.problems if p.reason in REASONS), None)
        if first_row is not None:
            summary += str(FIRST_ROW % {"row": ROW % self.row_values(first_row)})
        raise CommandError(summary)

    def row_values(self, problem: ChainProblem) -> dict[str, Any]:
        record_no = (
            Evaluation.objects.filter(pk=problem.evaluation_id or 0).values_list("record__record_no", flat=True).first()
        )
        return {
            "id": problem.evaluation_id,
            "seq": problem.seq if problem.seq is not None else "-",
            "no": record_no or "?",
            "reason": REASONS.get(problem.reason, problem.reason),
        }

    def describe(self, problem: ChainProblem) -> str:
        if problem.reason in REASONS:
            return str(ROW % self.row_values(problem))
        if problem.reason in ("chain links missing", "chain tail deleted"):
            assert problem.seq is not None and problem.last_seq is not None
            template = GAP if problem.reason == "chain links missing" else TAIL
            count = problem.last_seq - problem.seq + 1
            return str(template % {"first": problem.seq, "last": problem.last_seq, "count": count})
        if problem.reason == "region count short":
            region = Region.objects.filter(pk=problem.region_id or 0).first()
            label = f"{region.name}（{region.code}）" if region else str(problem.region_id)
            return str(REGION_SHORT % {"region": label, "missing": problem.missing})
        return str(CHECKPOINT[problem.reason] % {"n": problem.checkpoint})
