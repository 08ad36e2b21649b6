// Live events over the WebSocket: a fresh ticket for every connection,
// reconnects with backoff while signed in, stops for good after this
// session is revoked.

import { api, currentSessionId, isSignedIn } from './api.js';

export class LiveEvents {
  /**
   * `onEvent(msg)` gets every parsed message; `onRevoked(reason)` is called
   * once when this session is ended elsewhere.
   */
  constructor({ onEvent, onRevoked }) {
    this.onEvent = onEvent;
    this.onRevoked = onRevoked;
    this.ws = null;
    this.stopped = true;
    this.attempt = 0;
    this.retryTimer = null;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.connect();
  }

  /** Closes the socket and gives up reconnecting. */
  stop() {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= 1) {
      try { ws.close(1000); } catch { /* ignore */ }
    }
  }

  async connect() {
    if (this.stopped) return;
    let ticket;
    try {
      ticket = await api('POST', '/api/ws/token');
    } catch (e) {
      if (e.status === 401 || e.status === 403) { this.stop(); return; }
      this.retry();
      return;
    }
    if (this.stopped || !ticket || !ticket.token) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    let ws;
    try {
      ws = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(ticket.token)}`);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => { this.attempt = 0; });
    ws.addEventListener('message', (ev) => this.handle(ev.data));
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!this.stopped && isSignedIn()) this.retry();
    });
  }

  retry() {
    if (this.stopped) return;
    // 1 s, 2 s, 4 s ... up to 60 s, with some jitter.
    const base = Math.min(60000, 1000 * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 10);
    const delay = base / 2 + Math.random() * base / 2;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => { this.retryTimer = null; this.connect(); }, delay);
  }

  handle(data) {
    let msg;
    try { msg = JSON.parse(data); } catch { return; }
    if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return;
    if (msg.type === 'session.revoked') {
      const sid = msg.session_id === undefined || msg.session_id === null ? null : String(msg.session_id);
      // The server sends it only to the ended session's own sockets.
      const mine = currentSessionId();
      if (sid === null || mine === null || sid === mine) {
        this.stop();
        if (this.onRevoked) this.onRevoked(typeof msg.reason === 'string' ? msg.reason : '');
        return;
      }
    }
    if (this.onEvent) this.onEvent(msg);
  }
}
