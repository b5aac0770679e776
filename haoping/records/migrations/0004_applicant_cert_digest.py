"""R15 across systems: each applicant's keyed digest of the national certKey, for the applicants
stored so far from their ID numbers (in batches; the ID is decrypted here and never stored again)."""

from django.db import migrations, models

BATCH = 1000


def fill(apps, schema_editor):
    from haoping.fields import cert_digest, cert_key

    Applicant = apps.get_model("records", "Applicant")
    pending = Applicant.objects.exclude(id_digest="").filter(cert_digest="").order_by("pk")
    last = 0
    while True:
        batch = list(pending.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        for applicant in batch:
            applicant.cert_digest = cert_digest(cert_key(applicant.id_number or ""))
        Applicant.objects.bulk_update(batch, ["cert_digest"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0003_servicerecord_body_digest"),
    ]

    operations = [
        migrations.AddField(
            model_name="applicant",
            name="cert_digest",
            field=models.CharField(
                blank=True, db_index=True, editable=False, max_length=64, verbose_name="certKey digest"
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
