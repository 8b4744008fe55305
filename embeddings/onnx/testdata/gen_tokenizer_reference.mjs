// Writes tokenizer_reference.json: what Hugging Face's own tokenizers
// library (the Rust crate, through the npm package @anush008/tokenizers)
// makes of test sentences with tiny-bert/tokenizer.json. The Go tests
// check Cari's tokenizer against it. Run from this directory:
//
//	npm install --prefix /tmp/tok @anush008/tokenizers@0.6.0
//	NODE_PATH=/tmp/tok/node_modules node gen_tokenizer_reference.mjs
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const { Tokenizer } = require("@anush008/tokenizers");

const sentences = [
  "The cat sat on the mat.",
  "THE DOG sat, unable!",
  "playing runs played",
  "Café naïve résumé",
  "中文 search",
  "unknownword xyz",
  "  spaces\tand\nnewlines  ",
  "dog's 2023 -0.5",
  "",
  "the the the the the the the the the the the the the the the the the the the the",
];

const tok = Tokenizer.fromFile("tiny-bert/tokenizer.json");
const out = [];
for (const s of sentences) {
  const enc = await tok.encode(s);
  out.push({ text: s, ids: enc.getIds(), type_ids: enc.getTypeIds(), tokens: enc.getTokens() });
}
writeFileSync("tokenizer_reference.json", "[\n" + out.map((o) => JSON.stringify(o)).join(",\n") + "\n]\n");
