/**
 * The budget for response bytes in flight: what answers waiting on their clients hold in
 * memory. A client that sends a request and never reads the answer (or opens 200 HTTP/2
 * streams and reads none) keeps that answer in memory as long as it likes: Deno.serve has no
 * write timeout. So every body of {@linkcode STREAM_MIN_BYTES} or more (in UTF-8 bytes, not
 * characters) is built once per version of its inputs, shared by every response that sends
 * it, and sent as a stream of views of those bytes; each such response counts against the
 * budget until Deno says it was sent (the handler info's `completed`), or the client left:
 *
 * - the shared bytes, once, while any response still sends them (each response streams views
 *   of them, never a copy);
 * - per response, what a streamed answer holds in the runtime whatever its size: its stream,
 *   the resource that pumps it and the chunk in flight, {@linkcode RESPONSE_COST_BYTES}
 *   (measured: 2,000 unread HTTP/2 answers of 12.5 KB and of 1 MB each grew RSS by 46 and
 *   52 KB an answer).
 *
 * A new large answer that would take the total past `maxBytes`, or the per-response part of
 * one connection's answers past `maxBytesPerConnection`, gets a 503 instead. Smaller bodies
 * take Deno's fast path (a stream per response costs about 3 µs, a fifth of a whole bare
 * response): each unread one holds less than {@linkcode STREAM_MIN_BYTES}, and the runtime
 * keeps at most 200 HTTP/2 streams per connection (hyper's default) and one HTTP/1.1 answer.
 *
 * @module
 */

/** Bytes that answers in flight may hold at most, in all. */
export const MAX_BYTES_IN_FLIGHT = 16 * 1024 * 1024;
/** Bytes of per-response state one connection's answers in flight may hold at most. */
export const MAX_BYTES_PER_CONNECTION = 1024 * 1024;
/** Bodies of at least this many UTF-8 bytes are counted and streamed; smaller ones are not. */
export const STREAM_MIN_BYTES = 4 * 1024;
/**
 * Bytes per chunk of a streamed body; a body of at most this many goes as one chunk, given in
 * the stream's start (a pull per chunk costs a round trip through the runtime's pump: as one
 * chunk a 16 KB `/metrics` costs what the same bytes cost as a string).
 */
export const CHUNK_BYTES = 64 * 1024;
/** What one streamed response holds in the runtime until it is sent, whatever its size. */
export const RESPONSE_COST_BYTES = 48 * 1024;

const encoder = new TextEncoder();

/** A response body built once and shared: its text, UTF-8 size, and bytes when streamed. */
export interface SharedBody {
  readonly text: string;
  /** Its size in UTF-8 bytes. */
  readonly byteLength: number;
  /** Present when the body is large enough to be streamed and counted. */
  readonly bytes?: Uint8Array;
}

/**
 * Wraps a built body for sharing: encoded once when it may be large. A text of fewer than a
 * third of {@linkcode STREAM_MIN_BYTES} characters cannot reach it (3 bytes a UTF-16 unit at
 * most) and is not encoded at all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedBody, STREAM_MIN_BYTES } from "./response_budget.ts";
 * assert.equal(sharedBody("{}").bytes, undefined);
 * // 1,366 characters, 4,098 bytes: counted by its bytes, not its characters.
 * const wide = sharedBody("€".repeat(1366));
 * assert.equal(wide.text.length, 1366);
 * assert.equal(wide.byteLength, 4098);
 * assert.ok(wide.byteLength >= STREAM_MIN_BYTES && wide.bytes !== undefined);
 * ```
 */
export function sharedBody(text: string): SharedBody {
  if (text.length * 3 < STREAM_MIN_BYTES) return { text, byteLength: utf8Length(text) };
  const bytes = encoder.encode(text);
  return bytes.length >= STREAM_MIN_BYTES
    ? { text, byteLength: bytes.length, bytes }
    : { text, byteLength: bytes.length };
}

/** UTF-8 length of a short string without encoding it. */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // a pair: two units, four bytes
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

/**
 * How Deno delivers one response (its handler info): `completed` settles once the response
 * is sent or the client is gone; `remoteAddr` names the connection.
 */
export interface Delivery {
  completed: Promise<void>;
  remoteAddr: Deno.Addr;
}

