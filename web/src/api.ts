// The slice of Cari's HTTP/JSON API (proto JSON, lowerCamelCase) the page
// uses: POST /v1/search. docs/API.md and /openapi.json describe the rest.

export type SearchType =
  | "SEARCH_TYPE_AUTO"
  | "SEARCH_TYPE_KEYWORD"
  | "SEARCH_TYPE_NEURAL"
  | "SEARCH_TYPE_HYBRID";

export interface TimeRange {
  start?: string;
  end?: string;
}

export interface SearchRequest {
  query: string;
  type: SearchType;
  numResults: number;
  filters?: {
    includeDomains?: string[];
    excludeDomains?: string[];
    publishedDate?: TimeRange;
  };
  contents: {
    highlights: { numSentences?: number; perUrl?: number };
  };
}

export interface Result {
  id: string;
  url: string;
  title: string;
  score: number;
  publishedDate?: string;
  crawlDate?: string;
  author: string;
  highlights: string[];
  highlightScores: number[];
  domain: string;
  // BCP 47 tag, given at indexing or detected; absent when unknown.
  language?: string;
}

export interface SearchResponse {
  requestId: string;
  resolvedSearchType: SearchType;
  results: Result[];
  timings: { stage: string; duration: string }[];
  totalDuration?: string;
}

// ApiError is a failed call: the HTTP status and the google.rpc.Status the
// server sent, whose message names the offending field.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter: string | null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

// search runs one search; apiKey is sent when set.
export async function search(
  req: SearchRequest,
  apiKey: string,
  signal: AbortSignal,
): Promise<SearchResponse> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (apiKey !== "") {
    headers["X-Api-Key"] = apiKey;
  }
  const resp = await fetch("/v1/search", {
    method: "POST",
    headers,
    body: JSON.stringify(req),
    signal,
  });
  const text = await resp.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!resp.ok) {
    const message =
      typeof body === "object" && body !== null && "message" in body && typeof body.message === "string"
        ? body.message
        : `${resp.status} ${resp.statusText}`;
    throw new ApiError(resp.status, message, resp.headers.get("Retry-After"));
  }
  return body as SearchResponse;
}

// seconds turns a proto JSON duration ("0.003120s") into seconds.
export function seconds(d: string | undefined): number {
  if (d === undefined || !d.endsWith("s")) {
    return 0;
  }
  const n = Number(d.slice(0, -1));
  return Number.isFinite(n) ? n : 0;
}
