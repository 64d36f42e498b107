/** A stand-in for the browser's WebSocket in tests: every one made is in `FakeSocket.all`, and the test
 * opens it, feeds it messages and drops it. Pass `(url) => new FakeSocket(url) as unknown as WebSocket`
 * as a LiveSocket's `createSocket`. */
export class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  /** What the app sent, as sent (text frames). */
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  /** The app closes it. */
  close() {
    this.readyState = 3;
    this.onclose?.();
  }
  /** The server accepts it. */
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  /** The connection is lost (the server or the network closed it). */
  drop() {
    this.close();
  }
  /** The server sends `message` as JSON. */
  push(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  /** What the app sent, each frame parsed as JSON. */
  sentMessages(): unknown[] {
    return this.sent.map((data) => JSON.parse(data) as unknown);
  }
}