/** The budget. */
export interface ResponseBudget {
  /**
   * The body to send for `body`: `null` for HEAD, its text when small, a counted stream of
   * its shared bytes when large, or `undefined` when that would pass the budget (answer 503).
   * Without a `delivery` (an in-process request), a response counts until its stream ends.
   */
  bodyOf(body: SharedBody, method: string, delivery?: Delivery): BodyInit | null | undefined;
  /** Bytes held now by answers in flight. */
  pinnedBytes(): number;
  /** Connections with answers in flight now. */
  connections(): number;
  /** Answers refused so far because they would have passed the budget. */
  refused(): number;
}

/** The limits of {@linkcode createResponseBudget}. */
export interface BudgetLimits {
  maxBytes?: number;
  maxBytesPerConnection?: number;
}

/** A connection's name, from Deno's handler info. */
function connectionOf(d: Delivery): string {
  const a = d.remoteAddr as Partial<Deno.NetAddr> & { path?: string | null };
  return a.port === undefined ? `unix:${a.path ?? ""}` : `${a.hostname}:${a.port}`;
}

/**
 * Creates a budget. Bytes shared by many responses count once; each response adds what it
 * holds of its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createResponseBudget, sharedBody } from "./response_budget.ts";
 * const budget = createResponseBudget({ maxBytes: 150_000 });
 * const big = sharedBody("x".repeat(70_000));
 * const res = new Response(budget.bodyOf(big, "GET"));
 * assert.equal(budget.pinnedBytes(), 70_000 + 48 * 1024);
 * assert.equal(budget.bodyOf(sharedBody("y".repeat(70_000)), "GET"), undefined); // over
 * assert.equal((await res.text()).length, 70_000);
 * assert.equal(budget.pinnedBytes(), 0); // sent: released
 * ```
 */
export function createResponseBudget(opts: BudgetLimits = {}): ResponseBudget {
  const max = opts.maxBytes ?? MAX_BYTES_IN_FLIGHT;
  const maxPerConnection = opts.maxBytesPerConnection ?? MAX_BYTES_PER_CONNECTION;
  // Shared bytes -> responses still sending them; connection -> bytes its responses hold.
  const senders = new Map<Uint8Array, number>();
  const perConnection = new Map<string, number>();
  let pinned = 0, refused = 0;

  function take(bytes: Uint8Array, own: number, conn: string): () => void {
    const n = senders.get(bytes) ?? 0;
    if (n === 0) pinned += bytes.length;
    senders.set(bytes, n + 1);
    pinned += own;
    perConnection.set(conn, (perConnection.get(conn) ?? 0) + own);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      pinned -= own;
      const c = perConnection.get(conn)! - own;
      if (c > 0) perConnection.set(conn, c);
      else perConnection.delete(conn);
      const left = senders.get(bytes)! - 1;
      if (left > 0) return void senders.set(bytes, left);
      senders.delete(bytes);
      pinned -= bytes.length;
    };
  }

  return {
    bodyOf(body, method, delivery) {
      if (method === "HEAD") return null;
      const bytes = body.bytes;
      if (bytes === undefined) return body.text;
      const own = RESPONSE_COST_BYTES;
      const shared = senders.has(bytes) ? 0 : bytes.length;
      const conn = delivery ? connectionOf(delivery) : "in-process";
      if (
        pinned + shared + own > max || (perConnection.get(conn) ?? 0) + own > maxPerConnection
      ) {
        refused++;
        return undefined;
      }
      const release = take(bytes, own, conn);
      // Deno settles `completed` once the last byte is handed to the connection, or the
      // client is gone; without it (in-process) the stream's end is the best there is.
      delivery?.completed.then(release, release);
      return stream(bytes, delivery ? () => {} : release);
    },
    pinnedBytes: () => pinned,
    connections: () => perConnection.size,
    refused: () => refused,
  };
}

/** A stream of views of `bytes` (no copies), calling `done` at its end or when cancelled. */
function stream(bytes: Uint8Array, done: () => void): ReadableStream<Uint8Array> {
  if (bytes.length <= CHUNK_BYTES) {
    return new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
        done();
      },
      cancel: done,
    });
  }
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const end = Math.min(at + CHUNK_BYTES, bytes.length);
      // A view, not a copy: a copy per chunk is garbage at the rate clients read (100
      // connections pushed RSS up 73 MiB that way, views 1.6 MiB). A default stream does
      // not transfer what it is given, so the shared bytes stay whole for the next reader.
      controller.enqueue(bytes.subarray(at, end));
      at = end;
      if (at >= bytes.length) {
        controller.close();
        done();
      }
    },
    cancel: done,
  });
}
