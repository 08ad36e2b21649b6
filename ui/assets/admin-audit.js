// Admin: the audit trail with filters and "load more".

import { api, errorText, qs } from './api.js';
import { S, t } from './strings.js';
import { el, localInputToIso, timeEl } from './format.js';
import { describeUserAgent } from './ua.js';
import { busy } from './signin.js';

const $ = (id) => document.getElementById(id);
const STEP = 50;
const MAX = 1000;

function detailsText(details) {
  if (!details || typeof details !== 'object') return '';
  return Object.entries(details)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

function auditRow(e) {
  const tr = el('tr');
  tr.dataset.auditId = String(e.id);
  const time = el('td', 'nowrap');
  time.append(timeEl(e.created_at));
  const event = el('td');
  event.append(el('div', '', S.events[e.event] || e.event));
  if (S.events[e.event]) event.append(el('div', 'item-sub', e.event));
  const who = el('td');
  if (e.user_email) who.append(el('div', '', e.user_email));
  if (e.user_id) who.append(el('div', 'item-sub', `#${e.user_id}`));
  if (!e.user_email && !e.user_id) who.textContent = '—';
  tr.append(time, event, who, el('td', 'nowrap', e.ip_address || '—'),
    el('td', '', e.user_agent ? describeUserAgent(e.user_agent) : '—'), el('td', 'details', detailsText(e.details)));
  return tr;
}

export function initAudit() {
  let filters = {};
  let limit = STEP;
  let seq = 0;

  const select = $('audit-event');
  const all = el('option', '', t('audit.allEvents'));
  all.value = '';
  select.append(all, ...Object.keys(S.events).map((name) => {
    const o = el('option', '', S.events[name]);
    o.value = name;
    return o;
  }));

  async function load() {
    const mine = ++seq;
    $('audit-error').textContent = '';
    try {
      const rows = await api('GET', `/admin/audit${qs({ ...filters, limit })}`);
      if (mine !== seq) return;
      const list = Array.isArray(rows) ? rows : [];
      const body = $('audit-table').tBodies[0];
      body.replaceChildren(...list.map(auditRow));
      if (!list.length) {
        const td = el('td', 'empty', t('audit.none'));
        td.colSpan = 6;
        const tr = el('tr');
        tr.append(td);
        body.append(tr);
      }
      $('audit-more').hidden = list.length < limit || limit >= MAX;
    } catch (err) {
      if (mine === seq) $('audit-error').textContent = errorText(err);
    }
  }

  $('audit-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const user = $('audit-user').value.trim();
    if (user && !/^\d+$/.test(user)) {
      $('audit-error').textContent = t('audit.badUser');
      $('audit-user').focus();
      return;
    }
    filters = { user_id: user, event: select.value, since: localInputToIso($('audit-since').value) };
    limit = STEP;
    await busy($('audit-apply'), null, load);
  });

  // The API has no cursor: "more" asks again for a longer page.
  $('audit-more').addEventListener('click', async () => {
    limit = Math.min(MAX, limit + STEP);
    await busy($('audit-more'), null, load);
    if ($('audit-more').hidden) $('audit-heading').focus();
  });

  return { load };
}
