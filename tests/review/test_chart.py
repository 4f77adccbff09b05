"""The pipeline chart is well-formed SVG whose bars follow the rates and whose text is escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tools.production import PipelineFigures, Rate
from tools.review.chart import BAR_W, pipeline_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_bars_follow_the_rates_and_a_stage_without_data_says_so() -> None:
    figures = PipelineFigures(
        preflight=Rate.of(2, 3),
        generation=Rate.of(2, 2),
        media_check=Rate.of(0, 0),
        review=Rate.of(1, 2),
        retakes_per_approved_shot=1.0,
        spend_usd=1.2,
        spend_per_approved_second_usd=0.3,
        end_to_end_yield=Rate.of(1, 2),
        chained_stage_rate=None,
    )
    root = ET.fromstring(pipeline_svg(figures, "Scene <1> & co"))
    filled = [int(r.get("width", "0")) for r in root.iter(f"{SVG}rect")][1::2]
    assert filled == [round(BAR_W * 2 / 3), BAR_W, 0, BAR_W // 2, BAR_W // 2]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts[0] == "Scene <1> & co" and "no data" in texts and "67% (2/3)" in texts
