"""The registry of malicious evaluators (R15), taken over from rectification with its table and rows."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0003_policy_decided_by"),
        ("evaluations", "0006_comment_sealed"),
        ("rectification", "0012_blocked_evaluator_registry"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="BlockedEvaluator",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("phone_digest", models.CharField(blank=True, db_index=True, editable=False, max_length=64, null=True)),
                        ("id_digest", models.CharField(blank=True, db_index=True, editable=False, max_length=64, null=True)),
                        ("reason", models.TextField(verbose_name="reason")),
                        ("added_by_label", models.CharField(max_length=150, verbose_name="added by")),
                        ("added_at", models.DateTimeField(verbose_name="added at")),
                        ("removed_at", models.DateTimeField(blank=True, null=True, verbose_name="removed at")),
                        ("removed_by_label", models.CharField(blank=True, max_length=150, verbose_name="removed by")),
                        ("removed_reason", models.TextField(blank=True, verbose_name="why removed")),
                        (
                            "case",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="rectification.badreviewcase",
                                verbose_name="case",
                            ),
                        ),
                        (
                            "region",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, to="directory.region", verbose_name="region"
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "blocked evaluator",
                        "verbose_name_plural": "blocked evaluators",
                        "db_table": "rectification_blockedevaluator",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
