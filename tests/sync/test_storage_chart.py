"""The Storage chart's geometry is drawn by a template tag, not by the storage service."""

from __future__ import annotations

from django.template import Context, Template

from sync.services.storage import ObjectRow, StorageReport
from sync.templatetags.charts import BAR_AREA, LABEL_WIDTH, storage_chart_geometry


def test_bars_scale_to_the_largest_value_and_an_empty_object_draws_no_bar():
    rows = [
        ObjectRow("A__c", "As", 1000, [1000, 2000, 4000]),
        ObjectRow("B__c", "Bs", 0, [0, 1, 2]),
    ]
    chart = storage_chart_geometry(rows)
    widths = [[bar["width"] for bar in group["bars"]] for group in chart["groups"]]
    assert widths == [["90", "90", "180", str(BAR_AREA)], ["0", "0", "1", "1"]]
    assert {bar["x"] for group in chart["groups"] for bar in group["bars"]} == {str(LABEL_WIDTH)}
    assert [item["label"] for item in chart["legend"]] == [
        "Now",
        "In 30 days",
        "In 90 days",
        "In 365 days",
    ]
    assert chart["groups"][0]["bars"][3]["title"] == "As, in 365 days: 4,000 records (7.8 MB)"


def test_the_tag_renders_an_svg_for_a_report():
    report = StorageReport(rows=[ObjectRow("A__c", "As", 5, [5, 6, 7])])
    html = Template("{% load charts %}{% storage_chart report %}").render(
        Context({"report": report})
    )
    assert 'data-testid="storage-chart"' in html
    assert html.count("<rect") == 4 + 4  # legend + bars
