import { seconds } from "./api.js";
const typeNames = {
    SEARCH_TYPE_KEYWORD: "keyword",
    SEARCH_TYPE_NEURAL: "neural",
    SEARCH_TYPE_HYBRID: "hybrid",
    SEARCH_TYPE_AUTO: "auto",
};
function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className !== "") {
        e.className = className;
    }
    if (text !== undefined) {
        e.textContent = text;
    }
    return e;
}
export function queryTerms(query) {
    const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    return [...new Set(words.filter((w) => w.length > 1))];
}
function escapeRegExp(s) {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
export function markTerms(parent, text, terms) {
    if (terms.length === 0) {
        parent.append(text);
        return;
    }
    const re = new RegExp(`(?<![\\p{L}\\p{N}])(?:${terms.map(escapeRegExp).join("|")})[\\p{L}\\p{N}]*`, "giu");
    let last = 0;
    for (const m of text.matchAll(re)) {
        const at = m.index ?? 0;
        parent.append(text.slice(last, at), el("mark", "", m[0]));
        last = at + m[0].length;
    }
    parent.append(text.slice(last));
}
function displayURL(r) {
    if (r.url === "") {
        return r.id;
    }
    try {
        const u = new URL(r.url);
        const path = u.pathname === "/" ? "" : decodeURI(u.pathname);
        return u.host + path + u.search;
    }
    catch {
        return r.url;
    }
}
function isoDate(ts) {
    return ts === undefined || ts === "" ? "" : ts.slice(0, 10);
}
function renderResult(r, terms, rank) {
    const li = el("li", "result");
    li.dataset["id"] = r.id;
    const title = r.title !== "" ? r.title : r.url !== "" ? r.url : r.id;
    const heading = el("h2", "result-title");
    if (r.url !== "") {
        const a = el("a", "result-link", title);
        a.href = r.url;
        a.rel = "noopener noreferrer";
        heading.append(a);
    }
    else {
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
export function renderResults(list, resp, query) {
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
