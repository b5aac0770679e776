"""The SVG charts of the PDF reports: bars to scale, gaps for missing values, escaped labels."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from haoping.lib.charts import Series, bar_chart, hbar_chart, line_chart

NS = "{http://www.w3.org/2000/svg}"


def test_bars_are_drawn_to_scale_and_missing_values_draw_nothing() -> None:
    svg = bar_chart(["一", "二", "三"], [Series("本月", [0.5, None, 1.0], "#c8161d")], height=228, percent=True)
    root = ET.fromstring(svg)
    bars = [r for r in root.iter(f"{NS}rect") if r.get("fill") == "#c8161d" and r.get("width") != "10"]
    # 228 px high, 28 above the plot and 30 below: 170 px for 100 %.
    assert [float(r.get("height", "")) for r in bars] == [85.0, 170.0]
    labels = [t.text for t in root.iter(f"{NS}text")]
    assert "100%" in labels and "本月" in labels and labels[-3:] == ["一", "二", "三"]


def test_count_axes_round_up_to_whole_steps() -> None:
    labels = [t.text for t in ET.fromstring(bar_chart(["a"], [Series("n", [37], "#000")])).iter(f"{NS}text")]
    assert labels[:6] == ["0", "10", "20", "30", "40", "50"]
    small = [t.text for t in ET.fromstring(bar_chart(["a"], [Series("n", [2], "#000")])).iter(f"{NS}text")]
    assert small[:6] == ["0", "1", "2", "3", "4", "5"]


def test_a_line_breaks_where_a_value_is_missing() -> None:
    svg = line_chart(["1", "2", "3", "4", "5"], [Series("好评率", [1.0, 0.5, None, 0.2, 0.4], "#c8161d")], percent=True)
    root = ET.fromstring(svg)
    assert len(list(root.iter(f"{NS}circle"))) == 4
    assert [len(p.get("points", "").split()) for p in root.iter(f"{NS}polyline")] == [2, 2]


def test_labels_are_escaped() -> None:
    svg = hbar_chart(["<b>&大厅</b>"], [0.714], percent=True, title='"x"')
    root = ET.fromstring(svg)
    assert [t.text for t in root.iter(f"{NS}text")] == ["<b>&大厅</b>", "71.4%"]
    assert "<b>" not in svg and re.search(r'aria-label="&quot;x&quot;"', svg)
