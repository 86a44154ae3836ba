"""Pages of the powers app: the usage report of a street, as HTML and as an Excel workbook. Both
read only the streets the user may see (powers.permissions), as the usage API does."""

from io import BytesIO

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from powers.exports import usage_report_workbook
from powers.forms import UsagePeriodForm
from powers.selectors import power_usage_report, usage_street_get

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report(request, street_code):
    # A street the user may not read is a 404 like an unknown one (powers.permissions).
    street = usage_street_get(user=request.user, code=street_code)
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
