import { ApiError, listCollections, search, stats } from "./api.js";
import { Picker, splitNames } from "./collections.js";
import { renderLanding } from "./landing.js";
import { renderResults } from "./render.js";
const keyStorage = "cari.apiKey";
const types = {
    auto: "SEARCH_TYPE_AUTO",
    keyword: "SEARCH_TYPE_KEYWORD",
    neural: "SEARCH_TYPE_NEURAL",
    hybrid: "SEARCH_TYPE_HYBRID",
};
function byId(id) {
    const e = document.getElementById(id);
    if (e === null) {
        throw new Error(`page has no #${id}`);
    }
    return e;
}
const form = byId("search-form");
const query = byId("q");
const typeSelect = byId("type");
const numSelect = byId("n");
const include = byId("include");
const exclude = byId("exclude");
const after = byId("after");
const before = byId("before");
const filters = byId("filters");
const keyPanel = byId("key-panel");
const keyInput = byId("api-key");
const keyForm = byId("key-form");
const forgetKey = byId("forget-key");
const statusLine = byId("status");
const errorBox = byId("error");
const results = byId("results");
const about = byId("about");
const picker = new Picker(byId("collections"), byId("collection-list"), byId("collections-chosen"), () => form.requestSubmit());
let inFlight = null;
function storedKey() {
    try {
        return localStorage.getItem(keyStorage) ?? "";
    }
    catch {
        return "";
    }
}
function domains(s) {
    return s
        .split(/[\s,]+/)
        .map((d) => d.trim())
        .filter((d) => d !== "");
}
function formParams() {
    const p = new URLSearchParams();
    p.set("q", query.value.trim());
    const fields = [
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
function fillForm(p) {
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
function request(p) {
    const req = {
        query: p.get("q") ?? "",
        type: types[p.get("type") ?? "auto"] ?? "SEARCH_TYPE_AUTO",
        numResults: Number(p.get("n") ?? "10"),
        contents: { highlights: { numSentences: 2, perUrl: 2 } },
    };
    const names = chosen(p);
    if (names.length > 1) {
        req.collections = names;
    }
    else if (names[0] !== undefined && names[0] !== "default") {
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
function chosen(p) {
    const names = splitNames(p.get("c"));
    return names.length > 0 ? names : picker.fallback();
}
async function loadCollections() {
    try {
        const resp = await listCollections(storedKey(), new AbortController().signal);
        picker.show(resp.collections ?? [], splitNames(new URLSearchParams(location.search).get("c")));
    }
    catch {
        picker.show([], []);
    }
}
function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = message === "";
}
function runExample(q) {
    query.value = q;
    form.requestSubmit();
}
async function landing(p, signal) {
    about.replaceChildren();
    try {
        const first = chosen(p)[0] ?? "";
        renderLanding(about, await stats(storedKey(), signal, first === "default" ? "" : first), runExample);
    }
    catch (e) {
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
async function run(p) {
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
    }
    catch (e) {
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
            }
            else if (e.status === 429 && e.retryAfter !== null) {
                msg = `${e.message} (retry in ${e.retryAfter}s)`;
            }
            showError(msg);
        }
        else {
            showError(`Search failed: ${String(e)}`);
        }
    }
    finally {
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
    }
    catch {
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
    }
    catch {
    }
    keyInput.value = "";
});
function resultLinks() {
    return [...results.querySelectorAll(".result-link")];
}
function isTyping(t) {
    return t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
}
document.addEventListener("keydown", (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) {
        return;
    }
    const links = resultLinks();
    const at = links.indexOf(document.activeElement);
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
    }
    else if (up && at >= 0) {
        ev.preventDefault();
        if (at === 0) {
            query.focus();
        }
        else {
            links[at - 1]?.focus();
        }
    }
});
keyPanel.querySelector("summary")?.setAttribute("title", storedKey() === "" ? "No key stored" : "A key is stored");
void loadCollections().then(() => {
    fillForm(new URLSearchParams(location.search));
    void run(new URLSearchParams(location.search));
});
