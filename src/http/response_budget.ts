/**
 * The budget for response bytes waiting on their clients. A client that sends a request and
 * never reads the answer (or opens 200 HTTP/2 streams and reads none) keeps that answer in
 * memory for as long as it likes: Deno.serve has no write timeout. So a large body is built
 * once per version of its inputs and shared by every response that sends it, and is sent as
 * a stream of views of those shared bytes that counts them as pinned until the last chunk
 * is taken or the client goes away. A new large body that would pin more than the budget gets a
 * 503 instead. Bodies under {@linkcode STREAM_MIN_CHARS} take Deno's fast path (a stream per
 * response would double the cost of a normal /metrics): each unread one holds at most that.
 *
 * @module
 */

/** Bytes that large bodies waiting on clients may pin at most. */
export const MAX_PINNED_BYTES = 64 * 1024 * 1024;
/** Bodies of at least this many UTF-16 units are counted and streamed; smaller ones are not. */
export const STREAM_MIN_CHARS = 64 * 1024;
/** Bytes per chunk of a streamed body: what one stalled response holds in the runtime. */
const CHUNK_BYTES = 16 * 1024;

const encoder = new TextEncoder();

/** A response body built once and shared: the text, and its bytes when it is large. */
export interface SharedBody {
  readonly text: string;
  /** Present when the body is large enough to be counted against the budget. */
  readonly bytes?: Uint8Array;
}

/**
 * Wraps a built body for sharing: encoded once when it is large.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedBody, STREAM_MIN_CHARS } from "./response_budget.ts";
 * assert.equal(sharedBody("{}").bytes, undefined);
 * assert.equal(sharedBody("x".repeat(STREAM_MIN_CHARS)).bytes?.length, STREAM_MIN_CHARS);
 * ```
 */
export function sharedBody(text: string): SharedBody {
  return text.length >= STREAM_MIN_CHARS ? { text, bytes: encoder.encode(text) } : { text };
}

/** The budget. */
export interface ResponseBudget {
  /**
   * The body to send for `body`: its text when small or for HEAD, a counted stream of its
   * shared bytes when large, or `undefined` when that would pass the budget (answer 503).
   */
  bodyOf(body: SharedBody, method: string): BodyInit | null | undefined;
  /** Bytes pinned now by large bodies still being sent. */
  pinnedBytes(): number;
}

/**
 * Creates a budget of `maxPinnedBytes`. Bytes shared by many responses count once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createResponseBudget, sharedBody } from "./response_budget.ts";
 * const budget = createResponseBudget({ maxPinnedBytes: 100_000 });
 * const big = sharedBody("x".repeat(70_000));
 * const res = new Response(budget.bodyOf(big, "GET"));
 * assert.equal(budget.pinnedBytes(), 70_000);
 * assert.equal(budget.bodyOf(sharedBody("y".repeat(70_000)), "GET"), undefined); // over
 * assert.equal((await res.text()).length, 70_000);
 * assert.equal(budget.pinnedBytes(), 0); // sent: released
 * ```
 */
export function createResponseBudget(
  opts: { maxPinnedBytes?: number } = {},
): ResponseBudget {
  const max = opts.maxPinnedBytes ?? MAX_PINNED_BYTES;
  // Shared bytes -> responses still sending them.
  const senders = new Map<Uint8Array, number>();
  let pinned = 0;

  function release(bytes: Uint8Array): void {
    const n = senders.get(bytes)!;
    if (n > 1) return void senders.set(bytes, n - 1);
    senders.delete(bytes);
    pinned -= bytes.length;
  }

  function stream(bytes: Uint8Array): ReadableStream<Uint8Array> {
    let at = 0, done = false;
    const finish = () => {
      if (!done) release(bytes);
      done = true;
    };
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        const end = Math.min(at + CHUNK_BYTES, bytes.length);
        // A view, not a copy: a copy per chunk is garbage at the rate clients read (100
        // connections pushed RSS up 73 MiB that way, views 1.6 MiB). A default stream does
        // not transfer what it is given, so the shared bytes stay whole for the next reader.
        controller.enqueue(bytes.subarray(at, end));
        at = end;
        if (at >= bytes.length) {
          finish();
          controller.close();
        }
      },
      cancel: finish,
    });
  }

  return {
    bodyOf(body, method) {
      if (method === "HEAD") return null;
      const bytes = body.bytes;
      if (bytes === undefined) return body.text;
      const n = senders.get(bytes);
      if (n === undefined) {
        if (pinned + bytes.length > max) return undefined;
        pinned += bytes.length;
      }
      senders.set(bytes, (n ?? 0) + 1);
      return stream(bytes);
    },
    pinnedBytes: () => pinned,
  };
}
