// The collection picker: which of the server's collections a search
// covers, each shown with its size and embedding model (ListCollections).
// It stays hidden while the server has only "default", or the list cannot
// be read, so that a one-collection server looks as it did before.

import type { Collection } from "./api.js";
import { el } from "./render.js";

const defaultName = "default";

// splitNames reads the page's "c" URL parameter: collection names,
// comma-separated.
export function splitNames(s: string | null): string[] {
  return (s ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
}

// size is the collection's document count; the server leaves the count
// out (and sends "0" for an empty collection) when it cannot count them.
function size(c: Collection): string {
  if (c.documentCount === undefined) {
    return "size unknown";
  }
  const n = Number(c.documentCount);
  return `${n.toLocaleString("en")} document${n === 1 ? "" : "s"}`;
}

function model(c: Collection): string {
  const m = c.embeddingModel;
  return m === undefined ? "keyword only" : `${m.name} · ${m.dimension}d`;
}

// Picker is the picker's state: the collections listed and those checked.
export class Picker {
  private names: string[] = [];

  constructor(
    private readonly box: HTMLDetailsElement,
    private readonly list: HTMLElement,
    private readonly summary: HTMLElement,
    onChange: () => void,
  ) {
    list.addEventListener("change", () => {
      // Unchecking the last one goes back to the fallback, which the
      // search then covers, rather than to a picker that shows nothing.
      this.check(this.boxes().some((b) => b.checked) ? this.chosen() : []);
      onChange();
    });
  }

  // show lists cols, checking chosen (the fallback when empty). A server
  // with only "default" hides the picker.
  show(cols: Collection[], chosen: string[]): void {
    this.names = cols.map((c) => c.name);
    this.list.replaceChildren(
      ...cols.map((c) => {
        const box = el("input", "");
        box.type = "checkbox";
        box.value = c.name;
        const label = el("label", "collection-choice");
        label.title = c.aliases !== undefined && c.aliases.length > 0 ? `aliases: ${c.aliases.join(", ")}` : c.name;
        label.append(box, el("span", "collection-name", c.name), el("span", "collection-size", size(c)), el("span", "collection-model", model(c)));
        return label;
      }),
    );
    this.box.hidden = this.names.length === 0 || (this.names.length === 1 && this.names[0] === defaultName);
    this.check(chosen);
  }

  // check checks names, or the fallback when names is empty.
  check(names: string[]): void {
    const want = names.length > 0 ? names : this.fallback();
    for (const box of this.boxes()) {
      box.checked = want.includes(box.value);
    }
    this.label();
  }

  // fallback is what a search covers when the page names nothing:
  // default when the key may use it, else the first collection listed.
  fallback(): string[] {
    if (this.names.length === 0 || this.names.includes(defaultName)) {
      return [defaultName];
    }
    return [this.names[0] ?? defaultName];
  }

  // chosen are the checked collections, or the fallback when none is.
  chosen(): string[] {
    const names = this.boxes()
      .filter((b) => b.checked)
      .map((b) => b.value);
    return names.length > 0 ? names : this.fallback();
  }

  // param is the "c" URL parameter for the choice: empty for the fallback.
  param(): string {
    const c = this.chosen();
    return c.join(",") === this.fallback().join(",") ? "" : c.join(",");
  }

  private boxes(): HTMLInputElement[] {
    return [...this.list.querySelectorAll<HTMLInputElement>("input[type=checkbox]")];
  }

  private label(): void {
    this.summary.textContent = this.chosen().join(", ");
  }
}
