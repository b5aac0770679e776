"""The registry of malicious evaluators (R15) belongs to evaluations now; its table stays as it is."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("rectification", "0011_case_classify_due"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="BlockedEvaluator")],
            database_operations=[],
        ),
    ]
