from django.db import migrations


def seed(apps, schema_editor):
    # The service's seeding takes the model class, so it runs here on the historical model.
    from haoping.workdays.services import calendar_seed_into, default_seed_years

    calendar_seed_into(apps.get_model("workdays", "CalendarDay"), years=default_seed_years())


class Migration(migrations.Migration):

    dependencies = [
        ("workdays", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
