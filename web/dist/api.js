export class ApiError extends Error {
    status;
    retryAfter;
    constructor(status, message, retryAfter) {
        super(message);
        this.status = status;
        this.retryAfter = retryAfter;
        this.name = "ApiError";
    }
}
export function search(req, apiKey, signal) {
    return call("/v1/search", { method: "POST", body: JSON.stringify(req), signal }, apiKey);
}
export function stats(apiKey, signal, collection = "") {
    const q = collection === "" ? "" : `?collection=${encodeURIComponent(collection)}`;
    return call(`/v1/stats${q}`, { method: "GET", signal }, apiKey);
}
export function listCollections(apiKey, signal) {
    return call("/v1/collections", { method: "GET", signal }, apiKey);
}
async function call(path, init, apiKey) {
    const headers = { "Content-Type": "application/json" };
    if (apiKey !== "") {
        headers["X-Api-Key"] = apiKey;
    }
    const resp = await fetch(path, { ...init, headers });
    const text = await resp.text();
    let body;
    try {
        body = JSON.parse(text);
    }
    catch {
        body = undefined;
    }
    if (!resp.ok) {
        const message = typeof body === "object" && body !== null && "message" in body && typeof body.message === "string"
            ? body.message
            : `${resp.status} ${resp.statusText}`;
        throw new ApiError(resp.status, message, resp.headers.get("Retry-After"));
    }
    return body;
}
export function seconds(d) {
    if (d === undefined || !d.endsWith("s")) {
        return 0;
    }
    const n = Number(d.slice(0, -1));
    return Number.isFinite(n) ? n : 0;
}
