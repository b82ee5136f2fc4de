// One WebSocket to /ws that comes back by itself: requests with ids, and reconnection
// with a growing, jittered delay. What to re-subscribe after a reconnect is the
// caller's business (onOpen), so that it can resume each project after its last seq.

import type { Ack, Connected, RequestFields, RequestType, ServerMessage } from "./wire";

export type ConnectionState = "connecting" | "online" | "offline";

export class RequestFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** With ``history_trimmed``: the oldest event the server still has. */
    readonly firstSeq: number | null = null,
  ) {
    super(message);
  }
}

interface Handlers {
  onOpen(snapshot: Connected): void;
  onMessage(message: ServerMessage): void;
  onState(state: ConnectionState, retryInMs: number | null): void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

export class Connection {
  private socket: WebSocket | null = null;
  private nextId = 1;
  private pending = new Map<number, { resolve(ack: Ack): void; reject(e: Error): void }>();
  private retryMs = FIRST_RETRY_MS;

  constructor(
    private readonly url: string,
    private readonly protocols: string[],
    private readonly handlers: Handlers,
  ) {}

  start(): void {
    this.open();
  }

  /** Send a request (its ``id`` is added); its ack, or its error as ``RequestFailed``. */
  request<T extends RequestType>(type: T, fields: RequestFields<T>): Promise<Ack> {
    const socket = this.socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new RequestFailed("offline", "not connected to the server"));
    }
    const id = this.nextId++;
    return new Promise<Ack>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ type, id, ...fields }));
    });
  }

  private open(): void {
    this.handlers.onState("connecting", null);
    const socket = new WebSocket(this.url, this.protocols);
    this.socket = socket;
    let opened = false;
    socket.onmessage = (frame) => {
      const message = JSON.parse(String(frame.data)) as ServerMessage;
      if (message.type === "connected") {
        opened = true;
        this.retryMs = FIRST_RETRY_MS;
        this.handlers.onState("online", null);
        this.handlers.onOpen(message);
        return;
      }
      if (message.type === "ack" || message.type === "error") {
        const waiting = typeof message.id === "number" ? this.pending.get(message.id) : undefined;
        if (waiting !== undefined && typeof message.id === "number") {
          this.pending.delete(message.id);
          if (message.type === "ack") waiting.resolve(message);
          else waiting.reject(new RequestFailed(message.code, message.message, message.first_seq ?? null));
          return;
        }
      }
      this.handlers.onMessage(message);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      for (const waiting of this.pending.values()) {
        waiting.reject(new RequestFailed("offline", "the connection closed"));
      }
      this.pending.clear();
      if (!opened) this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      const delay = Math.round(this.retryMs * (0.75 + Math.random() * 0.5));
      this.handlers.onState("offline", delay);
      window.setTimeout(() => this.open(), delay);
    };
  }
}
