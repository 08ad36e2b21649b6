// Hourly charts drawn as SVG: bars for counts, a line for levels. Each point
// carries a <title> (tooltip); the chart is role="img" with a summary as its
// accessible name.

import { t } from './strings.js';
import { formatHour } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 480;
const H = 210;
const M0 = { top: 12, right: 30, bottom: 34, left: 44 };

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** 1, 2 or 5 times a power of ten, at least `v`. */
function niceStep(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function numberText(n) {
  return new Intl.NumberFormat().format(n);
}

/**
 * One chart. `rows`: oldest first, each with `hour` and the `series` field;
 * `kind`: 'bar' or 'line'; `index` picks the colour (1..5).
 */
export function renderChart({ rows, series, label, kind = 'bar', hours = 24, index = 1 }) {
  const values = rows.map((r) => {
    const v = Number(r[series]);
    return Number.isFinite(v) && v > 0 ? v : 0;
  });
  const n = values.length;
  const long = hours > 24;
  // Room on the right for half of the newest hour's label.
  const M = { ...M0, right: long ? 48 : M0.right };
  const max = n ? Math.max(...values) : 0;
  const step = max <= 4 ? 1 : niceStep(max / 4);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (i) => M.left + (n ? (i + 0.5) * (plotW / n) : 0);
  const y = (v) => M.top + plotH - (v / top) * plotH;

  const root = svg('svg', {
    class: `chart s${index}`,
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    preserveAspectRatio: 'xMidYMid meet',
  });
  root.dataset.series = series;

  if (!n) {
    root.setAttribute('aria-label', `${label}: ${t('charts.empty')}`);
    root.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, t('charts.empty')));
    return root;
  }

  // Summary for the accessible name.
  let peakAt = 0;
  values.forEach((v, i) => { if (v > values[peakAt]) peakAt = i; });
  const peakHour = formatHour(rows[peakAt].hour, long);
  const aria = kind === 'line'
    ? t('charts.ariaLevel', label, hours, numberText(values[n - 1]), numberText(values[peakAt]), peakHour)
    : t('charts.aria', label, hours, numberText(values.reduce((a, b) => a + b, 0)), numberText(values[peakAt]), peakHour);
  root.setAttribute('aria-label', aria);

  // Y axis: grid lines and labels.
  const yAxis = svg('g', { 'aria-hidden': 'true' });
  for (let v = 0; v <= top + 1e-9; v += step) {
    const yy = y(v);
    yAxis.append(svg('line', { class: 'grid-line', x1: M.left, x2: W - M.right, y1: yy, y2: yy }));
    yAxis.append(svg('text', { x: M.left - 6, y: yy + 4, 'text-anchor': 'end' }, numberText(v)));
  }
  yAxis.append(svg('line', { class: 'axis', x1: M.left, x2: M.left, y1: M.top, y2: M.top + plotH }));
  yAxis.append(svg('line', { class: 'axis', x1: M.left, x2: W - M.right, y1: M.top + plotH, y2: M.top + plotH }));
  root.append(yAxis);

  // X axis: about six hour labels, the newest hour always labelled.
  const xAxis = svg('g', { 'aria-hidden': 'true' });
  const every = Math.max(1, Math.ceil(n / (long ? 4 : 6)));
  for (let i = n - 1; i >= 0; i -= every) {
    xAxis.append(svg('line', { class: 'axis', x1: x(i), x2: x(i), y1: M.top + plotH, y2: M.top + plotH + 4 }));
    xAxis.append(svg('text', { x: x(i), y: H - M.bottom + 20, 'text-anchor': 'middle' }, formatHour(rows[i].hour, long)));
  }
  root.append(xAxis);

  // Data.
  const data = svg('g');
  if (kind === 'line') {
    const d = values.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    data.append(svg('path', { class: 'line', d }));
    const r = n > 60 ? 2 : 3.5;
    values.forEach((v, i) => {
      const c = svg('circle', { class: 'dot', cx: x(i).toFixed(1), cy: y(v).toFixed(1), r });
      c.append(svg('title', {}, t('charts.point', formatHour(rows[i].hour, long), numberText(v))));
      data.append(c);
    });
  } else {
    const bw = Math.max(1, (plotW / n) * 0.7);
    values.forEach((v, i) => {
      const yy = y(v);
      // A zero still gets a 1-unit sliver so its tooltip can be reached.
      const h = Math.max(1, M.top + plotH - yy);
      const rect = svg('rect', {
        class: 'bar', x: (x(i) - bw / 2).toFixed(1), y: (M.top + plotH - h).toFixed(1), width: bw.toFixed(1), height: h.toFixed(1),
      });
      rect.append(svg('title', {}, t('charts.point', formatHour(rows[i].hour, long), numberText(v))));
      data.append(rect);
    });
  }
  root.append(data);
  return root;
}

/** The five series of /admin/stats/hourly, in display order. */
export const SERIES = [
  { series: 'logins', kind: 'bar' },
  { series: 'failed_logins', kind: 'bar' },
  { series: 'active_sessions', kind: 'line' },
  { series: 'refreshes', kind: 'line' },
  { series: 'revocations', kind: 'bar' },
];

/** Fills `container` with one titled chart per series. */
export function renderCharts(container, rows, hours) {
  const boxes = SERIES.map(({ series, kind }, i) => {
    const box = document.createElement('figure');
    box.className = 'chart-box';
    const cap = document.createElement('figcaption');
    const h = document.createElement('h3');
    h.textContent = t(`charts.${series}`);
    cap.append(h);
    box.append(cap, renderChart({ rows, series, label: t(`charts.${series}`), kind, hours, index: i + 1 }));
    return box;
  });
  container.replaceChildren(...boxes);
}
