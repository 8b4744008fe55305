// The slice of Cari's HTTP/JSON API (proto JSON, lowerCamelCase) the page
// uses: POST /v1/search, GET /v1/stats and GET /v1/collections.
// docs/API.md and /openapi.json describe the rest.

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
  // One collection (absent: "default"), or several, fused by rank.
  collection?: string;
  collections?: string[];
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
  // The collection the document is in (its name, never an alias).
  collection?: string;
}

export interface SearchResponse {
  requestId: string;
  resolvedSearchType: SearchType;
  results: Result[];
  timings: { stage: string; duration: string }[];
  totalDuration?: string;
}

export interface EmbeddingModel {
  provider: string;
  name: string;
  dimension: number;
  // "provider/name@version", as search responses name it too.
  id: string;
}

export interface GenerationInfo {
  name: string;
  state: string;
  createTime?: string;
  documents?: string;
}

// StatsResponse is GetStats; int64 fields arrive as strings, and fields at
// their zero value are left out.
export interface StatsResponse {
  documents?: string;
  servingGeneration?: string;
  embeddingModel?: EmbeddingModel;
  store?: string;
  generations?: GenerationInfo[];
  exampleQueries?: string[];
  // When a write last changed the index; absent where the store does not
  // record it (Qdrant).
  lastWriteTime?: string;
}

// Collection is one of ListCollections' collections.
export interface Collection {
  name: string;
  aliases?: string[];
  // int64, as a string; absent when the server could not count them.
  documentCount?: string;
  // Absent for a keyword-only collection.
  embeddingModel?: EmbeddingModel;
}

export interface ListCollectionsResponse {
  collections?: Collection[];
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
export function search(req: SearchRequest, apiKey: string, signal: AbortSignal): Promise<SearchResponse> {
  return call<SearchResponse>("/v1/search", { method: "POST", body: JSON.stringify(req), signal }, apiKey);
}

// stats describes a collection (GetStats; "" is default), for the
// landing page.
export function stats(apiKey: string, signal: AbortSignal, collection = ""): Promise<StatsResponse> {
  const q = collection === "" ? "" : `?collection=${encodeURIComponent(collection)}`;
  return call<StatsResponse>(`/v1/stats${q}`, { method: "GET", signal }, apiKey);
}

// listCollections lists the collections the key may use, with their
// sizes and models, for the collection picker.
export function listCollections(apiKey: string, signal: AbortSignal): Promise<ListCollectionsResponse> {
  return call<ListCollectionsResponse>("/v1/collections", { method: "GET", signal }, apiKey);
}

async function call<T>(path: string, init: RequestInit, apiKey: string): Promise<T> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (apiKey !== "") {
    headers["X-Api-Key"] = apiKey;
  }
  const resp = await fetch(path, { ...init, headers });
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
  return body as T;
}

// seconds turns a proto JSON duration ("0.003120s") into seconds.
export function seconds(d: string | undefined): number {
  if (d === undefined || !d.endsWith("s")) {
    return 0;
  }
  const n = Number(d.slice(0, -1));
  return Number.isFinite(n) ? n : 0;
}
