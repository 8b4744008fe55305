// Cari's search page: the form, the URL that records it (so searches can
// be linked and the back button works), the keyboard, and the API key.

import { ApiError, listCollections, search, stats } from "./api.js";
import type { SearchRequest, SearchType } from "./api.js";
import { Picker, splitNames } from "./collections.js";
import { renderLanding } from "./landing.js";
import { renderResults } from "./render.js";

const keyStorage = "cari.apiKey";

const types: Record<string, SearchType> = {
  auto: "SEARCH_TYPE_AUTO",
  keyword: "SEARCH_TYPE_KEYWORD",
  neural: "SEARCH_TYPE_NEURAL",
  hybrid: "SEARCH_TYPE_HYBRID",
};

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) {
    throw new Error(`page has no #${id}`);
  }
  return e as T;
}

const form = byId<HTMLFormElement>("search-form");
const query = byId<HTMLInputElement>("q");
const typeSelect = byId<HTMLSelectElement>("type");
const numSelect = byId<HTMLSelectElement>("n");
const include = byId<HTMLInputElement>("include");
const exclude = byId<HTMLInputElement>("exclude");
const after = byId<HTMLInputElement>("after");
const before = byId<HTMLInputElement>("before");
const filters = byId<HTMLDetailsElement>("filters");
const keyPanel = byId<HTMLDetailsElement>("key-panel");
const keyInput = byId<HTMLInputElement>("api-key");
const keyForm = byId<HTMLFormElement>("key-form");
const forgetKey = byId<HTMLButtonElement>("forget-key");
const statusLine = byId<HTMLParagraphElement>("status");
const errorBox = byId<HTMLParagraphElement>("error");
const results = byId<HTMLOListElement>("results");
const about = byId<HTMLElement>("about");
// Choosing collections searches them at once (or shows the landing page of
// the first, while no query is entered).
const picker = new Picker(byId<HTMLDetailsElement>("collections"), byId("collection-list"), byId("collections-chosen"), () =>
  form.requestSubmit(),
);

let inFlight: AbortController | null = null;

function storedKey(): string {
  try {
    return localStorage.getItem(keyStorage) ?? "";
  } catch {
    return "";
  }
}

function domains(s: string): string[] {
  return s
    .split(/[\s,]+/)
    .map((d) => d.trim())
    .filter((d) => d !== "");
}

// formParams reads the form into URL parameters, leaving out defaults.
function formParams(): URLSearchParams {
  const p = new URLSearchParams();
  p.set("q", query.value.trim());
  const fields: [string, string, string][] = [
    ["type", typeSelect.value, "auto"],
    ["n", numSelect.value, "10"],
    ["include", include.value.trim(), ""],
    ["exclude", exclude.value.trim(), ""],
    ["after", after.value, ""],
    ["before", before.value, ""],
  ];
  for (const [name, value, def] of fields) {
    if (value !== def) {
      p.set(name, value);
    }
  }
  const c = picker.param();
  if (c !== "") {
    p.set("c", c);
  }
  return p;
}

// fillForm sets the form from URL parameters.
function fillForm(p: URLSearchParams): void {
  query.value = p.get("q") ?? "";
  typeSelect.value = p.get("type") ?? "auto";
  if (typeSelect.selectedIndex < 0) {
    typeSelect.value = "auto";
  }
  numSelect.value = p.get("n") ?? "10";
  if (numSelect.selectedIndex < 0) {
    numSelect.value = "10";
  }
  include.value = p.get("include") ?? "";
  exclude.value = p.get("exclude") ?? "";
  after.value = p.get("after") ?? "";
  before.value = p.get("before") ?? "";
  picker.check(splitNames(p.get("c")));
  filters.open = include.value + exclude.value + after.value + before.value !== "";
}

function request(p: URLSearchParams): SearchRequest {
  const req: SearchRequest = {
    query: p.get("q") ?? "",
    type: types[p.get("type") ?? "auto"] ?? "SEARCH_TYPE_AUTO",
    numResults: Number(p.get("n") ?? "10"),
    contents: { highlights: { numSentences: 2, perUrl: 2 } },
  };
  const names = chosen(p);
  if (names.length > 1) {
    req.collections = names;
  } else if (names[0] !== undefined && names[0] !== "default") {
    req.collection = names[0];
  }
  const inc = domains(p.get("include") ?? "");
  const exc = domains(p.get("exclude") ?? "");
  const from = p.get("after") ?? "";
  const to = p.get("before") ?? "";
  if (inc.length + exc.length > 0 || from !== "" || to !== "") {
    req.filters = {};
    if (inc.length > 0) {
      req.filters.includeDomains = inc;
    }
    if (exc.length > 0) {
      req.filters.excludeDomains = exc;
    }
    if (from !== "" || to !== "") {
      req.filters.publishedDate = {};
      if (from !== "") {
        req.filters.publishedDate.start = `${from}T00:00:00Z`;
      }
      if (to !== "") {
        req.filters.publishedDate.end = `${to}T00:00:00Z`;
      }
    }
  }
  return req;
}

// chosen are the collections the URL names, or the picker's fallback.
function chosen(p: URLSearchParams): string[] {
  const names = splitNames(p.get("c"));
  return names.length > 0 ? names : picker.fallback();
}

