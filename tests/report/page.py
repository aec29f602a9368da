"""Reading a report page as a reader's browser would: its run-level tables and test entries,
parsed with the standard library's HTML parser (not by matching the template's text)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class SummaryRow:
    """One row of a run-level table: its cells by column, and the test it links to."""

    cells: dict[str, str]
    href: str
    linked: str  # the node id the link shows


@dataclass
class Page:
    summaries: dict[str, list[SummaryRow]] = field(default_factory=dict)
    entries: dict[str, str] = field(default_factory=dict)  # entry id → its test's node id


def read_page(html: str) -> Page:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.page


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.table: str | None = None  # the summary table being read
        self.columns: list[str] = []
        self.cells: list[str] = []
        self.cell: list[str] | None = None
        self.href = ""
        self.linked: list[str] | None = None
        self.linked_text = ""
        self.entry: str | None = None  # the test entry whose node id comes next
        self.nodeid: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "table" and "summary-table" in classes:
            name = (attributes.get("id") or "").removeprefix("summary-").removesuffix("-table")
            self.table, self.columns = name, []
            self.page.summaries[name] = []
        elif self.table is not None and tag == "tr":
            self.cells = []
        elif self.table is not None and tag in ("th", "td"):
            self.cell = []
        elif self.table is not None and tag == "a":
            self.href = attributes.get("href") or ""
        elif self.table is not None and tag == "span" and "link-nodeid" in classes:
            self.linked = []
        elif tag == "details" and "test" in classes:
            self.entry = attributes.get("id")
        elif tag == "span" and "nodeid" in classes and self.entry is not None:
            self.nodeid = []

    def handle_data(self, data: str) -> None:
        for sink in (self.cell, self.linked, self.nodeid):
            if sink is not None:
                sink.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self.table is not None and tag in ("th", "td") and self.cell is not None:
            text = " ".join("".join(self.cell).split())
            (self.columns if tag == "th" else self.cells).append(text)
            self.cell = None
        elif self.table is not None and tag == "span" and self.linked is not None:
            self.linked_text = "".join(self.linked)
            self.linked = None
        elif self.table is not None and tag == "tr" and self.cells:
            row = dict(zip(self.columns, self.cells, strict=True))
            self.page.summaries[self.table].append(SummaryRow(row, self.href, self.linked_text))
        elif tag == "table":
            self.table = None
        elif tag == "span" and self.nodeid is not None and self.entry is not None:
            self.page.entries[self.entry] = "".join(self.nodeid)
            self.entry, self.nodeid = None, None
