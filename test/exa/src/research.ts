// Drives the Research API of a running `cari serve` through the unmodified
// exa-js SDK's research client: create, pollUntilFinished, get (with
// events, and streamed), list with its cursor, a JSON Schema output and a
// bad request. The server's agent runs on a scripted chat model server
// (cmd/cari/e2e_research_test.go), so the reports are known. Run with
// CARI_URL and CARI_KEY set; exits 1 on the first failure.
import Exa, { ExaError } from "exa-js";
import type { Research, ResearchEvent, ListResearchResponse } from "exa-js";
import { check, env } from "./check";

// checkTask checks at run time what Research promises at compile time.
function checkTask(r: Research, what: string): void {
  check(typeof r.researchId === "string" && r.researchId !== "", `${what}: researchId`, r);
  check(typeof r.createdAt === "number" && typeof r.instructions === "string", `${what}: createdAt, instructions`, r);
  check(["pending", "running", "completed", "canceled", "failed"].includes(r.status), `${what}: status`, r);
}

function checkEvent(e: ResearchEvent, id: string): void {
  check(e.researchId === id && typeof e.createdAt === "number" && typeof e.eventType === "string", "event: researchId, createdAt, eventType", e);
}

async function main(): Promise<void> {
  const exa = new Exa(env("CARI_KEY"), env("CARI_URL"));
  const done: string[] = [];

  const created = await exa.research.create({ instructions: "Why do volcanoes erupt?", model: "exa-research" });
  checkTask(created, "create");
  check(created.status === "pending" || created.status === "running", "create: want pending or running", created);
  done.push("research.create");

  const finished = await exa.research.pollUntilFinished(created.researchId, { pollInterval: 50, timeoutMs: 60000, events: true });
  checkTask(finished, "pollUntilFinished");
  check(finished.status === "completed", "pollUntilFinished: want completed", finished);
  if (finished.status !== "completed") return;
  check(finished.output.content.includes("[1]") && finished.output.content.includes("## Sources"), "report: want citations and sources", finished.output);
  check(typeof finished.costDollars.total === "number" && finished.costDollars.numSearches === 1 && finished.costDollars.numPages === 1,
    "costDollars: want one search and one page", finished.costDollars);
  const events = finished.events ?? [];
  events.forEach((e) => checkEvent(e, created.researchId));
  check(events[0]?.eventType === "research-definition" && events[events.length - 1]?.eventType === "research-output",
    "events: want research-definition first and research-output last", events);
  done.push("research.pollUntilFinished (events)");

  const plain = await exa.research.get(created.researchId);
  check(plain.status === "completed" && plain.events === undefined, "get: want completed, without events unless asked", plain);
  done.push("research.get");

  const streamed: string[] = [];
  for await (const e of await exa.research.get(created.researchId, { stream: true, events: true })) {
    checkEvent(e, created.researchId);
    streamed.push(e.eventType);
  }
  check(streamed.length === events.length && streamed[streamed.length - 1] === "research-output", "get stream: want every event, research-output last", streamed);
  done.push("research.get (stream)");

  const schema = { type: "object", required: ["answer"], properties: { answer: { type: "string" } }, additionalProperties: false };
  const typed = await exa.research.create({ instructions: "What rises through the crust?", model: "exa-research", outputSchema: schema });
  const typedDone = await exa.research.pollUntilFinished(typed.researchId, { pollInterval: 50, timeoutMs: 60000 });
  check(typedDone.status === "completed", "outputSchema: want completed", typedDone);
  if (typedDone.status !== "completed") return;
  check(typedDone.output.parsed?.answer === "magma" && JSON.parse(typedDone.output.content).answer === "magma", "outputSchema: want parsed {answer: magma}", typedDone.output);
  done.push("research.create (outputSchema)");

  const page: ListResearchResponse = await exa.research.list({ limit: 1 });
  check(page.data.length === 1 && page.data[0].researchId === typed.researchId && page.hasMore && typeof page.nextCursor === "string",
    "list: want the newest task and a cursor", page);
  const next = await exa.research.list({ limit: 1, cursor: page.nextCursor ?? undefined });
  check(next.data.length === 1 && next.data[0].researchId === created.researchId && !next.hasMore && next.nextCursor === null,
    "list with cursor: want the older task, last", next);
  done.push("research.list (cursor)");

  try {
    await exa.research.create({ instructions: "" });
    throw new Error("create without instructions succeeded");
  } catch (e) {
    check(e instanceof ExaError && e.statusCode === 400 && e.message.includes("instructions"), "create without instructions: want a 400 naming instructions", String(e));
  }
  done.push("bad request (400)");

  console.log(JSON.stringify({ ok: true, checks: done }));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exit(1);
});