// loadCollections fills the picker from the collections the key may use;
// without the list (no key yet, an old server) it stays hidden and
// searches go to default.
async function loadCollections(): Promise<void> {
  try {
    const resp = await listCollections(storedKey(), new AbortController().signal);
    picker.show(resp.collections ?? [], splitNames(new URLSearchParams(location.search).get("c")));
  } catch {
    picker.show([], []);
  }
}

function showError(message: string): void {
  errorBox.textContent = message;
  errorBox.hidden = message === "";
}

// runExample searches for an example query as if it had been typed.
function runExample(q: string): void {
  query.value = q;
  form.requestSubmit();
}

// landing describes the index in place of results: what it holds, its
// model, when it was built, and example queries.
async function landing(p: URLSearchParams, signal: AbortSignal): Promise<void> {
  about.replaceChildren();
  try {
    const first = chosen(p)[0] ?? "";
    renderLanding(about, await stats(storedKey(), signal, first === "default" ? "" : first), runExample);
  } catch (e) {
    if (signal.aborted) {
      return;
    }
    const needsKey = e instanceof ApiError && (e.status === 401 || e.status === 403);
    const p = document.createElement("p");
    p.className = "about-note";
    p.textContent = needsKey
      ? "This server needs an API key to say what it searches: enter one under “API key” below."
      : `Could not describe the index: ${e instanceof Error ? e.message : String(e)}`;
    about.append(p);
  }
  about.hidden = false;
}

async function run(p: URLSearchParams): Promise<void> {
  const q = p.get("q") ?? "";
  document.title = q === "" ? "Cari" : `${q} – Cari`;
  inFlight?.abort();
  if (q === "") {
    results.replaceChildren();
    statusLine.textContent = "";
    showError("");
    const ctl = new AbortController();
    inFlight = ctl;
    await landing(p, ctl.signal);
    if (inFlight === ctl) {
      inFlight = null;
    }
    return;
  }
  about.hidden = true;
  const ctl = new AbortController();
  inFlight = ctl;
  document.body.classList.add("busy");
  statusLine.textContent = "Searching…";
  showError("");
  try {
    const req = request(p);
    const resp = await search(req, storedKey(), ctl.signal);
    statusLine.textContent = renderResults(results, resp, q, req.collections !== undefined);
  } catch (e) {
    if (ctl.signal.aborted) {
      return;
    }
    results.replaceChildren();
    statusLine.textContent = "";
    if (e instanceof ApiError) {
      let msg = e.message;
      if (e.status === 401 || e.status === 403) {
        msg = `${e.message}. Enter an API key below.`;
        keyPanel.open = true;
        keyInput.focus();
      } else if (e.status === 429 && e.retryAfter !== null) {
        msg = `${e.message} (retry in ${e.retryAfter}s)`;
      }
      showError(msg);
    } else {
      showError(`Search failed: ${String(e)}`);
    }
  } finally {
    if (inFlight === ctl) {
      inFlight = null;
      document.body.classList.remove("busy");
    }
  }
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const p = formParams();
  const url = `?${p.toString()}`;
  if (url !== location.search) {
    history.pushState(null, "", url);
  }
  void run(p);
});

window.addEventListener("popstate", () => {
  const p = new URLSearchParams(location.search);
  fillForm(p);
  void run(p);
});

keyForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  try {
    localStorage.setItem(keyStorage, keyInput.value.trim());
  } catch {
    showError("This browser does not allow storing the key.");
    return;
  }
  keyInput.value = "";
  keyPanel.open = false;
  void loadCollections().then(() => form.requestSubmit());
});

forgetKey.addEventListener("click", () => {
  try {
    localStorage.removeItem(keyStorage);
  } catch {
    // Nothing stored.
  }
  keyInput.value = "";
});

// resultLinks are the focusable headings of the results, in order.
function resultLinks(): HTMLElement[] {
  return [...results.querySelectorAll<HTMLElement>(".result-link")];
}

function isTyping(t: EventTarget | null): boolean {
  return t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
}

// Keys: "/" goes to the query box; ArrowDown/ArrowUp (or j/k outside a
// field) move between results; Escape goes back to the query box.
document.addEventListener("keydown", (ev) => {
  if (ev.altKey || ev.ctrlKey || ev.metaKey) {
    return;
  }
  const links = resultLinks();
  const at = links.indexOf(document.activeElement as HTMLElement);
  const typing = isTyping(ev.target);
  if (ev.key === "/" && !typing) {
    ev.preventDefault();
    query.focus();
    query.select();
    return;
  }
  if (ev.key === "Escape" && at >= 0) {
    query.focus();
    return;
  }
  const down = ev.key === "ArrowDown" || (ev.key === "j" && !typing);
  const up = ev.key === "ArrowUp" || (ev.key === "k" && !typing);
  if (down && (at >= 0 || ev.target === query || !typing) && links.length > 0) {
    ev.preventDefault();
    links[Math.min(at + 1, links.length - 1)]?.focus();
  } else if (up && at >= 0) {
    ev.preventDefault();
    if (at === 0) {
      query.focus();
    } else {
      links[at - 1]?.focus();
    }
  }
});

keyPanel.querySelector("summary")?.setAttribute("title", storedKey() === "" ? "No key stored" : "A key is stored");
void loadCollections().then(() => {
  fillForm(new URLSearchParams(location.search));
  void run(new URLSearchParams(location.search));
});
