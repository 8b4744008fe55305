// Rendering of results. Everything the server sends goes in through
// textContent, never innerHTML, so a document cannot inject markup.

import type { Result, SearchResponse } from "./api.js";
import { seconds } from "./api.js";

const typeNames: Record<string, string> = {
  SEARCH_TYPE_KEYWORD: "keyword",
  SEARCH_TYPE_NEURAL: "neural",
  SEARCH_TYPE_HYBRID: "hybrid",
  SEARCH_TYPE_AUTO: "auto",
};

// el makes an element with a class and, when given, text.
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className !== "") {
    e.className = className;
  }
  if (text !== undefined) {
    e.textContent = text;
  }
  return e;
}

// Scripts written without spaces between words, which the index splits into
// overlapping character bigrams.
const CJK = "\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}";
const cjkRuns = new RegExp(`[${CJK}]+|[^${CJK}]+`, "gu");
const isCJK = new RegExp(`^[${CJK}]`, "u");

// queryTerms are the pieces of the query worth marking in highlights: its
// words, and for Chinese, Japanese and Korean runs their character bigrams
// (a one-character run stays whole), as the index sees them. Full-width and
// half-width forms are folded (NFKC), as the index folds them.
export function queryTerms(query: string): string[] {
  const words = query.normalize("NFKC").toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const terms = new Set<string>();
  for (const w of words) {
    for (const run of w.match(cjkRuns) ?? []) {
      if (!isCJK.test(run)) {
        if (run.length > 1) {
          terms.add(run);
        }
        continue;
      }
      const chars = [...run];
      if (chars.length === 1) {
        terms.add(run);
      }
      for (let i = 0; i + 1 < chars.length; i++) {
        terms.add(chars[i] + chars[i + 1]);
      }
    }
  }
  return [...terms];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// markedRanges marks where query terms occur in text, per UTF-16 unit: a
// word term where a word starts with it ("erupt" marks "erupts" and
// "eruption"), a CJK term anywhere, since those scripts have no spaces to
// start a word at. Overlapping bigrams (北京, 京大, 大学) mark one run.
function markedRanges(text: string, terms: string[]): boolean[] {
  const marked = new Array<boolean>(text.length).fill(false);
  const mark = (from: number, to: number) => marked.fill(true, from, to);
  const words = terms.filter((t) => !isCJK.test(t)).map(escapeRegExp);
  if (words.length > 0) {
    const letter = `(?:(?![${CJK}])[\\p{L}\\p{N}])`;
    const re = new RegExp(`(?<!${letter})(?:${words.join("|")})${letter}*`, "giu");
    for (const m of text.matchAll(re)) {
      const at = m.index ?? 0;
      mark(at, at + m[0].length);
    }
  }
  for (const t of terms.filter((t) => isCJK.test(t))) {
    for (let at = text.indexOf(t); at >= 0; at = text.indexOf(t, at + 1)) {
      mark(at, at + t.length);
    }
  }
  return marked;
}

// markTerms appends text to parent with each run of query terms wrapped in
// <mark>.
export function markTerms(parent: HTMLElement, text: string, terms: string[]): void {
  const marked = markedRanges(text, terms);
  let start = 0;
  for (let i = 1; i <= text.length; i++) {
    if (i < text.length && marked[i] === marked[start]) {
      continue;
    }
    const piece = text.slice(start, i);
    parent.append(marked[start] ? el("mark", "", piece) : piece);
    start = i;
  }
}

// inLanguage marks an element holding a document's text with the
// document's language, so that the browser picks fitting glyphs (Han
// characters differ between Chinese and Japanese fonts) and line breaking,
// and with dir=auto, so that right-to-left text (Arabic, Hebrew) runs right
// to left while the page around it stays left to right.
function inLanguage(e: HTMLElement, language: string | undefined): void {
  e.dir = "auto";
  if (language !== undefined && language !== "") {
    e.lang = language;
  }
}

// displayURL shortens a URL to host and path for the line under a title.
function displayURL(r: Result): string {
  if (r.url === "") {
    return r.id;
  }
  try {
    const u = new URL(r.url);
    const path = u.pathname === "/" ? "" : decodeURI(u.pathname);
    return u.host + path + u.search;
  } catch {
    return r.url;
  }
}

function isoDate(ts: string | undefined): string {
  return ts === undefined || ts === "" ? "" : ts.slice(0, 10);
}

function renderResult(r: Result, terms: string[], rank: number, showCollection: boolean): HTMLLIElement {
  const li = el("li", "result");
  li.dataset["id"] = r.id;

  const title = r.title !== "" ? r.title : r.url !== "" ? r.url : r.id;
  const heading = el("h2", "result-title");
  inLanguage(heading, r.language);
  if (r.url !== "") {
    const a = el("a", "result-link", title);
    a.href = r.url;
    a.rel = "noopener noreferrer";
    heading.append(a);
  } else {
    // Corpus documents have no URL; the heading still takes focus so the
    // keyboard can reach it.
    const span = el("span", "result-link", title);
    span.tabIndex = 0;
    heading.append(span);
  }
  li.append(heading);

  const meta = el("p", "result-meta");
  const url = el("span", "result-url", displayURL(r));
  url.dir = "ltr"; // a URL reads left to right even inside right-to-left text
  meta.append(url);
  const published = isoDate(r.publishedDate);
  if (published !== "") {
    const time = el("time", "result-date", published);
    time.dateTime = published;
    meta.append(time);
  }
  if (showCollection && r.collection !== undefined) {
    meta.append(el("span", "result-collection", r.collection));
  }
  const score = el("span", "result-score", `score ${r.score.toFixed(3)}`);
  score.title = `rank ${rank}; scores compare only within one search`;
  meta.append(score);
  li.append(meta);

  r.highlights.forEach((h, i) => {
    const q = el("blockquote", "highlight");
    inLanguage(q, r.language);
    markTerms(q, h, terms);
    const hs = r.highlightScores[i];
    if (hs !== undefined) {
      q.title = `highlight score ${hs.toFixed(3)}`;
    }
    li.append(q);
  });
  return li;
}

// renderResults replaces the list's contents and returns the summary line;
// showCollection names each result's collection (a search over several).
export function renderResults(list: HTMLOListElement, resp: SearchResponse, query: string, showCollection = false): string {
  const terms = queryTerms(query);
  list.replaceChildren(...resp.results.map((r, i) => renderResult(r, terms, i + 1, showCollection)));
  const n = resp.results.length;
  const ms = (seconds(resp.totalDuration) * 1000).toFixed(1);
  const type = typeNames[resp.resolvedSearchType] ?? resp.resolvedSearchType;
  if (n === 0) {
    return `No results (${type} search, ${ms} ms).`;
  }
  return `${n} result${n === 1 ? "" : "s"} · ${type} search · ${ms} ms`;
}
