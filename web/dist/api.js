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
export async function search(req, apiKey, signal) {
    const headers = { "Content-Type": "application/json" };
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
