"""Atom and RSS indexes of CAP messages: which alerts they embed, which they link to.

Alerting authorities publish CAP either as single messages or as a feed listing the current
ones (CAP 1.2 §3.5 leaves transport open; Atom with ``application/cap+xml`` links is the
common practice, e.g. the WMO register of alerting authorities). Some feeds put the whole
``<alert>`` inside the entry; those need no further fetch.
"""

from __future__ import annotations

from urllib.parse import urljoin
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

CAP_NAMESPACES = ("urn:oasis:names:tc:emergency:cap:1.2", "urn:oasis:names:tc:emergency:cap:1.1")
ALERT_TAGS = frozenset(f"{{{ns}}}alert" for ns in CAP_NAMESPACES)
ATOM = "{http://www.w3.org/2005/Atom}"
INDEX_ROOTS = ("feed", "rss", "RDF")


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def embedded_alerts(root: Element) -> list[Element]:
    """The CAP ``<alert>`` elements inside an index, in document order."""
    return [e for e in root.iter() if e.tag in ALERT_TAGS]


def index_links(payload: bytes, base: str) -> list[str]:
    """The CAP message URLs an Atom or RSS index links to (none for anything else): per Atom
    entry the link typed ``application/cap+xml``, else its alternate or first link; per RSS
    item its ``<link>``. Entries that embed their ``<alert>`` are left out; relative links
    are resolved against ``base``."""
    try:
        root = fromstring(payload)
    except (ParseError, DefusedXmlException, ValueError):
        return []
    links: list[str] = []
    if root.tag == ATOM + "feed":
        for entry in root.findall(ATOM + "entry"):
            if embedded_alerts(entry):
                continue
            candidates = [e for e in entry.findall(ATOM + "link") if e.get("href")]
            typed = [e for e in candidates if "cap" in (e.get("type") or "")]
            alternate = [e for e in candidates if e.get("rel", "alternate") == "alternate"]
            chosen = (typed or alternate or candidates or [None])[0]
            if chosen is not None:
                links.append(urljoin(base, str(chosen.get("href")).strip()))
    elif local_name(root.tag) in ("rss", "RDF"):
        for item in root.iter():
            if local_name(item.tag) != "item" or embedded_alerts(item):
                continue
            link = next((e.text for e in item if local_name(e.tag) == "link" and e.text), None)
            if link is not None:
                links.append(urljoin(base, link.strip()))
    return list(dict.fromkeys(links))
