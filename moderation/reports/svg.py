"""Vega-Lite specifications rendered to SVG that can sit inline in a page under a strict CSP.

vl-convert renders on the server, without a browser: text stays real <text> elements (in the
browser's sans-serif, no web font is fetched) and marks carry Vega's ARIA roles. Its SVG has
no script and no style attribute, but the page trusts nothing it did not check, so `render`
also parses the SVG and enforces it: <script>, <style> and <foreignObject> elements are
dropped, a style attribute is turned into the presentation attributes it holds (fill="..."),
event handlers (on...) and references outside the document (href not starting with '#') are
removed. Ids are prefixed with the chart's name, so two charts inline on one page never share
a clip path. The root gets a <title>, a <desc>, an aria-label and aria-describedby.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import vl_convert

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)

DROPPED = {f"{{{SVG}}}script", f"{{{SVG}}}style", f"{{{SVG}}}foreignObject"}
HREFS = ("href", f"{{{XLINK}}}href")
# The CSS properties that SVG also takes as presentation attributes of the same name.
PRESENTATION = {"fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity",
                "stroke-dasharray", "stroke-linecap", "stroke-linejoin", "opacity",
                "font-family", "font-size", "font-weight", "font-style", "text-anchor",
                "dominant-baseline", "visibility", "display", "cursor", "pointer-events"}
ID_REFERENCE = re.compile(r"url\(#([^)]+)\)")


def render(spec: dict, *, name: str, title: str, description: str) -> str:
    """The SVG of a Vega-Lite spec (a dict, as altair's to_dict gives), made safe to inline
    (see the module), titled and described. name: a short identifier, unique on a page."""
    return inline(vl_convert.vegalite_to_svg(spec, allowed_base_urls=[]), name=name,
                  title=title, description=description)


def inline(svg: str, *, name: str, title: str, description: str) -> str:
    """Any SVG document made safe to inline, titled and described (see the module)."""
    root = ET.fromstring(svg)
    _sanitize(root)
    _prefix_ids(root, name)
    _label(root, name, title, description)
    return ET.tostring(root, encoding="unicode")


def _sanitize(element: ET.Element) -> None:
    for child in list(element):
        if child.tag in DROPPED:
            element.remove(child)
        else:
            _sanitize(child)
    for attribute in list(element.attrib):
        value = element.attrib[attribute]
        if attribute.lower().startswith("on") or (attribute in HREFS
                                                 and not value.startswith("#")):
            del element.attrib[attribute]
    style = element.attrib.pop("style", None)
    if style:
        for declaration in style.split(";"):
            prop, _, value = declaration.partition(":")
            prop, value = prop.strip().lower(), value.strip()
            if prop in PRESENTATION and value and "url(" not in value:
                element.set(prop, value)


def _prefix_ids(root: ET.Element, name: str) -> None:
    def prefixed(match: re.Match) -> str:
        return f"url(#{name}-{match.group(1)})"

    for element in root.iter():
        for attribute, value in list(element.attrib.items()):
            if attribute == "id":
                element.set(attribute, f"{name}-{value}")
            elif attribute in HREFS:
                element.set(attribute, f"#{name}-{value[1:]}")
            elif "url(#" in value:
                element.set(attribute, ID_REFERENCE.sub(prefixed, value))


def _label(root: ET.Element, name: str, title: str, description: str) -> None:
    desc = ET.Element(f"{{{SVG}}}desc", id=f"{name}-desc")
    desc.text = description
    heading = ET.Element(f"{{{SVG}}}title", id=f"{name}-title")
    heading.text = title
    root.insert(0, desc)
    root.insert(0, heading)
    root.set("role", "graphics-document document")
    root.set("aria-label", title)
    root.set("aria-describedby", f"{name}-desc")
