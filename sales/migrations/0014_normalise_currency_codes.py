"""Currency codes stored before the fields were validated as ISO 4217 ("rmb", "eur ").

Each code is trimmed and upper-cased and the known aliases become their ISO code (RMB is
the renminbi, ISO CNY; NTD the New Taiwan dollar, ISO TWD). A code still unknown after that
is left as it is and listed in the migration's output: guessing a currency would change what
an amount means, so a person corrects those rows (the deal, quote and order pages now say
what is wrong instead of failing).
"""

from django.db import migrations

from crm.lib.currencies import currency_codes, is_currency

ALIASES = {"RMB": "CNY", "NTD": "TWD"}
MODELS = ("Deal", "Quote", "Order")


def normalised(code: str) -> str:
    upper = code.strip().upper() if code.isascii() else code
    return ALIASES.get(upper, upper)


def normalise_currencies(apps, schema_editor) -> None:
    for name in MODELS:
        model = apps.get_model("sales", name)
        stored = model.objects.exclude(currency__in=_known()).values_list("currency", flat=True)
        unknown = set()
        for code in set(stored):
            fixed = normalised(code)
            if is_currency(fixed):
                model.objects.filter(currency=code).update(currency=fixed)
            else:
                unknown.add(code)
        if unknown:
            print(f"\n  sales.{name}: currency codes left unknown, correct by hand: {sorted(unknown)}")


def _known() -> list[str]:
    return sorted(currency_codes())


class Migration(migrations.Migration):
    dependencies = [("sales", "0013_quota_and_company_details")]

    operations = [migrations.RunPython(normalise_currencies, migrations.RunPython.noop)]
