#!/usr/bin/python3
"""Turns the Python documentation (Debian's python3.11-doc, the site
scripts/bench-crawl.sh crawls) into a BEIR corpus and a query set for
cari bench and its peers: one document per page (its <title> and the text of
its main content), and as queries the section headings (h2 and h3), spread
evenly over the pages.

usage: bench_pydocs.py HTML_DIR OUT_DIR [MAX_QUERIES]
writes OUT_DIR/corpus.jsonl and OUT_DIR/queries.jsonl
"""

import html.parser
import json
import os
import sys


class Page(html.parser.HTMLParser):
    """The title, main text and section headings of one Sphinx page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.title, self.text, self.headings = "", [], []
        self._in_title = False
        self._main_depth = 0  # depth inside <div role="main">, 0 outside
        self._skip = 0  # inside script, style or a headerlink
        self._heading = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "title":
            self._in_title = True
        if self._main_depth:
            if tag == "div":
                self._main_depth += 1
            if tag in ("script", "style") or "headerlink" in (a.get("class") or ""):
                self._skip += 1
            if tag in ("h2", "h3"):
                self._heading = []
        elif tag == "div" and a.get("role") == "main":
            self._main_depth = 1

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if not self._main_depth:
            return
        if tag == "div":
            self._main_depth -= 1
        if tag in ("script", "style", "a") and self._skip:
            self._skip -= 1
        if tag in ("h2", "h3") and self._heading is not None:
            h = " ".join("".join(self._heading).split())
            if h:
                self.headings.append(h)
            self._heading = None
        if tag in ("p", "div", "li", "h1", "h2", "h3", "h4", "pre", "dt", "dd", "tr"):
            self.text.append("\n")

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._main_depth and not self._skip:
            self.text.append(data)
            if self._heading is not None:
                self._heading.append(data)


def main(root, out, max_queries=300):
    os.makedirs(out, exist_ok=True)
    pages = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".html"))
    headings = []
    with open(os.path.join(out, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for p in pages:
            page = Page()
            with open(p, encoding="utf-8", errors="replace") as h:
                page.feed(h.read())
            text = "\n".join(line.strip() for line in "".join(page.text).splitlines() if line.strip())
            if not text:
                continue
            doc_id = os.path.relpath(p, root)
            title = " ".join(page.title.split()).removesuffix(" — Python 3.11.2 documentation")
            f.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
            headings.extend(h for h in page.headings if len(h.split()) >= 2)
    seen, unique = set(), []
    for h in headings:
        if h.lower() not in seen:
            seen.add(h.lower())
            unique.append(h)
    step = max(1, len(unique) // max_queries)
    with open(os.path.join(out, "queries.jsonl"), "w", encoding="utf-8") as f:
        for i, h in enumerate(unique[::step][:max_queries]):
            f.write(json.dumps({"_id": f"h{i}", "text": h}) + "\n")
    print(f"{len(pages)} pages, {len(unique[::step][:max_queries])} queries from {len(unique)} headings -> {out}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:]))
