import { seconds } from "./api.js";
const typeNames = {
    SEARCH_TYPE_KEYWORD: "keyword",
    SEARCH_TYPE_NEURAL: "neural",
    SEARCH_TYPE_HYBRID: "hybrid",
    SEARCH_TYPE_AUTO: "auto",
};
export function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className !== "") {
        e.className = className;
    }
    if (text !== undefined) {
        e.textContent = text;
    }
    return e;
}
const CJK = "\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}";
const cjkRuns = new RegExp(`[${CJK}]+|[^${CJK}]+`, "gu");
const isCJK = new RegExp(`^[${CJK}]`, "u");
export function queryTerms(query) {
    const words = query.normalize("NFKC").toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    const terms = new Set();
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
function escapeRegExp(s) {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
function markedRanges(text, terms) {
    const marked = new Array(text.length).fill(false);
    const mark = (from, to) => marked.fill(true, from, to);
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
export function markTerms(parent, text, terms) {
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
function inLanguage(e, language) {
    e.dir = "auto";
    if (language !== undefined && language !== "") {
        e.lang = language;
    }
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
function renderResult(r, terms, rank, showCollection) {
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
    }
    else {
        const span = el("span", "result-link", title);
        span.tabIndex = 0;
        heading.append(span);
    }
    li.append(heading);
    const meta = el("p", "result-meta");
    const url = el("span", "result-url", displayURL(r));
    url.dir = "ltr";
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
export function renderResults(list, resp, query, showCollection = false) {
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
