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

function el<K extends keyof HTMLElementTagNameMap>(
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

// queryTerms are the words of the query worth marking in highlights.
export function queryTerms(query: string): string[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.filter((w) => w.length > 1))];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// markTerms appends text to parent with each word that starts with a query
// term wrapped in <mark>, so "erupt" marks "erupts" and "eruption".
export function markTerms(parent: HTMLElement, text: string, terms: string[]): void {
  if (terms.length === 0) {
    parent.append(text);
    return;
  }
  const re = new RegExp(
    `(?<![\\p{L}\\p{N}])(?:${terms.map(escapeRegExp).join("|")})[\\p{L}\\p{N}]*`,
    "giu",
  );
  let last = 0;
  for (const m of text.matchAll(re)) {
    const at = m.index ?? 0;
    parent.append(text.slice(last, at), el("mark", "", m[0]));
    last = at + m[0].length;
  }
  parent.append(text.slice(last));
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

function renderResult(r: Result, terms: string[], rank: number): HTMLLIElement {
  const li = el("li", "result");
  li.dataset["id"] = r.id;

  const title = r.title !== "" ? r.title : r.url !== "" ? r.url : r.id;
  const heading = el("h2", "result-title");
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
  meta.append(el("span", "result-url", displayURL(r)));
  const published = isoDate(r.publishedDate);
  if (published !== "") {
    const time = el("time", "result-date", published);
    time.dateTime = published;
    meta.append(time);
  }
  const score = el("span", "result-score", `score ${r.score.toFixed(3)}`);
  score.title = `rank ${rank}; scores compare only within one search`;
  meta.append(score);
  li.append(meta);

  r.highlights.forEach((h, i) => {
    const q = el("blockquote", "highlight");
    markTerms(q, h, terms);
    const hs = r.highlightScores[i];
    if (hs !== undefined) {
      q.title = `highlight score ${hs.toFixed(3)}`;
    }
    li.append(q);
  });
  return li;
}

// renderResults replaces the list's contents and returns the summary line.
export function renderResults(list: HTMLOListElement, resp: SearchResponse, query: string): string {
  const terms = queryTerms(query);
  list.replaceChildren(...resp.results.map((r, i) => renderResult(r, terms, i + 1)));
  const n = resp.results.length;
  const ms = (seconds(resp.totalDuration) * 1000).toFixed(1);
  const type = typeNames[resp.resolvedSearchType] ?? resp.resolvedSearchType;
  if (n === 0) {
    return `No results (${type} search, ${ms} ms).`;
  }
  return `${n} result${n === 1 ? "" : "s"} · ${type} search · ${ms} ms`;
}
