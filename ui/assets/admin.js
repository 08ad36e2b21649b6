// Entry of /ui/admin: checks who is signed in, then runs metrics, charts,
// users, audit and notifications, with live events.

import {
  api, ApiError, clearShared, currentSessionId, errorText, onSignedOut, qs, refreshForExpiry, setSignedIn,
} from './api.js';
import { applyStrings } from './i18n.js';
import { t } from './strings.js';
import { describeUserAgent } from './ua.js';
import { el } from './format.js';
import { LiveEvents } from './live.js';
import { notify } from './notices.js';
import { renderCharts } from './charts.js';
import { initUsers } from './admin-users.js';
import { initAudit } from './admin-audit.js';
import { busy } from './signin.js';

const $ = (id) => document.getElementById(id);
const SIGNOUT_KEY = 'tokenward.signout';
const METRICS = ['active_sessions', 'active_tokens', 'tokens_created_today', 'tokens_refreshed_today',
  'tokens_revoked_today', 'failed_logins_today'];

/** Leaves for /ui/, which shows `notice` on its sign-in view. */
function leave(notice) {
  live.stop();
  setSignedIn(false);
  clearShared();
  try { sessionStorage.setItem(SIGNOUT_KEY, notice); } catch { /* ignore */ }
  location.assign('/ui/');
}

function revokedText(reason) {
  const key = `revoked.${reason}`;
  return t('signin.revoked', t(key) === key ? t('revoked.other') : t(key));
}

const live = new LiveEvents({
  onEvent(msg) {
    if (msg.type === 'session.created') {
      const ua = typeof msg.user_agent === 'string' ? msg.user_agent : '';
      const ip = typeof msg.ip_address === 'string' ? msg.ip_address : '';
      notify(t('live.newSignin', describeUserAgent(ua), ip));
    } else if (msg.type === 'notification' && typeof msg.message === 'string') {
      notify(t('live.notification', msg.message));
    }
  },
  onRevoked(reason) { leave(revokedText(reason)); },
});

onSignedOut(() => leave(t('signin.expired')));

/** Shows one of the page's top-level parts and focuses its heading. */
function show(id) {
  for (const part of ['admin-loading', 'admin-signin', 'admin-denied', 'admin-main']) $(part).hidden = part !== id;
  const h = $(id).querySelector('h1');
  if (h) h.focus();
}

// Metrics and charts

async function loadMetrics() {
  $('metrics-error').textContent = '';
  try {
    const m = await api('GET', '/admin/tokens/metrics');
    const names = [...METRICS, ...Object.keys(m || {}).filter((k) => !METRICS.includes(k) && typeof m[k] === 'number')];
    $('metrics').replaceChildren(...names.filter((k) => m && k in m).map((name) => {
      const card = el('div', 'metric');
      card.dataset.metric = name;
      const label = t(`metrics.${name}`);
      card.append(el('p', 'metric-value', new Intl.NumberFormat().format(Number(m[name]) || 0)),
        el('p', 'metric-label', label === `metrics.${name}` ? name : label));
      return card;
    }));
  } catch (err) {
    $('metrics-error').textContent = errorText(err);
  }
}

async function loadCharts() {
  const hours = Number($('charts-hours').value) || 24;
  $('charts-error').textContent = '';
  try {
    const rows = await api('GET', `/admin/stats/hourly${qs({ hours })}`);
    renderCharts($('charts'), Array.isArray(rows) ? rows : [], hours);
  } catch (err) {
    $('charts').replaceChildren();
    $('charts-error').textContent = `${t('charts.unavailable')} ${errorText(err)}`;
  }
}

$('metrics-reload').addEventListener('click', () => busy($('metrics-reload'), null,
  () => Promise.all([loadMetrics(), loadCharts()])));
$('charts-hours').addEventListener('change', loadCharts);

// Notifications

$('notify-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const result = $('notify-result');
  result.className = 'message error';
  result.textContent = '';
  const user = $('notify-user').value.trim();
  const message = $('notify-message').value.trim();
  if (user && !/^\d+$/.test(user)) {
    result.textContent = t('audit.badUser');
    $('notify-user').focus();
    return;
  }
  if (!message) {
    result.textContent = t('notify.missing');
    $('notify-message').focus();
    return;
  }
  const body = { message };
  if (user) body.user_id = user;
  await busy($('notify-submit'), null, async () => {
    try {
      await api('POST', '/admin/notifications', body);
      result.className = 'message success';
      result.textContent = user ? t('notify.sentOne', user) : t('notify.sentAll');
      $('notify-message').value = '';
    } catch (err) {
      result.textContent = errorText(err, { user_id: t('notify.user'), message: t('notify.message') });
    }
  });
});

// Sign out

$('signout').addEventListener('click', async () => {
  live.stop();
  try { await api('POST', '/auth/logout'); } catch { /* already gone */ }
  leave(t('signin.signedOut'));
});

// Start

async function start() {
  applyStrings();
  let me;
  try {
    me = await api('GET', '/auth/me');
  } catch (err) {
    $('admin-signin-text').textContent = err instanceof ApiError && err.status === 401 ? '' : errorText(err);
    show('admin-signin');
    return;
  }
  setSignedIn(true);
  if (!currentSessionId()) {
    const ok = await refreshForExpiry();
    if (ok === false) { setSignedIn(false); show('admin-signin'); return; }
  }
  $('header-user').textContent = t('nav.signedInAs', me.email);
  $('header-user').hidden = false;
  $('signout').hidden = false;

  if (me.must_change_password) {
    $('admin-denied-heading').textContent = t('admin.mustChange');
    $('admin-denied-link').textContent = t('admin.mustChangeLink');
    show('admin-denied');
    return;
  }
  if (!(me.roles || []).includes('admin')) {
    live.start();
    show('admin-denied');
    return;
  }
  live.start();
  show('admin-main');
  const users = initUsers();
  const audit = initAudit();
  await Promise.all([loadMetrics(), loadCharts(), users.loadUsers(), audit.load()]);
}

start();
