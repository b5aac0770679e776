import haoping.fields
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0007_blocked_evaluator_registry"),
    ]

    operations = [
        migrations.AddField(
            model_name="evaluation",
            name="suggestion_sealed",
            field=haoping.fields.EncryptedTextField(
                blank=True, editable=False, verbose_name="suggestion as written (encrypted)"
            ),
        ),
    ]
