// The fetch wrapper: same-origin cookies, the CSRF header, JSON in and out,
// an ApiError for every failure, one refresh-and-retry on a 401, and the
// background refresh timer (shared between tabs of the same browser).

import { t } from './strings.js';

const REFRESH_KEY = 'tokenward.refresh';
const LOCK_NAME = 'tokenward-refresh';
const FRESH_MS = 10000;

/** A failed request: `status` 0 means the network failed. */
export class ApiError extends Error {
  constructor({ status = 0, code = 'network', message = '', details = null, retryAfter = null }) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

const state = {
  signedIn: false,
  sessionId: null,
  timer: null,
  inflight: null,
  onSignedOut: null,
  onTokens: [],
};

/** Called once when a signed-in page finds its session gone (refresh refused). */
export function onSignedOut(fn) { state.onSignedOut = fn; }
/** Called with every token response (login, 2FA, refresh). */
export function onTokens(fn) { state.onTokens.push(fn); }
export function setSignedIn(v) {
  state.signedIn = v;
  if (!v) stopRefresh();
}
export function isSignedIn() { return state.signedIn; }
export function currentSessionId() { return state.sessionId; }

/** `?a=1&b=x` from an object, leaving out empty values. */
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

async function raw(method, path, body) {
  const headers = { 'X-Requested-With': 'tokenward', Accept: 'application/json' };
  const init = { method, credentials: 'same-origin', headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw new ApiError({ status: 0, code: 'network', message: String(e && e.message) });
  }
  let data = null;
  const type = resp.headers.get('Content-Type') || '';
  if (resp.status !== 204 && type.includes('json')) {
    try { data = await resp.json(); } catch { data = null; }
  }
  if (resp.ok) return data;
  const ra = parseInt(resp.headers.get('Retry-After') || '', 10);
  const err = data && typeof data === 'object' ? data : {};
  throw new ApiError({
    status: resp.status,
    code: typeof err.error === 'string' ? err.error : `http_${resp.status}`,
    message: typeof err.message === 'string' ? err.message : '',
    details: err.details ?? null,
    retryAfter: Number.isFinite(ra) ? ra : null,
  });
}

/**
 * One API call. On a 401 (other than wrong credentials) it refreshes once and
 * retries; `retry: false` turns that off (login, refresh itself).
 */
export async function api(method, path, body, { retry = true } = {}) {
  try {
    return await raw(method, path, body);
  } catch (e) {
    if (!retry || !(e instanceof ApiError) || e.status !== 401 || e.code === 'invalid_credentials') throw e;
    const ok = await refreshNow();
    if (ok === true) return raw(method, path, body);
    if (ok === false) signedOut('expired');
    throw e;
  }
}

/** Takes in a token response: remembers the session, schedules the next refresh. */
export function acceptTokens(resp) {
  if (!resp || typeof resp !== 'object') return;
  if (resp.session_id !== undefined && resp.session_id !== null) state.sessionId = String(resp.session_id);
  const expiresIn = Number(resp.expires_in) || 300;
  try {
    localStorage.setItem(REFRESH_KEY, JSON.stringify({ at: Date.now(), expires_in: expiresIn, session_id: state.sessionId }));
  } catch { /* storage may be off */ }
  schedule(expiresIn * 1000);
  for (const fn of state.onTokens) fn(resp);
}

function schedule(lifetimeMs) {
  if (state.timer) clearTimeout(state.timer);
  const delay = Math.max(5000, lifetimeMs * 0.75);
  state.timer = setTimeout(backgroundRefresh, delay);
}

export function stopRefresh() {
  if (state.timer) clearTimeout(state.timer);
  state.timer = null;
}

async function backgroundRefresh() {
  state.timer = null;
  if (!state.signedIn) return;
  const ok = await refreshNow();
  if (ok === false) signedOut('expired');
  else if (ok === null && state.signedIn) state.timer = setTimeout(backgroundRefresh, 30000);
}

function recentRecord() {
  try {
    const rec = JSON.parse(localStorage.getItem(REFRESH_KEY) || 'null');
    if (rec && Date.now() - rec.at < FRESH_MS) return rec;
  } catch { /* ignore */ }
  return null;
}

async function doRefresh() {
  // Another tab may have just rotated the cookies: then they are already new.
  const rec = recentRecord();
  if (rec) {
    if (rec.session_id) state.sessionId = String(rec.session_id);
    schedule(rec.expires_in * 1000 - (Date.now() - rec.at));
    return true;
  }
  try {
    const resp = await raw('POST', '/auth/refresh', {});
    acceptTokens(resp);
    return true;
  } catch (e) {
    // 401/403: refused; 400/422: no refresh cookie left. Those end the session;
    // network trouble, 429 and 5xx may pass.
    if (e instanceof ApiError && [400, 401, 403, 422].includes(e.status)) return false;
    return null;
  }
}

/**
 * Refreshes now (one at a time, across tabs when the browser has Web Locks).
 * Resolves true (new tokens), false (signed out) or null (could not tell).
 */
export function refreshNow() {
  if (state.inflight) return state.inflight;
  const run = navigator.locks && navigator.locks.request
    ? navigator.locks.request(LOCK_NAME, () => doRefresh())
    : doRefresh();
  state.inflight = Promise.resolve(run).finally(() => { state.inflight = null; });
  return state.inflight;
}

/** The refresh made at page load to learn the token's lifetime. */
export function refreshForExpiry() {
  return refreshNow();
}

// Another tab refreshed: follow its schedule instead of refreshing too.
window.addEventListener('storage', (ev) => {
  if (ev.key !== REFRESH_KEY || !state.signedIn || !ev.newValue) return;
  try {
    const rec = JSON.parse(ev.newValue);
    if (rec && rec.expires_in) schedule(rec.expires_in * 1000 - (Date.now() - rec.at));
  } catch { /* ignore */ }
});

function signedOut(reason) {
  if (!state.signedIn) return;
  setSignedIn(false);
  if (state.onSignedOut) state.onSignedOut(reason);
}

/** Forgets the shared refresh record (after a sign-out). */
export function clearShared() {
  try { localStorage.removeItem(REFRESH_KEY); } catch { /* ignore */ }
}

/** A sentence for an error, for an element with role=alert. */
export function errorText(err, fieldLabels = {}) {
  if (!(err instanceof ApiError)) return t('error.generic');
  switch (err.code) {
    case 'network': return t('error.network');
    case 'too_many_requests':
      return err.retryAfter !== null ? t('error.rate', err.retryAfter) : t('error.rateNoTime');
    case 'unavailable': return t('error.unavailable');
    case 'forbidden': return t('error.forbidden');
    case 'not_found': return t('error.notFound');
    case 'validation_failed': {
      const lines = detailLines(err.details, fieldLabels);
      return lines.length ? `${t('error.validation')} ${lines.join(' ')}` : (err.message || t('error.generic'));
    }
    default:
      if (err.status === 503) return t('error.unavailable');
      return err.message || t('error.generic');
  }
}

/** `details` of a 422 as "field: message." lines. */
export function detailLines(details, fieldLabels = {}) {
  const out = [];
  if (!details || typeof details !== 'object') return out;
  for (const [field, msgs] of Object.entries(details)) {
    const label = fieldLabels[field] || field;
    for (const m of Array.isArray(msgs) ? msgs : [msgs]) {
      if (typeof m === 'string') out.push(t('error.field', label, m.endsWith('.') ? m : `${m}.`));
    }
  }
  return out;
}

/** The reasons listed for one field of a 422 (e.g. new_password). */
export function fieldReasons(err, field) {
  if (!(err instanceof ApiError) || !err.details || typeof err.details !== 'object') return [];
  const v = err.details[field];
  return (Array.isArray(v) ? v : [v]).filter((m) => typeof m === 'string');
}
