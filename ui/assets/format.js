// Dates and small text helpers. Local time through Intl; no libraries.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const hourFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayHourFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
const relFmt = typeof Intl.RelativeTimeFormat === 'function'
  ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })
  : null;

/** A Date from an RFC 3339 string, or null. */
export function parseDate(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "4 Dec 2026, 14:05" in the reader's locale and time zone; `fallback` when empty. */
export function formatDateTime(iso, fallback = '') {
  const d = parseDate(iso);
  return d ? dateTime.format(d) : fallback;
}

/** The time alone when `iso` is today, else date and time. */
export function formatWhen(iso) {
  const d = parseDate(iso);
  if (!d) return '';
  const now = new Date();
  return d.toDateString() === now.toDateString() ? timeOnly.format(d) : dateTime.format(d);
}

/** An hour label for charts; with the weekday when the span is over a day. */
export function formatHour(iso, long = false) {
  const d = parseDate(iso);
  if (!d) return '';
  return (long ? dayHourFmt : hourFmt).format(d);
}

/** "5 minutes ago", "in 2 days"; falls back to the date. */
export function formatRelative(iso) {
  const d = parseDate(iso);
  if (!d) return '';
  if (!relFmt) return dateTime.format(d);
  const secs = Math.round((d.getTime() - Date.now()) / 1000);
  const abs = Math.abs(secs);
  if (abs < 60) return relFmt.format(0, 'second');
  if (abs < 3600) return relFmt.format(Math.round(secs / 60), 'minute');
  if (abs < 86400) return relFmt.format(Math.round(secs / 3600), 'hour');
  if (abs < 86400 * 30) return relFmt.format(Math.round(secs / 86400), 'day');
  return dateTime.format(d);
}

/** A <time> element showing `text`, machine-readable `iso`, full date as tooltip. */
export function timeEl(iso, text) {
  const el = document.createElement('time');
  const d = parseDate(iso);
  if (d) {
    el.dateTime = d.toISOString();
    el.title = dateTime.format(d);
  }
  el.textContent = text ?? formatDateTime(iso);
  return el;
}

/** "ABCD EFGH IJKL" from a base32 secret. */
export function groupSecret(secret) {
  return String(secret || '').replace(/\s+/g, '').replace(/(.{4})/g, '$1 ').trim();
}

/** An <input type=datetime-local> value as RFC 3339 UTC, or '' when empty/invalid. */
export function localInputToIso(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Calls `fn` once `ms` after the last call. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { timer = null; fn(...args); }, ms);
  };
}

/** A shorthand for document.createElement with class and text. */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}
