import { el } from "./render.js";
const defaultName = "default";
export function splitNames(s) {
    return (s ?? "")
        .split(",")
        .map((n) => n.trim())
        .filter((n) => n !== "");
}
function size(c) {
    if (c.documentCount === undefined) {
        return "size unknown";
    }
    const n = Number(c.documentCount);
    return `${n.toLocaleString("en")} document${n === 1 ? "" : "s"}`;
}
function model(c) {
    const m = c.embeddingModel;
    return m === undefined ? "keyword only" : `${m.name} · ${m.dimension}d`;
}
export class Picker {
    box;
    list;
    summary;
    names = [];
    constructor(box, list, summary, onChange) {
        this.box = box;
        this.list = list;
        this.summary = summary;
        list.addEventListener("change", () => {
            this.check(this.boxes().some((b) => b.checked) ? this.chosen() : []);
            onChange();
        });
    }
    show(cols, chosen) {
        this.names = cols.map((c) => c.name);
        this.list.replaceChildren(...cols.map((c) => {
            const box = el("input", "");
            box.type = "checkbox";
            box.value = c.name;
            const label = el("label", "collection-choice");
            label.title = c.aliases !== undefined && c.aliases.length > 0 ? `aliases: ${c.aliases.join(", ")}` : c.name;
            label.append(box, el("span", "collection-name", c.name), el("span", "collection-size", size(c)), el("span", "collection-model", model(c)));
            return label;
        }));
        this.box.hidden = this.names.length === 0 || (this.names.length === 1 && this.names[0] === defaultName);
        this.check(chosen);
    }
    check(names) {
        const want = names.length > 0 ? names : this.fallback();
        for (const box of this.boxes()) {
            box.checked = want.includes(box.value);
        }
        this.label();
    }
    fallback() {
        if (this.names.length === 0 || this.names.includes(defaultName)) {
            return [defaultName];
        }
        return [this.names[0] ?? defaultName];
    }
    chosen() {
        const names = this.boxes()
            .filter((b) => b.checked)
            .map((b) => b.value);
        return names.length > 0 ? names : this.fallback();
    }
    param() {
        const c = this.chosen();
        return c.join(",") === this.fallback().join(",") ? "" : c.join(",");
    }
    boxes() {
        return [...this.list.querySelectorAll("input[type=checkbox]")];
    }
    label() {
        this.summary.textContent = this.chosen().join(", ");
    }
}
