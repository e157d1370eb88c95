import type { PushResult } from "../app/ssf.js";

// RFC 8935 push delivery: one SET per POST, `application/secevent+jwt`; 202 (any 2xx) is
// delivered, 400 with `{"err","description"}` is the receiver refusing that SET (not
// retried), anything else — another status, a redirect (never followed), a timeout, a
// refused connection — is a failure the transmitter retries with backoff.

const MAX_ERROR_BODY = 4096;

export function httpPush(timeoutMs: number) {
  return async (endpointUrl: string, token: string, authorizationHeader: string | undefined): Promise<PushResult> => {
    let res: Response;
    try {
      res = await fetch(endpointUrl, {
        method: "POST",
        headers: {
          "content-type": "application/secevent+jwt",
          accept: "application/json",
          ...(authorizationHeader !== undefined ? { authorization: authorizationHeader } : {}),
        },
        body: token,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : "";
      return { kind: "failed", detail: `${e instanceof Error ? e.message : String(e)}${cause}` };
    }
    const text = (await res.text().catch(() => "")).slice(0, MAX_ERROR_BODY);
    if (res.status >= 200 && res.status < 300) return { kind: "delivered" };
    if (res.status === 400) {
      let err = "invalid_request";
      let description: string | undefined;
      try {
        const b = JSON.parse(text) as { err?: unknown; description?: unknown };
        if (typeof b.err === "string") err = b.err.slice(0, 256);
        if (typeof b.description === "string") description = b.description.slice(0, 1024);
      } catch {
        description = text.slice(0, 1024) || undefined;
      }
      return { kind: "rejected", err, ...(description !== undefined ? { description } : {}) };
    }
    return { kind: "failed", detail: `HTTP ${res.status}` };
  };
}
