// Entry of /ui/: decides the view at load, then runs the account page
// (profile, sessions, devices, 2FA, password) and its live events.

import {
  api, ApiError, acceptTokens, clearShared, currentSessionId, errorText, fieldReasons,
  onSignedOut, refreshForExpiry, setSignedIn,
} from './api.js';
import { applyStrings } from './i18n.js';
import { t } from './strings.js';
import { el, formatDateTime, formatRelative, timeEl } from './format.js';
import { describeUserAgent } from './ua.js';
import { confirmAction } from './dialog.js';
import { LiveEvents } from './live.js';
import { notify, clearNotices } from './notices.js';
import { attachPolicyCheck } from './pwcheck.js';
import { initSignin, busy } from './signin.js';
import { initTwoFactor } from './twofa.js';

const $ = (id) => document.getElementById(id);
const VIEWS = ['view-loading', 'view-signin', 'view-twofa', 'view-forced', 'view-account'];
const SIGNOUT_KEY = 'tokenward.signout';

let me = null;
// Bumped at every sign-out: an answer that arrives after it belongs to the
// session that ended and is dropped (it must not bring the account back).
let epoch = 0;

/** Shows one view; focus goes to `focusEl` or the view's heading. */
function showView(id, focusEl) {
  for (const v of VIEWS) $(v).hidden = v !== id;
  const signedIn = id === 'view-account' || id === 'view-forced';
  $('signout').hidden = !signedIn;
  $('header-user').hidden = !signedIn || !me;
  $('admin-link').hidden = !(id === 'view-account' && me && (me.roles || []).includes('admin'));
  const target = focusEl || $(id).querySelector('h1');
  if (target) target.focus();
}

function revokedText(reason) {
  const key = `revoked.${reason}`;
  const why = t(key) === key ? t('revoked.other') : t(key);
  return t('signin.revoked', why);
}

const live = new LiveEvents({
  onEvent(msg) {
    if (msg.type === 'session.created') {
      const ua = typeof msg.user_agent === 'string' ? msg.user_agent : '';
      const ip = typeof msg.ip_address === 'string' ? msg.ip_address : '';
      notify(t('live.newSignin', describeUserAgent(ua), ip));
      loadSessions();
    } else if (msg.type === 'notification' && typeof msg.message === 'string') {
      notify(t('live.notification', msg.message));
    } else if (msg.type === 'session.revoked') {
      notify(t('live.sessionEnded'));
      loadSessions();
    }
  },
  onRevoked(reason) { signOutLocal(revokedText(reason)); },
});

const twofa = initTwoFactor({
  onChange(enabled) { if (me) me.two_factor_enabled = enabled; },
});

const signin = initSignin({
  showView,
  async signedIn(resp) {
    acceptTokens(resp);
    setSignedIn(true);
    if (resp.password_change_required || (resp.user && resp.user.must_change_password)) {
      me = resp.user || null;
      renderHeader();
      signin.showForced(me && me.email);
      return;
    }
    await enterAccount();
  },
  async passwordChanged() {
    notify(t('forced.done'));
    await enterAccount();
  },
});

/** Clears everything of the signed-in person and shows sign-in with `notice`. */
function signOutLocal(notice) {
  epoch += 1;
  live.stop();
  setSignedIn(false);
  clearShared();
  me = null;
  twofa.reset();
  clearNotices();
  for (const id of ['me-email', 'me-name', 'me-roles', 'me-created', 'me-last-login', 'header-user',
    'pw-message', 'sessions-message', 'devices-message']) $(id).textContent = '';
  for (const id of ['pw-current', 'pw-new']) $(id).value = '';
  pwCheck.reset();
  $('sessions-list').replaceChildren();
  $('devices-list').replaceChildren();
  signin.showSignin(notice);
}

function renderHeader() {
  $('header-user').textContent = me ? t('nav.signedInAs', me.email) : '';
}

function renderMe() {
  $('me-email').textContent = me.email;
  $('me-name').textContent = me.full_name || '—';
  $('me-roles').textContent = (me.roles || []).join(', ') || t('common.none');
  $('me-created').textContent = formatDateTime(me.created_at);
  $('me-last-login').textContent = formatDateTime(me.last_login_at, t('common.never'));
  $('pw-username').value = me.email;
  renderHeader();
  twofa.render(me.two_factor_enabled);
}

