// Builds the search page into dist/: tsc compiles src/*.ts, and the static
// files are copied beside them. dist/ is committed and embedded in the cari
// binary (web.go), so the output must depend on the sources and the locked
// compiler only: `make check-web` rebuilds it and fails on any difference.
//
// It also writes dist.sha256 (sha256sum's format) with the digests of every
// source and built file, so that `go test ./web` can tell, without npm,
// when src/ was edited and dist/ not rebuilt, or dist/ edited by hand.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const dist = join(root, "dist");
const tsc = join(root, "node_modules", ".bin", "tsc");

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
const r = spawnSync(tsc, ["-p", join(root, "tsconfig.json")], { stdio: "inherit" });
if (r.status !== 0) {
  process.exit(r.status ?? 1);
}
for (const name of readdirSync(src).sort()) {
  if (!name.endsWith(".ts")) {
    copyFileSync(join(src, name), join(dist, name));
  }
}

const lines = [];
for (const dir of ["src", "dist"]) {
  for (const name of readdirSync(join(root, dir)).sort()) {
    const sum = createHash("sha256").update(readFileSync(join(root, dir, name))).digest("hex");
    lines.push(`${sum}  ${dir}/${name}\n`);
  }
}
writeFileSync(join(root, "dist.sha256"), lines.join(""));
