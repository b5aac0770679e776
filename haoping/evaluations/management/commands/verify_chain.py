from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haoping.evaluations.chain import chain_seal, chain_verify
from haoping.evaluations.models import Evaluation

REASONS = {
    "chain link missing": gettext_lazy("a link of the chain is missing"),
    "evaluation deleted": gettext_lazy("the evaluation was deleted"),
    "evaluation altered": gettext_lazy("the evaluation was altered"),
    "chain link altered": gettext_lazy("the chain link was altered"),
    "evaluation altered (not sealed yet)": gettext_lazy("the evaluation was altered (not yet sealed)"),
}


FIRST_ALTERED = gettext_lazy(
    "first altered row: evaluation %(id)s (chain position %(seq)s, record %(no)s): %(reason)s; "
    "%(n)d rows before it verified"
)


class Command(BaseCommand):
    help = "Check every evaluation against its SM3 MAC and the chain; report the first altered row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-seal", action="store_true", help="do not seal pending evaluations first")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_seal"]:
            chain_seal(full=True)
        checked, problem = chain_verify()
        if problem is None:
            self.stdout.write(_("chain intact: %(n)d evaluations verified") % {"n": checked})
            return
        record_no = (
            Evaluation.objects.filter(pk=problem.evaluation_id).values_list("record__record_no", flat=True).first()
        )
        values = {
            "id": problem.evaluation_id,
            "seq": problem.seq if problem.seq is not None else "-",
            "no": record_no or "?",
            "reason": REASONS.get(problem.reason, problem.reason),
            "n": checked,
        }
        raise CommandError(FIRST_ALTERED % values)
