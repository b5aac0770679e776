"""R15 across systems: the registry matches the keyed digest of the national certKey too; entries
made so far take it from the applicant whose ID number they were made from."""

from django.db import migrations, models


def fill(apps, schema_editor):
    BlockedEvaluator = apps.get_model("evaluations", "BlockedEvaluator")
    Applicant = apps.get_model("records", "Applicant")
    for entry in BlockedEvaluator.objects.filter(cert_digest__isnull=True).exclude(id_digest__isnull=True):
        found = (
            Applicant.objects.filter(id_digest=entry.id_digest)
            .exclude(cert_digest="")
            .values_list("cert_digest", flat=True)
            .first()
        )
        if found:
            entry.cert_digest = found
            entry.save(update_fields=["cert_digest"])


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0014_questionnaires"),
        ("records", "0004_applicant_cert_digest"),
    ]

    operations = [
        migrations.AddField(
            model_name="blockedevaluator",
            name="cert_digest",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
