// Drives Cari's MCP server through the official TypeScript SDK client, over
// both transports an agent uses: streamable HTTP at /mcp on a running
// cari serve, and `cari mcp --server` started as a subprocess on stdio.
// Compiled with tsc --strict against the SDK's types. Run by
// cmd/cari/e2e_mcp_test.go with CARI_BIN, CARI_URL, CARI_KEY (a search
// key), CARI_ADMIN_KEY, CARI_SIMILAR_URL and CARI_SITE_URL (three linked
// pages on loopback to crawl) set, on a server with the collection docs
// (alias manuals, one document) and the empty collections web-http and
// web-stdio; prints {"ok":true} or exits 1 on the first failure.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function check(cond: boolean, what: string, got?: unknown): asserts cond {
  if (!cond) throw new Error(`${what}; got ${JSON.stringify(got, null, 1)}`);
}

const url = env("CARI_URL");
const key = env("CARI_KEY");
const adminKey = env("CARI_ADMIN_KEY");
const similarURL = env("CARI_SIMILAR_URL");
const siteURL = env("CARI_SITE_URL");
const manualURL = "https://docs.example.com/pump";

// http and stdio connect with withKey, a search key unless told.
function http(withKey: boolean, k: string = key): Transport {
  const headers: Record<string, string> = withKey ? { "x-api-key": k } : {};
  return new StreamableHTTPClientTransport(new URL(url + "/mcp"), { requestInit: { headers } });
}

function stdio(withKey: boolean, k: string = key): Transport {
  const e: Record<string, string> = { PATH: process.env.PATH ?? "" };
  if (withKey) e.CARI_API_KEY = k;
  return new StdioClientTransport({ command: env("CARI_BIN"), args: ["mcp", "--server", url], env: e, stderr: "ignore" });
}

async function connect(t: Transport): Promise<Client> {
  const c = new Client({ name: "cari-ts-test", version: "0.0.0" });
  await c.connect(t);
  return c;
}

type Called = { isError: boolean; text: string; structured: Record<string, unknown> | undefined };

async function call(c: Client, name: string, args: Record<string, unknown>): Promise<Called> {
  const r = await c.callTool({ name, arguments: args });
  const content = (r.content ?? []) as Array<{ type: string; text?: string }>;
  const text = content.filter((x) => x.type === "text").map((x) => x.text ?? "").join("");
  return { isError: r.isError === true, text, structured: r.structuredContent as Record<string, unknown> | undefined };
}

async function exercise(transport: string, c: Client): Promise<void> {
  const { tools } = await c.listTools();
  const names = tools.map((t) => t.name).sort();
  check(names.join(",") === "answer,collections,contents,crawl,find_similar,search", `${transport}: tools`, names);
  for (const t of tools) {
    check(t.inputSchema.type === "object" && t.outputSchema?.type === "object", `${transport}: ${t.name} has input and output schemas`, t);
  }

  const s = await call(c, "search", { query: "volcano", type: "keyword", numResults: 3, includeDomains: ["news.example.com"] });
  check(!s.isError, `${transport}: search failed`, s.text);
  const results = (s.structured?.results ?? []) as Array<{ url: string }>;
  check(results.length > 0 && results.every((r) => r.url.startsWith("https://news.example.com/")), `${transport}: search results from news.example.com`, results);
  check(s.text.includes(results[0].url), `${transport}: search text names the url`, s.text);

  const ct = await call(c, "contents", { urls: [similarURL] });
  check(!ct.isError && ct.text.includes("magma"), `${transport}: contents`, ct.text);

  const fs = await call(c, "find_similar", { url: similarURL, numResults: 2 });
  check(!fs.isError && Array.isArray(fs.structured?.results), `${transport}: find_similar`, fs);

  const a = await call(c, "answer", { query: "Why does a volcano erupt?" });
  check(!a.isError && typeof a.structured?.answer === "string" && a.text.includes("[1]"), `${transport}: answer`, a);

  const bad = await call(c, "search", { query: "volcano", type: "semantic" });
  check(bad.isError && bad.text.includes("type"), `${transport}: a bad type is a tool error naming it`, bad);
  const badType = await call(c, "search", { query: "volcano", numResults: "ten" });
  check(badType.isError && badType.text.includes("numResults"), `${transport}: a mistyped numResults is a tool error naming it`, badType);

  await collections(transport, c);
  const crawl = await call(c, "crawl", { seeds: [siteURL + "/"], allowPrivate: true, collection: `web-${transport}` });
  check(crawl.isError && crawl.text.includes("admin"), `${transport}: crawl with a search key is a tool error asking for an admin key`, crawl);
  await c.close();
}