/** Loads /auth/me, then the account view and its lists; starts live events. */
async function enterAccount(known) {
  const started = epoch;
  let who;
  try {
    who = known || await api('GET', '/auth/me');
  } catch (err) {
    if (started !== epoch) return;
    if (err instanceof ApiError && err.status === 401) { signOutLocal(t('signin.expired')); return; }
    notify(errorText(err));
    return;
  }
  if (started !== epoch) return;
  me = who;
  if (me.must_change_password) {
    renderHeader();
    signin.showForced(me.email);
    return;
  }
  renderMe();
  showView('view-account');
  live.start();
  await Promise.all([loadSessions(), loadDevices()]);
}

// Sessions

function sessionItem(s) {
  const li = el('li', s.current ? 'item current' : 'item');
  li.dataset.sessionId = String(s.id);
  const main = el('div', 'item-main');
  const ua = describeUserAgent(s.user_agent);
  const name = s.device_name || ua;
  const title = el('p', 'item-title', name);
  if (s.current) title.append(' ', el('span', 'badge badge-on', t('sessions.thisDevice')));
  main.append(title);
  if (s.device_name) main.append(el('p', 'item-sub', ua));
  const facts = el('p', 'item-sub');
  facts.append(`${t('sessions.ip')}: ${s.ip_address || t('common.unknown')} · ${t('sessions.signedIn')}: `,
    timeEl(s.created_at), ` · ${t('sessions.lastSeen')}: `, timeEl(s.last_seen_at, formatRelative(s.last_seen_at)));
  main.append(facts);
  li.append(main);
  if (!s.current) {
    const b = el('button', 'secondary', t('sessions.end'));
    b.type = 'button';
    b.dataset.endSession = String(s.id);
    b.setAttribute('aria-label', t('sessions.endLabel', name));
    li.append(b);
  }
  return li;
}

let sessions = [];
async function loadSessions() {
  const started = epoch;
  try {
    const list = await api('GET', '/auth/sessions');
    if (started !== epoch) return;
    sessions = Array.isArray(list) ? list : [];
    const mine = currentSessionId();
    for (const s of sessions) if (s.current === undefined && mine) s.current = String(s.id) === mine;
    sessions.sort((a, b) => (b.current ? 1 : 0) - (a.current ? 1 : 0));
    const ul = $('sessions-list');
    ul.replaceChildren(...sessions.map(sessionItem));
    if (!sessions.length) ul.append(el('li', 'empty', t('sessions.empty')));
    $('sessions-message').textContent = '';
  } catch (err) {
    if (started !== epoch) return;
    $('sessions-message').textContent = errorText(err);
  }
}

$('sessions-list').addEventListener('click', async (ev) => {
  const b = ev.target.closest('button[data-end-session]');
  if (!b) return;
  const id = b.dataset.endSession;
  const ended = await busy(b, null, async () => {
    try {
      await api('DELETE', `/auth/sessions/${encodeURIComponent(id)}`);
      notify(t('sessions.ended'));
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return true;
      $('sessions-message').textContent = errorText(err);
      return false;
    }
  });
  if (!ended) return;
  const li = $('sessions-list').querySelector(`[data-session-id="${CSS.escape(id)}"]`);
  if (li) li.remove();
  $('sessions-heading').focus();
  loadSessions();
});

$('end-others').addEventListener('click', async () => {
  const others = sessions.filter((s) => !s.current);
  if (!others.length) { notify(t('sessions.noOthers')); return; }
  const ok = await confirmAction({
    title: t('sessions.endOthersTitle'), text: t('sessions.endOthersText'), yes: t('sessions.endOthers'),
  });
  if (!ok) return;
  await busy($('end-others'), null, async () => {
    let n = 0;
    let failure = null;
    for (const s of others) {
      try {
        await api('DELETE', `/auth/sessions/${encodeURIComponent(s.id)}`);
        n++;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) continue;
        failure = err;
      }
    }
    notify(t('sessions.endedOthers', n));
    await loadSessions();
    if (failure) $('sessions-message').textContent = errorText(failure);
  });
});

// Remembered devices

