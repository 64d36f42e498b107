/**
 * The WebSocket client: one connection per signed-in tab, the access token in the `token` query
 * parameter, `{"action":"ping"}` every few minutes (the server forgets silent connections after 11),
 * reconnection with exponential backoff and jitter, and duplicate pushes dropped by envelope id.
 */
import { create } from "zustand";

export type LiveStatus = "offline" | "connecting" | "open" | "reconnecting";

export interface LiveMessage<T = Record<string, unknown>> {
  id?: string;
  type: string;
  data: T;
  [key: string]: unknown;
}

export interface TimelineUpdated {
  user_id: string;
  action: "added" | "removed";
  post_ids: string[];
  author_id: string;
}

export interface NotificationCreated {
  notification_id: string;
  user_id: string;
  kind: "like" | "comment" | "follow" | "mention";
  from_user_id: string;
  post_id: string | null;
  comment_id: string | null;
  text: string | null;
}

type Listener = (message: LiveMessage) => void;
type SocketFactory = (url: string) => WebSocket;
type ActiveSocketListener = (socket: LiveSocket | null) => void;

// The running socket, for code that did not create it but sends on it (live post stats, src/lib/live-stats.ts).
let activeSocket: LiveSocket | null = null;
const activeSocketListeners = new Set<ActiveSocketListener>();

function setActiveSocket(socket: LiveSocket | null): void {
  if (activeSocket === socket) return;
  activeSocket = socket;
  for (const listener of activeSocketListeners) listener(socket);
}

/** Calls `listener` with the running socket now and whenever another starts or it stops (null). */
export function onActiveSocket(listener: ActiveSocketListener): () => void {
  activeSocketListeners.add(listener);
  listener(activeSocket);
  return () => {
    activeSocketListeners.delete(listener);
  };
}

export interface LiveSocketOptions {
  url: string;
  /** The current access token (null: stay offline). */
  getToken: () => string | null;
  /** Runs before each reconnection: e.g. a request that refreshes an expired token. */
  beforeReconnect?: () => Promise<void>;
  createSocket?: SocketFactory;
  pingIntervalMs?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
}

export const useLiveStatus = create<{ status: LiveStatus; set: (status: LiveStatus) => void }>()((set) => ({
  status: "offline",
  set: (status) => set({ status }),
}));

/** Delay before reconnection attempt `attempt` (0-based): doubling from min to max, with ±50 % jitter. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 20));
  return Math.round(base / 2 + random() * (base / 2));
}

export class LiveSocket {
  private readonly options: Required<Omit<LiveSocketOptions, "beforeReconnect">> &
    Pick<LiveSocketOptions, "beforeReconnect">;
  private socket: WebSocket | null = null;
  private listeners = new Map<string, Set<Listener>>();
  private seen: string[] = [];
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private running = false;
  private wasOpen = false;

  constructor(options: LiveSocketOptions) {
    this.options = {
      createSocket: (url) => new WebSocket(url),
      pingIntervalMs: 4 * 60_000,
      minDelayMs: 500,
      maxDelayMs: 30_000,
      random: Math.random,
      ...options,
    };
  }

  /** Listen to one message type ("*" for all, "open" after each (re)connection). */
  on<T = Record<string, unknown>>(type: string, listener: (message: LiveMessage<T>) => void): () => void {
    const set = this.listeners.get(type) ?? new Set<Listener>();
    set.add(listener as Listener);
    this.listeners.set(type, set);
    return () => set.delete(listener as Listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    setActiveSocket(this);
    this.open();
  }

  stop(): void {
    this.running = false;
    if (activeSocket === this) setActiveSocket(null);
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState < 2) socket.close(1000, "bye");
    useLiveStatus.getState().set("offline");
  }

  /** Sends a message (`{"action": ...}`) if the socket is open; false otherwise (an "open" listener resends). */
  send(message: Record<string, unknown>): boolean {
    if (this.socket?.readyState !== 1) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** Whether messages can be sent now. */
  get isOpen(): boolean {
    return this.socket?.readyState === 1;
  }

  /** Reconnect now (e.g. the browser came back online). */
  reconnectNow(): void {
    if (!this.running || this.socket?.readyState === 1) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.attempt = 0;
    void this.reconnect();
  }

  private open(): void {
    const token = this.options.getToken();
    if (!token) {
      this.stop();
      return;
    }
    useLiveStatus.getState().set(this.wasOpen || this.attempt > 0 ? "reconnecting" : "connecting");
    const separator = this.options.url.includes("?") ? "&" : "?";
    const socket = this.options.createSocket(`${this.options.url}${separator}token=${encodeURIComponent(token)}`);
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.wasOpen = true;
      useLiveStatus.getState().set("open");
      this.startPing();
      this.emit({ type: "open", data: {} });
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket || typeof event.data !== "string") return;
      let message: LiveMessage;
      try {
        message = JSON.parse(event.data) as LiveMessage;
      } catch {
        return;
      }
      if (!message || typeof message.type !== "string") return;
      if (message.id) {
        if (this.seen.includes(message.id)) return;
        this.seen.push(message.id);
        if (this.seen.length > 200) this.seen.shift();
      }
      this.emit(message);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.clearTimers();
      if (!this.running) return;
      useLiveStatus.getState().set("reconnecting");
      const delay = backoffDelay(this.attempt, this.options.minDelayMs, this.options.maxDelayMs, this.options.random);
      this.attempt += 1;
      this.retryTimer = setTimeout(() => void this.reconnect(), delay);
    };
    socket.onerror = () => {
      // onclose follows and schedules the retry.
    };
  }

  private async reconnect(): Promise<void> {
    this.retryTimer = null;
    if (!this.running) return;
    try {
      await this.options.beforeReconnect?.();
    } catch {
      // Still try: the socket's own failure schedules the next attempt.
    }
    if (this.running && !this.socket) this.open();
  }

  private startPing(): void {
    this.pingTimer = setInterval(() => {
      if (this.socket?.readyState === 1) this.socket.send(JSON.stringify({ action: "ping" }));
    }, this.options.pingIntervalMs);
  }

  private clearTimers(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private emit(message: LiveMessage): void {
    for (const key of [message.type, "*"]) {
      for (const listener of this.listeners.get(key) ?? []) {
        try {
          listener(message);
        } catch (error) {
          console.error("live update listener failed", error);
        }
      }
    }
  }
}