// collections checks the collection argument, the collections tool and the
// collections as resources.
async function collections(transport: string, c: Client): Promise<void> {
  for (const collection of ["docs", "manuals"]) {
    const s = await call(c, "search", { query: "volcano pump", type: "keyword", collection });
    const urls = ((s.structured?.results ?? []) as Array<{ url: string }>).map((r) => r.url);
    check(!s.isError && urls.length === 1 && urls[0] === manualURL, `${transport}: search in ${collection} finds the manual alone`, s);
    const ct = await call(c, "contents", { urls: [manualURL], collection });
    check(!ct.isError && ct.text.includes("Prime the volcano pump"), `${transport}: contents in ${collection}`, ct);
  }
  const def = await call(c, "search", { query: "volcano pump", type: "keyword" });
  check(!def.isError && !def.text.includes(manualURL), `${transport}: search without a collection stays in default`, def);
  const unknown = await call(c, "search", { query: "volcano", collection: "nowhere" });
  check(unknown.isError && unknown.text.includes('"nowhere"'), `${transport}: an unknown collection is a tool error naming it`, unknown);

  const listed = await call(c, "collections", {});
  check(!listed.isError && listed.text.includes("docs (aliases: manuals): 1 documents"), `${transport}: collections tool`, listed);

  const { resources } = await c.listResources();
  const uris = resources.map((r) => r.uri).sort();
  for (const want of ["cari://collections/default", "cari://collections/docs"]) {
    check(uris.includes(want), `${transport}: resources list ${want}`, uris);
  }
  const { resourceTemplates } = await c.listResourceTemplates();
  check(resourceTemplates.some((t) => t.uriTemplate === "cari://collections/{name}"), `${transport}: resource template`, resourceTemplates);
  const read = await c.readResource({ uri: "cari://collections/manuals" });
  const first = read.contents[0] as { text?: string; mimeType?: string };
  const doc = JSON.parse(first.text ?? "{}") as { name?: string; documents?: number; settings?: { embedder?: string } };
  check(first.mimeType === "application/json" && doc.name === "docs" && doc.documents === 1 && doc.settings?.embedder === "none",
    `${transport}: read cari://collections/manuals`, read);
  let refused = "";
  try {
    await c.readResource({ uri: "cari://collections/nowhere" });
  } catch (e) {
    refused = String(e);
  }
  check(refused.includes('"nowhere"'), `${transport}: reading an unknown collection is an error naming it`, refused);
}

// crawlAsAdmin crawls the site into web-TRANSPORT with the admin key, then
// finds a crawled page there.
async function crawlAsAdmin(transport: string, c: Client): Promise<void> {
  const collection = `web-${transport}`;
  const r = await call(c, "crawl", { seeds: [siteURL + "/"], maxPages: 10, allowPrivate: true, collection });
  check(!r.isError && r.structured?.indexed === 3 && r.structured?.stopReason === "frontier_empty", `${transport}: crawl as admin`, r);
  const s = await call(c, "search", { query: "lighthouse keeper", type: "keyword", collection });
  check(!s.isError && s.text.includes(siteURL + "/keeper"), `${transport}: search finds the crawled page`, s);
  await c.close();
}

async function main(): Promise<void> {
  await exercise("http", await connect(http(true)));
  await exercise("stdio", await connect(stdio(true)));
  await crawlAsAdmin("http", await connect(http(true, adminKey)));
  await crawlAsAdmin("stdio", await connect(stdio(true, adminKey)));

  let refused = "";
  try {
    await connect(http(false));
  } catch (e) {
    refused = String(e);
  }
  // The SDK reports a 401 without an OAuth provider as an HTTP error
  // carrying the body, Cari's google.rpc.Status (code 16, UNAUTHENTICATED).
  check(refused.includes("missing API key"), "http without a key must be refused", refused);

  const noKey = await connect(stdio(false));
  const r = await call(noKey, "search", { query: "volcano" });
  check(r.isError && r.text.includes("API key"), "stdio without a key: a tool error about the API key", r);
  await noKey.close();
  console.log(JSON.stringify({ ok: true }));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
