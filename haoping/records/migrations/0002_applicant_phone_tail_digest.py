from typing import Any

from django.db import migrations, models


def digest_existing(apps: Any, schema_editor: Any) -> None:
    """The digest of the phones already stored: read once here, as intake does for new ones."""
    from haoping.records.services import phone_tail_digest

    Applicant = apps.get_model("records", "Applicant")
    batch = []
    for person in Applicant.objects.exclude(phone="").only("pk", "phone").iterator(chunk_size=2000):
        person.phone_tail_digest = phone_tail_digest(person.phone or "")
        batch.append(person)
        if len(batch) == 2000:
            Applicant.objects.bulk_update(batch, ["phone_tail_digest"])
            batch = []
    Applicant.objects.bulk_update(batch, ["phone_tail_digest"])


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="applicant",
            name="phone_tail_digest",
            field=models.CharField(
                blank=True, db_index=True, editable=False, max_length=64, verbose_name="phone tail digest"
            ),
        ),
        migrations.RunPython(digest_existing, migrations.RunPython.noop),
    ]
