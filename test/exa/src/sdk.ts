// Drives a running `cari serve` through the unmodified exa-js SDK, the way
// an Exa user would after changing only the base URL. Compiled with
// tsc --strict, so the calls and the fields read here type-check against
// the types the SDK ships; each response is also checked at run time
// against those types' shapes. Run by cmd/cari/e2e_exa_test.go with
// CARI_URL, CARI_KEY and CARI_SIMILAR_URL set (and CARI_LIVE_URL, a page
// the server fetches live; CARI_CRAWLED_URL and CARI_CRAWLED_QUERY, a page
// that cari crawl indexed and a query that finds it first; CARI_CORPUS_QUERY and CARI_CORPUS_ID, a query
// and the record of a corpus imported without URLs it finds first); exits
// 1 on the first failure.
import Exa, { ExaError } from "exa-js";
import type { AnswerResponse, AnswerStreamChunk, SearchResponse, SearchResult, ContentsOptions } from "exa-js";
import { check, env } from "./check";

// checkResult checks at run time what SearchResult<T> promises at compile time.
function checkResult<T extends ContentsOptions>(r: SearchResult<T>, want: { text?: boolean; highlights?: boolean; score?: boolean }): void {
  check(typeof r.id === "string" && r.id !== "", "result.id must be a non-empty string", r);
  check(typeof r.url === "string", "result.url must be a string", r);
  check(r.title === null || typeof r.title === "string", "result.title must be a string or null", r);
  check(r.publishedDate === undefined || !Number.isNaN(Date.parse(r.publishedDate)), "result.publishedDate must be a date", r);
  check(r.author === undefined || typeof r.author === "string", "result.author must be a string", r);
  check(want.score ? typeof r.score === "number" : r.score === undefined || typeof r.score === "number", "result.score", r);
  const rec = r as Record<string, unknown>;
  if (want.text) check(typeof rec.text === "string", "result.text must be a string", r);
  if (want.highlights) {
    const hs = rec.highlights, scores = rec.highlightScores;
    check(Array.isArray(hs) && hs.every((h) => typeof h === "string"), "result.highlights must be string[]", r);
    check(Array.isArray(scores) && scores.length === hs.length && scores.every((s) => typeof s === "number" && s >= 0 && s <= 1),
      "result.highlightScores must be number[] in [0, 1], one per highlight", r);
  }
}

function checkResponse<T extends ContentsOptions>(resp: SearchResponse<T>, what: string): void {
  check(typeof resp.requestId === "string" && resp.requestId !== "", `${what}: requestId`, resp);
  check(Array.isArray(resp.results), `${what}: results must be an array`, resp);
  check(resp.resolvedSearchType === undefined || typeof resp.resolvedSearchType === "string", `${what}: resolvedSearchType`, resp);
  check(resp.costDollars === undefined || typeof resp.costDollars.total === "number", `${what}: costDollars.total`, resp);
}

async function expectError(what: string, status: number, call: () => Promise<unknown>, mentions: string): Promise<void> {
  try {
    await call();
  } catch (e) {
    check(e instanceof ExaError, `${what}: want an ExaError`, String(e));
    check(e.statusCode === status, `${what}: want status ${status}`, { statusCode: e.statusCode, message: e.message });
    check(e.message.includes(mentions), `${what}: the message should mention ${mentions}`, e.message);
    return;
  }
  throw new Error(`${what}: succeeded, want an ExaError ${status}`);
}

