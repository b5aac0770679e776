from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from haoping.evaluations.chain import chain_seal, chain_verify
from haoping.evaluations.models import Evaluation


class Command(BaseCommand):
    help = "Check every evaluation against its SM3 MAC and the chain; report the first altered row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-seal", action="store_true", help="do not seal pending evaluations first")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_seal"]:
            chain_seal()
        checked, problem = chain_verify()
        if problem is None:
            self.stdout.write(f"chain intact: {checked} evaluations verified")
            return
        record_no = (
            Evaluation.objects.filter(pk=problem.evaluation_id).values_list("record__record_no", flat=True).first()
        )
        where = f"seq {problem.seq}, " if problem.seq is not None else ""
        raise CommandError(
            f"first altered row: evaluation {problem.evaluation_id} ({where}record {record_no or '?'}): "
            f"{problem.reason}; {checked} rows before it verified"
        )