async function loadDevices() {
  const started = epoch;
  try {
    const list = await api('GET', '/auth/devices');
    if (started !== epoch) return;
    const ul = $('devices-list');
    const items = (Array.isArray(list) ? list : []).map((d) => {
      const li = el('li', 'item');
      li.dataset.deviceId = String(d.id);
      const main = el('div', 'item-main');
      const name = describeUserAgent(d.user_agent);
      main.append(el('p', 'item-title', name));
      const facts = el('p', 'item-sub');
      facts.append(`${t('sessions.ip')}: ${d.ip_address || t('common.unknown')} · ${t('devices.remembered')}: `,
        timeEl(d.created_at), ` · ${t('devices.lastUsed')}: `,
        d.last_used_at ? timeEl(d.last_used_at, formatRelative(d.last_used_at)) : t('common.never'),
        ` · ${t('sessions.expires')}: `, timeEl(d.expires_at));
      main.append(facts);
      const b = el('button', 'secondary', t('devices.forget'));
      b.type = 'button';
      b.dataset.forgetDevice = String(d.id);
      b.setAttribute('aria-label', t('devices.forgetLabel', name));
      li.append(main, b);
      return li;
    });
    ul.replaceChildren(...items);
    if (!items.length) ul.append(el('li', 'empty', t('devices.empty')));
    $('devices-message').textContent = '';
  } catch (err) {
    if (started !== epoch) return;
    $('devices-message').textContent = errorText(err);
  }
}

$('devices-list').addEventListener('click', async (ev) => {
  const b = ev.target.closest('button[data-forget-device]');
  if (!b) return;
  const id = b.dataset.forgetDevice;
  try {
    await api('DELETE', `/auth/devices/${encodeURIComponent(id)}`);
    notify(t('devices.forgotten'));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) {
      $('devices-message').textContent = errorText(err);
      return;
    }
  }
  $('devices-heading').focus();
  await loadDevices();
});

// Password change

const pwCheck = attachPolicyCheck({
  input: $('pw-new'), list: $('pw-reasons'), ok: $('pw-reasons-ok'), email: () => (me ? me.email : ''),
});

$('pw-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('pw-message');
  msg.textContent = '';
  msg.className = 'message error';
  const current = $('pw-current').value;
  const next = $('pw-new').value;
  if (!current || !next) {
    msg.textContent = t('pw.missing');
    (current ? $('pw-new') : $('pw-current')).focus();
    return;
  }
  await busy($('pw-submit'), null, async () => {
    try {
      await api('POST', '/auth/password', { current_password: current, new_password: next });
      $('pw-current').value = '';
      $('pw-new').value = '';
      pwCheck.reset();
      msg.className = 'message success';
      msg.textContent = t('pw.done');
      loadSessions();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_credentials') {
        msg.textContent = t('pw.wrongCurrent');
        $('pw-current').focus();
        return;
      }
      const reasons = fieldReasons(err, 'new_password');
      if (reasons.length) {
        pwCheck.show(reasons);
        msg.textContent = t('pw.rejected');
        $('pw-new').focus();
        return;
      }
      msg.textContent = errorText(err);
    }
  });
});

// Sign out

$('signout').addEventListener('click', async () => {
  live.stop();
  try {
    await api('POST', '/auth/logout');
  } catch { /* the cookies may be gone already */ }
  signOutLocal(t('signin.signedOut'));
});

onSignedOut(() => signOutLocal(t('signin.expired')));

// Start

async function start() {
  applyStrings();
  let pending = '';
  try {
    pending = sessionStorage.getItem(SIGNOUT_KEY) || '';
    sessionStorage.removeItem(SIGNOUT_KEY);
  } catch { /* ignore */ }
  let who;
  try {
    who = await api('GET', '/auth/me');
  } catch (err) {
    signin.showSignin(pending || (err instanceof ApiError && err.status !== 401 ? errorText(err) : ''));
    return;
  }
  setSignedIn(true);
  me = who;
  if (!currentSessionId()) {
    const ok = await refreshForExpiry();
    if (ok === false) { signOutLocal(t('signin.expired')); return; }
  }
  if (me.must_change_password) {
    renderHeader();
    signin.showForced(me.email);
    return;
  }
  await enterAccount(me);
}

start();
