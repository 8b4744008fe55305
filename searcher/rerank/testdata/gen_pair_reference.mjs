// Writes pair_reference.json: what Hugging Face's own tokenizers library
// (the Rust crate, through the npm package @anush008/tokenizers) makes of
// (query, passage) pairs with each tiny cross-encoder's tokenizer.json,
// truncating the passage only (strategy OnlySecond) as Cari does. The Go
// tests check Cari's pair encoding against it, and gen_cross_encoder.py
// computes the expected scores from these ids. Run from this directory:
//
//	npm install --prefix /tmp/tok @anush008/tokenizers@0.6.0
//	NODE_PATH=/tmp/tok/node_modules node gen_pair_reference.mjs
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const { Tokenizer } = require("@anush008/tokenizers");

const longPassage = Array.from({ length: 40 }, (_, i) => ["the cat sat on the mat", "protein cell gene", "search engine vector model"][i % 3]).join(". ");

// max_length 64 is what Cari derives from the models' config.json
// (max_position_embeddings 64, less 2 for XLM-R's offset, capped at 512).
const cases = [
  { query: "what does the cat do?", passage: "The cat sat on the mat.", max_length: 64 },
  { query: "search engine", passage: "A vector model for search, unable to run!", max_length: 64 },
  { query: "protein gene", passage: "Cell 2023: protein-gene playing runs played.", max_length: 64 },
  { query: "Dog", passage: "", max_length: 64 },
  { query: "unknownword xyz", passage: "the dog's mat", max_length: 64 },
  { query: "how is the mat", passage: longPassage, max_length: 64 },
  { query: "how is the mat", passage: longPassage, max_length: 24 },
  { query: "cat", passage: "the cat sat on the mat the dog sat on the mat", max_length: 12 },
];

const out = {};
for (const model of ["tiny-bert-ce", "tiny-xlmr-ce"]) {
  const tok = Tokenizer.fromFile(`${model}/tokenizer.json`);
  out[model] = [];
  for (const c of cases) {
    tok.setTruncation(c.max_length, { strategy: "OnlySecond" });
    const enc = await tok.encode(c.query, c.passage);
    out[model].push({ ...c, ids: enc.getIds(), type_ids: enc.getTypeIds(), tokens: enc.getTokens() });
  }
}
writeFileSync("pair_reference.json", JSON.stringify(out, null, 1) + "\n");
