"""The exchange rates in Django admin: list, search, filter by currency, and a CSV import
(date,currency,rate) that reports each bad row and never fails on a hostile file."""

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.exchange import reporting_currency
from core.exchange_rates import announce_rates_changed, exchange_rates_save, read_rates
from core.models import ExchangeRate
from crm.lib.uploads import CsvUploadForm


class RateFileForm(CsvUploadForm):
    def read_file(self, upload) -> None:
        self.rate_file = read_rates(upload.read())


class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "day", "rate", "created_at"]
    list_filter = ["currency"]
    search_fields = ["currency"]
    date_hierarchy = "day"
    ordering = ["currency", "-day"]
    change_list_template = "admin/core/exchangerate/change_list.html"

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        first = min(form.initial.get("day") or obj.day, obj.day)
        announce_rates_changed({obj.currency: first})

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        announce_rates_changed({obj.currency: obj.day})

    def delete_queryset(self, request, queryset) -> None:
        changes: dict = {}
        for currency, day in queryset.values_list("currency", "day"):
            changes[currency] = min(day, changes.get(currency, day))
        super().delete_queryset(request, queryset)
        announce_rates_changed(changes)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="core_exchangerate_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponse(status=403)
        form = RateFileForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            rate_file = form.rate_file
            errors = rate_file.errors
            if not errors:
                saved = exchange_rates_save(rates=rate_file.rates)
                message = ngettext("%(count)d rate saved.", "%(count)d rates saved.", saved)
                self.message_user(request, message % {"count": saved}, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:core_exchangerate_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import exchange rates"),
            "reporting": reporting_currency(),
            "form": form,
            "row_errors": errors[:200],
            "more_errors": max(len(errors) - 200, 0),
        }
        return TemplateResponse(request, "admin/core/exchangerate/import.html", context)


admin.site.register(ExchangeRate, ExchangeRateAdmin)