async function main(): Promise<void> {
  const url = env("CARI_URL");
  const exa = new Exa(env("CARI_KEY"), url);
  const similarURL = env("CARI_SIMILAR_URL");
  const done: string[] = [];

  const plain = await exa.search("volcano eruption magma lava", { numResults: 3, contents: false });
  checkResponse(plain, "search");
  check(plain.results.length > 0, "search: want results", plain);
  plain.results.forEach((r) => checkResult(r, { score: true }));
  done.push("search");

  const withContents = await exa.searchAndContents("volcano eruption magma lava", {
    numResults: 3,
    type: "auto",
    text: { maxCharacters: 60 },
    highlights: { numSentences: 1, highlightsPerUrl: 1 },
  });
  checkResponse(withContents, "searchAndContents");
  check(withContents.results.length > 0, "searchAndContents: want results", withContents);
  for (const r of withContents.results) {
    checkResult(r, { text: true, highlights: true, score: true });
    check(r.text.length <= 60, "searchAndContents: text must be cut to maxCharacters", r.text);
    check(r.highlights.length === 1, "searchAndContents: want one highlight", r.highlights);
  }
  done.push("searchAndContents");

  const filtered = await exa.search("volcano", { numResults: 5, includeDomains: ["news.example.com"], contents: { text: true } });
  checkResponse(filtered, "search with includeDomains");
  check(filtered.results.length > 0 && filtered.results.every((r) => new URL(r.url).hostname === "news.example.com"),
    "search with includeDomains: want only news.example.com", filtered);
  done.push("search with filters");

  const similar = await exa.findSimilar(similarURL, {
    numResults: 3,
    excludeSourceDomain: true,
    includeDomains: ["geo.example.com", "news.example.com"],
  });
  checkResponse(similar, "findSimilar");
  check(similar.results.length > 0, "findSimilar: want results", similar);
  const sourceHost = new URL(similarURL).hostname;
  for (const r of similar.results) {
    checkResult(r, { text: true, score: true });
    check(new URL(r.url).hostname === "news.example.com" && new URL(r.url).hostname !== sourceHost,
      "findSimilar: want news.example.com only (includeDomains, and excludeSourceDomain drops the source's)", r.url);
  }
  done.push("findSimilar");

  const missing = "https://missing.example.com/nothing";
  const contents = await exa.getContents([similarURL, missing], { text: true });
  checkResponse(contents, "getContents");
  check(contents.results.length === 1 && contents.results[0].url === similarURL, "getContents: want the one indexed URL", contents);
  checkResult(contents.results[0], { text: true });
  const statuses = contents.statuses ?? [];
  check(statuses.length === 2 && statuses.every((s) => typeof s.id === "string" && typeof s.status === "string"), "getContents: want a status per URL", statuses);
  check(statuses.some((s) => s.id === missing && s.status === "error"), "getContents: the missing URL's status must be error", statuses);
  done.push("getContents");

  // A site indexed by cari crawl: its pages come back under the URLs the
  // crawler fetched, and getContents and findSimilar take them back.
  const crawledURL = process.env.CARI_CRAWLED_URL, crawledQuery = process.env.CARI_CRAWLED_QUERY;
  if (crawledURL && crawledQuery) {
    const found = await exa.search(crawledQuery, { type: "keyword", numResults: 3, contents: false });
    checkResponse(found, "search over the crawled site");
    found.results.forEach((r) => checkResult(r, { score: true }));
    check(found.results[0]?.url === crawledURL, `search over the crawled site: want ${crawledURL} first`, found);
    const got = await exa.getContents([crawledURL], { text: true });
    check(got.results.length === 1 && got.results[0].url === crawledURL && got.results[0].text.includes("calves"),
      "getContents of a crawled URL: want the crawled page, under its URL", got);
    checkResult(got.results[0], { text: true });
    const host = new URL(crawledURL).hostname, origin = new URL(crawledURL).origin;
    const like = await exa.findSimilar(crawledURL, { numResults: 3, includeDomains: [host] });
    checkResponse(like, "findSimilar of a crawled URL");
    check(like.results.length > 0 && like.results.every((r) => r.url.startsWith(origin + "/") && r.url !== crawledURL),
      "findSimilar of a crawled URL: want the site's other crawled pages, under their URLs", like);
    like.results.forEach((r) => checkResult(r, { text: true, score: true }));
    done.push("search, getContents, findSimilar over a crawled site");
  }

  // A corpus imported without URLs (cari index --corpus): each result still
  // has an absolute URL, and getContents and findSimilar take it back.
  const corpusQuery = process.env.CARI_CORPUS_QUERY, corpusID = process.env.CARI_CORPUS_ID;
  if (corpusQuery && corpusID) {
    const found = await exa.search(corpusQuery, { type: "keyword", numResults: 3, contents: false });
    checkResponse(found, "search over the corpus");
    found.results.forEach((r) => checkResult(r, { score: true }));
    const record = found.results[0];
    check(record !== undefined && record.id === corpusID, `search over the corpus: want ${corpusID} first`, found);
    check(record.url !== "" && new URL(record.url).protocol !== "", "search over the corpus: want an absolute URL", record);
    const got = await exa.getContents([record.url], { text: true });
    check(got.results.length === 1 && got.results[0].id === corpusID && got.results[0].url === record.url,
      "getContents of a corpus record's URL: want the record, under the same URL", got);
    checkResult(got.results[0], { text: true });
    check((got.statuses ?? []).every((s) => s.id === record.url && s.status === "success"), "getContents of a corpus record's URL: want success", got.statuses);
    const like = await exa.findSimilar(record.url, { numResults: 3 });
    checkResponse(like, "findSimilar of a corpus record's URL");
    check(like.results.length > 0 && like.results.every((r) => r.url !== "" && r.id !== corpusID),
      "findSimilar of a corpus record's URL: want other documents, each with a URL", like);
    like.results.forEach((r) => checkResult(r, { text: true, score: true }));
    done.push("search, getContents, findSimilar over a corpus without URLs");
  }

  const liveURL = process.env.CARI_LIVE_URL;
  if (liveURL) {
    // Not indexed: livecrawl fetches it, indexes it and answers with it.
    const live = await exa.getContents([liveURL], { text: true, livecrawl: "always", livecrawlTimeout: 10000, extras: { links: 1, imageLinks: 1 } });
    checkResponse(live, "getContents livecrawl");
    check(live.results.length === 1 && live.results[0].text.includes("lights the lamp at dusk"), "getContents livecrawl: want the fetched page's text", live);
    const origin = new URL(liveURL).origin;
    check(live.results[0].extras.links?.[0] === origin + "/harbour" && live.results[0].extras.imageLinks?.[0] === origin + "/lamp.png",
      "getContents livecrawl: want the page's first link and image in extras", live.results[0].extras);
    check((live.statuses ?? []).some((s) => s.id === liveURL && s.status === "success" && s.source === "crawled"), "getContents livecrawl: want a crawled success status", live.statuses);
    const found = await exa.search("lighthouse keeper lamp dusk", { type: "keyword", numResults: 1, contents: { text: true, livecrawl: "never" } });
    check(found.results.length === 1 && found.results[0].url === liveURL, "search after livecrawl: want the fetched page indexed", found);
    // preferred fetches every result's page again, as searchAndContents asks.
    const fresh = await exa.searchAndContents("lighthouse keeper lamp dusk", { type: "keyword", numResults: 1, text: true, livecrawl: "preferred", livecrawlTimeout: 10000 });
    checkResponse(fresh, "searchAndContents livecrawl");
    check(fresh.results.length === 1 && fresh.results[0].url === liveURL && fresh.results[0].text.includes("lights the lamp at dusk"),
      "searchAndContents livecrawl: want the page fetched again, with its text", fresh);
    check(!(fresh as { warnings?: string[] }).warnings?.some((w) => w.includes("livecrawl")), "searchAndContents livecrawl: want no warning that the fetch failed", fresh);
    done.push("getContents livecrawl, extras, searchAndContents livecrawl");
  }

  const answer: AnswerResponse = await exa.answer("why do volcanoes erupt", { text: true });
  check(typeof answer.answer === "string" && answer.answer.length > 0, "answer: want a string answer", answer);
  check(Array.isArray(answer.citations) && answer.citations.length > 0, "answer: want citations", answer);
  answer.citations.forEach((c) => checkResult(c, { text: true }));
  check((answer as Record<string, unknown>).answerType === "extractive", "answer: want answerType extractive (no LLM configured)", answer);
  done.push("answer (extractive)");

  let streamed = "";
  const cited: NonNullable<AnswerStreamChunk["citations"]> = [];
  for await (const chunk of exa.streamAnswer("why do volcanoes erupt")) {
    streamed += chunk.content ?? "";
    cited.push(...(chunk.citations ?? []));
  }
  check(streamed === answer.answer, "streamAnswer: the streamed text must equal the answer", { streamed, answer: answer.answer });
  check(cited.length === answer.citations.length && cited.every((c) => typeof c.id === "string" && typeof c.url === "string"),
    "streamAnswer: want the same citations", cited);
  done.push("streamAnswer");

  // Summaries, the context string and deep search with given variations
  // need no LLM: the summaries are extractive, and say so.
  const summarized = await exa.searchAndContents("volcano eruption magma lava", {
    numResults: 2,
    summary: { query: "what makes a volcano erupt" },
    context: { maxCharacters: 500 },
  });
  checkResponse(summarized, "searchAndContents with summary");
  check(summarized.results.length > 0, "searchAndContents with summary: want results", summarized);
  for (const r of summarized.results) {
    checkResult(r, { score: true });
    check(typeof r.summary === "string" && r.summary.length > 0, "summary: want a string", r);
    check((r as Record<string, unknown>).summaryType === "extractive", "summary: want summaryType extractive (no LLM configured)", r);
  }
  check(typeof summarized.context === "string" && summarized.context.startsWith("Title: ") && summarized.context.length <= 500,
    "context: want the results as one string of at most 500 characters", summarized.context);
  done.push("searchAndContents with summary and context");

  const deep = await exa.search("volcano", { type: "deep", additionalQueries: ["lava", "ash"], numResults: 3, contents: false });
  checkResponse(deep, "deep search");
  check(deep.resolvedSearchType === "deep" && deep.results.length > 0, "deep search: want fused results, resolvedSearchType deep", deep);
  deep.results.forEach((r) => checkResult(r, { score: true }));
  done.push("deep search (additionalQueries)");

  const collection = process.env.CARI_COLLECTION;
  if (collection) {
    // A collection's endpoints: only the base URL names it. Its one record
    // has no URL, so it gets the collection's URL template.
    const inCollection = new Exa(env("CARI_KEY"), `${url}/c/${collection}`);
    const tides = await inCollection.searchAndContents("tide tables harbour", { numResults: 3, text: true });
    checkResponse(tides, "search in a collection");
    check(tides.results.length === 1 && tides.results[0].id === "tides" && tides.results[0].url === "https://docs.example.org/d/tides",
      "search in a collection: want its record, with its templated url", tides);
    checkResult(tides.results[0], { text: true, score: true });
    const again = await inCollection.getContents([tides.results[0].url], { text: true });
    check(again.results.length === 1 && again.results[0].id === "tides", "getContents in a collection: want the record by its templated url", again);
    const outside = await exa.search("tide tables harbour", { numResults: 3, contents: false });
    check(outside.results.every((r) => r.id !== "tides"), "search on the plain paths: want default only", outside);
    await expectError("unknown collection", 404, () => new Exa(env("CARI_KEY"), `${url}/c/nope`).search("tide", { contents: false }), "nope");
    done.push("collection base URL (/c/NAME), unknown collection (404)");
  }

  await expectError("bad request", 400, () => exa.search("volcano", { numResults: 1000, contents: false }), "numResults");
  done.push("bad request (400)");
  const wrong = new Exa("not-a-key-of-this-server", url);
  await expectError("wrong key", 401, () => wrong.search("volcano", { contents: false }), "invalid API key");
  done.push("wrong key (401)");

  console.log(JSON.stringify({ ok: true, checks: done }));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exit(1);
});
