"""The usage report as an Excel workbook: one sheet per part, formula-safe."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook

from grids.exchange import spreadsheet_safe
from powers.selectors import UsageReport


def usage_report_workbook(report: UsageReport, target: Path | BinaryIO) -> None:
    workbook = Workbook()
    summary = workbook.active
    summary.title = "概况"
    version = report.version
    for row in [
        ["街道", report.street.name],
        ["统计期间", f"{report.start} 至 {report.end}"],
        [
            "现行清单版本",
            f"v{version.number}（{version.notice_number}，{version.effective_on} 起施行）"
            if version
            else "无",
        ],
        ["持有事项", report.held],
        ["期间使用过的事项", report.used],
        [f"僵尸事项（{report.zombie_months}个月未使用）", len(report.zombies)],
        ["未满足需求事项", len(report.unmet)],
    ]:
        summary.append([spreadsheet_safe(value) for value in row])

    def sheet(title: str, header: list[str], rows) -> None:
        ws = workbook.create_sheet(title)
        ws.append(header)
        for row in rows:
            ws.append([spreadsheet_safe(value) for value in row])

    sheet(
        "使用情况",
        ["事项编码", "事项名称", "类别", "使用次数", "最近使用"],
        (
            [u.item.code, u.item.name, u.item.category.name, u.uses, u.last_used or ""]
            for u in report.uses
        ),
    )
    sheet(
        "僵尸事项",
        ["事项编码", "事项名称", "类别", "最近使用"],
        (
            [u.item.code, u.item.name, u.item.category.name, u.last_used or "从未使用"]
            for u in report.zombies
        ),
    )
    sheet(
        "未满足需求",
        ["事项编码", "事项名称", "实施部门", "吹哨", "因无权拒收", "合计"],
        (
            [d.item.code, d.item.name, d.item.department.name, d.whistled, d.refused, d.total]
            for d in report.unmet
        ),
    )
    sheet(
        "候选事项",
        ["排名", "事项编码", "事项名称", "三高两易得分", "未满足需求"],
        (
            [n, c.item.code, c.item.name, c.score, c.unmet]
            for n, c in enumerate(report.candidates, start=1)
        ),
    )
    workbook.save(target)
