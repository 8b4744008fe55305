// The landing page: what the server searches (GetStats), shown while no
// query is entered. Like render.ts, it writes server text through
// textContent only.

import type { StatsResponse } from "./api.js";
import { el } from "./render.js";

// count turns a proto JSON int64 (a string, absent at zero) into a number.
function count(s: string | undefined): number {
  const n = Number(s ?? "0");
  return Number.isFinite(n) ? n : 0;
}

// when shows a proto JSON timestamp as "2026-01-02 12:00 UTC".
function when(ts: string | undefined): string {
  if (ts === undefined || ts === "") {
    return "";
  }
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function fact(list: HTMLDListElement, name: string, key: string, value: string, title?: string): void {
  const dt = el("dt", "", name);
  const dd = el("dd", `about-${key}`, value);
  if (title !== undefined) {
    dd.title = title;
  }
  list.append(dt, dd);
}

// fillCommands are the ways to fill an empty index; docs/OPERATIONS.md
// and docs/API.md say more.
function fillCommands(origin: string): string[] {
  return [
    "cari index --data DIR --corpus corpus.jsonl",
    "cari crawl --data DIR --seed https://docs.example.org/",
    `curl ${origin}/v1/documents:upsert -H 'X-Api-Key: ADMIN_KEY' -d '{"document": {"id": "1", "title": "…", "text": "…"}}'`,
  ];
}

function renderEmpty(box: HTMLElement, st: StatsResponse): void {
  box.append(el("h1", "about-title", "The index is empty"));
  const p = el("p", "about-empty", "There is nothing to search yet. Add documents with one of:");
  const cmds = el("ul", "about-commands");
  for (const c of fillCommands(location.origin)) {
    const li = el("li", "");
    li.append(el("code", "", c));
    cmds.append(li);
  }
  box.append(p, cmds);
  box.append(
    el(
      "p",
      "about-note",
      `cari index and cari crawl write a local data directory while no server holds it; the upsert call (an admin key) works while this server runs, on its ${st.store ?? "local"} store. Reload this page once documents are in.`,
    ),
  );
}

// renderLanding fills box with the index's description; onExample runs an
// example query.
export function renderLanding(box: HTMLElement, st: StatsResponse, onExample: (q: string) => void): void {
  box.replaceChildren();
  const docs = count(st.documents);
  box.classList.toggle("empty", docs === 0);
  if (docs === 0) {
    renderEmpty(box, st);
    return;
  }
  box.append(el("h1", "about-title", `Search ${docs.toLocaleString("en")} document${docs === 1 ? "" : "s"}`));
  const facts = el("dl", "about-facts");
  const serving = st.generations?.find((g) => g.name === st.servingGeneration);
  fact(facts, "Index", "index", `${st.servingGeneration ?? ""} (${st.store ?? "local"} store)`);
  const m = st.embeddingModel;
  if (m !== undefined) {
    fact(facts, "Embedding model", "model", `${m.id !== "" ? m.id : m.name} · ${m.dimension} dimensions`, `${m.name}, run ${m.provider === "local" ? "in-process" : `by an ${m.provider} server`}`);
  } else {
    fact(facts, "Embedding model", "model", "none: keyword search only");
  }
  // The last committed write is when the index last changed; a store that
  // does not record it (Qdrant) leaves the build time as the latest known.
  const changed = when(st.lastWriteTime);
  if (changed !== "") {
    fact(facts, "Last changed", "changed", changed, "when the last upsert or delete was committed");
  }
  const built = when(serving?.createTime);
  if (built !== "") {
    fact(facts, "Index built", "built", built, changed !== "" ? "when the serving generation was created" : `when the serving generation was created; the ${st.store ?? "local"} store does not say when writes since then changed it`);
  }
  box.append(facts);
  const examples = st.exampleQueries ?? [];
  if (examples.length > 0) {
    const p = el("p", "about-examples", "Try: ");
    examples.forEach((q, i) => {
      const a = el("a", "example", q);
      a.href = `?q=${encodeURIComponent(q)}`;
      a.dir = "auto";
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        onExample(q);
      });
      p.append(...(i > 0 ? [" · ", a] : [a]));
    });
    box.append(p);
  }
}
