"""Pages of the powers app: the usage report of a street, as HTML and as an Excel workbook."""

from io import BytesIO

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from grids.choices import RegionLevel
from grids.models import Region
from powers.exports import usage_report_workbook
from powers.forms import UsagePeriodForm
from powers.selectors import power_usage_report

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report(request, street_code):
    street = get_object_or_404(Region, code=street_code, level=RegionLevel.STREET)
    form = UsagePeriodForm(request.GET)  # bound even when empty: every field has a default
    if not form.is_valid():
        return street, form, None
    return street, form, power_usage_report(street=street, **form.cleaned_data)


@login_required
def usage_report(request, street_code):
    street, form, report = _report(request, street_code)
    return render(
        request, "powers/usage_report.html", {"street": street, "form": form, "report": report}
    )


@login_required
def usage_report_export(request, street_code):
    street, form, report = _report(request, street_code)
    if report is None:
        return render(
            request,
            "powers/usage_report.html",
            {"street": street, "form": form, "report": None},
            status=400,
        )
    buffer = BytesIO()
    usage_report_workbook(report, buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    filename = f"usage-{street.code}-{report.start}-{report.end}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
