"""The eight default categories (Honghua received 8 categories, 274 items: seed 000). Editable in
the admin; the names follow the usual grouping of Jiangsu's street power lists."""

from django.db import migrations

CATEGORIES = [
    ("SR", "市容环境卫生"),
    ("GH", "城乡规划"),
    ("YL", "园林绿化"),
    ("SZ", "市政公用"),
    ("JS", "住房城乡建设"),
    ("HB", "生态环境"),
    ("SC", "市场监管"),
    ("YJ", "应急管理"),
]


def categories_create(apps, schema_editor):
    category = apps.get_model("powers", "PowerCategory")
    for order, (code, name) in enumerate(CATEGORIES, start=1):
        category.objects.get_or_create(code=code, defaults={"name": name, "order": order})


class Migration(migrations.Migration):
    dependencies = [("powers", "0001_catalogue")]

    operations = [migrations.RunPython(categories_create, migrations.RunPython.noop)]
