"""The SVG a chart inlines holds nothing the strict CSP would refuse or a page should not run."""

import xml.etree.ElementTree as ET

from moderation.reports.svg import inline

HOSTILE = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
  width="10" height="10" onload="alert(1)">
  <style>@import url(https://fonts.example.com/a.css);</style>
  <script>alert(2)</script>
  <defs><clipPath id="clip1"><rect width="5" height="5"/></clipPath></defs>
  <g clip-path="url(#clip1)" style="fill: red; stroke-width: 2; background: url(https://x.example/y.png)">
    <text style="font-family: sans-serif">Rater 1</text>
    <use xlink:href="#clip1"/><image href="https://tracker.example/p.gif"/>
  </g>
  <foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
</svg>"""


def test_inline_svg_keeps_drawing_and_drops_what_could_run_or_call_out():
    svg = inline(HOSTILE, name="severity", title="How generous", description="Each rater.")

    for refused in ("<script", "<style", "style=", "onload", "foreignObject", "https://"):
        assert refused not in svg
    root = ET.fromstring(svg)
    group = root.find("{http://www.w3.org/2000/svg}g")
    assert (group.get("fill"), group.get("stroke-width")) == ("red", "2")
    assert group.get("clip-path") == "url(#severity-clip1)"
    assert root.find(".//{http://www.w3.org/2000/svg}clipPath").get("id") == "severity-clip1"
    assert root.find(".//{http://www.w3.org/2000/svg}use").get(
        "{http://www.w3.org/1999/xlink}href") == "#severity-clip1"
    assert root.find(".//{http://www.w3.org/2000/svg}text").text == "Rater 1"


def test_inline_svg_is_titled_and_described_for_screen_readers():
    root = ET.fromstring(inline(HOSTILE, name="severity", title="How generous",
                                description="Each rater."))

    assert root.get("aria-label") == "How generous"
    assert root.get("aria-describedby") == "severity-desc"
    assert root[0].tag.endswith("title") and root[0].text == "How generous"
    assert root[1].get("id") == "severity-desc" and root[1].text == "Each rater."
