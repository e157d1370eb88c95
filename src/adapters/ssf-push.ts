import type { PushResult, SsfTransmitter } from "../app/ssf.js";
import type { Logger } from "./logger.js";

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

/**
 * Push delivery rounds: one every `tickMs`, never two at once; a lock per stream (in the
 * transmitter's store) lets several processors share the work under one `owner`. `stop`
 * waits for the round in flight.
 */
export function pushRounds(transmitter: SsfTransmitter, owner: string, tickMs: number, log: Logger): { stop(): Promise<void> } {
  let stopped = false;
  let busy: Promise<void> | undefined;
  const tick = setInterval(() => {
    if (busy || stopped) return;
    busy = transmitter
      .pushRound(owner, () => !stopped)
      .catch((e: unknown) => log.warn("SSF push round failed", { error: String(e) }))
      .finally(() => (busy = undefined));
  }, tickMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(tick);
      await busy;
    },
  };
}
