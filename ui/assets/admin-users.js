// Admin: the users table (search, paging), the create form and the detail
// panel (enable/disable, roles, unlock, reset 2FA, reset password, sessions).

import { api, ApiError, errorText, fieldReasons, qs } from './api.js';
import { t } from './strings.js';
import { debounce, el, formatDateTime, formatRelative, timeEl } from './format.js';
import { describeUserAgent } from './ua.js';
import { confirmAction } from './dialog.js';
import { attachPolicyCheck } from './pwcheck.js';
import { busy } from './signin.js';

const $ = (id) => document.getElementById(id);
const PAGE = 25;
const ROLES = ['user', 'admin', 'service'];

export function initUsers() {
  let offset = 0;
  let query = '';
  let current = null;
  let loadSeq = 0;

  // Table

  function statusCell(u) {
    const td = el('td');
    td.append(el('span', u.is_active ? 'badge badge-on' : 'badge badge-bad', u.is_active ? t('users.active') : t('users.disabledState')));
    if (u.two_factor_enabled) td.append(' ', el('span', 'badge badge-off', t('users.twofa')));
    if (u.must_change_password) td.append(el('div', 'item-sub', t('users.mustChange')));
    return td;
  }

  function userRow(u) {
    const tr = el('tr');
    tr.dataset.userId = String(u.id);
    if (current && String(current.id) === String(u.id)) tr.classList.add('selected');
    const open = el('button', 'secondary', t('users.open'));
    open.type = 'button';
    open.dataset.openUser = String(u.id);
    open.setAttribute('aria-label', t('users.openLabel', u.email));
    const actions = el('td');
    actions.append(open);
    tr.append(el('td', '', u.email), el('td', '', u.full_name || '—'), el('td', '', (u.roles || []).join(', ')),
      statusCell(u), el('td', '', formatDateTime(u.last_login_at, t('common.never'))), actions);
    return tr;
  }

  async function loadUsers() {
    const mine = ++loadSeq;
    $('users-error').textContent = '';
    try {
      const list = await api('GET', `/admin/users${qs({ limit: PAGE + 1, offset, email: query })}`);
      if (mine !== loadSeq) return;
      const rows = (Array.isArray(list) ? list : []).slice(0, PAGE);
      const body = $('users-table').tBodies[0];
      body.replaceChildren(...rows.map(userRow));
      if (!rows.length) {
        const td = el('td', 'empty', t('users.none'));
        td.colSpan = 6;
        const tr = el('tr');
        tr.append(td);
        body.append(tr);
      }
      $('users-prev').disabled = offset === 0;
      $('users-next').disabled = !(Array.isArray(list) && list.length > PAGE);
      $('users-page').textContent = rows.length ? t('users.page', offset + 1, offset + rows.length) : '';
    } catch (err) {
      if (mine === loadSeq) $('users-error').textContent = errorText(err);
    }
  }

  $('users-search').addEventListener('input', debounce(() => {
    query = $('users-search').value.trim();
    offset = 0;
    loadUsers();
  }, 300));
  $('users-prev').addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE);
    loadUsers();
  });
  $('users-next').addEventListener('click', () => {
    offset += PAGE;
    loadUsers();
  });
  $('users-table').addEventListener('click', (ev) => {
    const b = ev.target.closest('[data-open-user]');
    const tr = ev.target.closest('tr[data-user-id]');
    const id = b ? b.dataset.openUser : tr && tr.dataset.userId;
    if (id) openUser(id);
  });

  // Detail

  const message = (text, ok = false) => {
    const m = $('user-message');
    m.className = ok ? 'message success' : 'message error';
    m.textContent = text;
  };

  function renderDetail(u) {
    current = u;
    $('user-detail').hidden = false;
    $('user-detail').parentElement.classList.add('with-detail');
    $('user-detail-email').textContent = u.email;
    $('user-detail-id').textContent = String(u.id);
    $('user-detail-name').textContent = u.full_name || '—';
    $('user-detail-status').textContent = u.is_active ? t('users.active') : t('users.disabledState');
    $('user-detail-twofa').textContent = u.two_factor_enabled ? t('tf.on') : t('tf.off');
    $('user-detail-must-change').textContent = u.must_change_password ? t('common.yes') : t('common.no');
    $('user-detail-created').textContent = formatDateTime(u.created_at);
    $('user-detail-last-login').textContent = formatDateTime(u.last_login_at, t('common.never'));
    const toggle = $('user-toggle-active');
    toggle.textContent = u.is_active ? t('detail.disable') : t('detail.enable');
    toggle.className = u.is_active ? 'danger' : 'secondary';
    for (const r of ROLES) $(`user-role-${r}`).checked = (u.roles || []).includes(r);
    for (const tr of $('users-table').querySelectorAll('tr[data-user-id]')) {
      tr.classList.toggle('selected', tr.dataset.userId === String(u.id));
    }
  }

  async function loadUserSessions(id) {
    const ul = $('user-sessions');
    try {
      const list = await api('GET', `/admin/tokens/sessions/${encodeURIComponent(id)}`);
      if (!current || String(current.id) !== String(id)) return;
      const items = (Array.isArray(list) ? list : []).map((s) => {
        const li = el('li', 'item');
        li.dataset.sessionId = String(s.id);
        const main = el('div', 'item-main');
        const ua = describeUserAgent(s.user_agent);
        main.append(el('p', 'item-title', s.device_name || ua));
        if (s.device_name) main.append(el('p', 'item-sub', ua));
        const facts = el('p', 'item-sub');
        facts.append(`${t('sessions.ip')}: ${s.ip_address || t('common.unknown')} · ${t('sessions.signedIn')}: `,
          timeEl(s.created_at), ` · ${t('sessions.lastSeen')}: `, timeEl(s.last_seen_at, formatRelative(s.last_seen_at)));
        main.append(facts);
        li.append(main);
        return li;
      });
      ul.replaceChildren(...items);
      if (!items.length) ul.append(el('li', 'empty', t('detail.sessionsEmpty')));
      $('user-end-sessions').disabled = !items.length;
    } catch (err) {
      message(errorText(err));
    }
  }

  async function openUser(id) {
    $('user-message').textContent = '';
    $('temp-password-box').hidden = true;
    $('temp-password').textContent = '';
    try {
      const u = await api('GET', `/admin/users/${encodeURIComponent(id)}`);
      renderDetail(u);
      $('user-sessions').replaceChildren();
      $('user-detail-email').focus();
      await loadUserSessions(u.id);
    } catch (err) {
      $('users-error').textContent = errorText(err);
    }
  }

  /** Runs `work` for the open user, then reloads it and the table. */
  async function act(button, work) {
    if (!current) return;
    const id = String(current.id);
    await busy(button, null, async () => {
      try {
        const note = await work(id);
        if (note) message(note, true);
        const u = await api('GET', `/admin/users/${encodeURIComponent(id)}`);
        renderDetail(u);
        loadUsers();
        await loadUserSessions(id);
      } catch (err) {
        message(errorText(err, { roles: t('detail.rolesLegend'), is_active: t('detail.status') }));
      }
    });
  }

  $('user-detail-close').addEventListener('click', () => {
    const id = current ? String(current.id) : null;
    current = null;
    $('user-detail').hidden = true;
    $('user-detail').parentElement.classList.remove('with-detail');
    $('temp-password').textContent = '';
    for (const tr of $('users-table').querySelectorAll('tr.selected')) tr.classList.remove('selected');
    const back = id && $('users-table').querySelector(`[data-open-user="${CSS.escape(id)}"]`);
    (back || $('users-search')).focus();
  });

  $('user-toggle-active').addEventListener('click', async () => {
    if (!current) return;
    const enable = !current.is_active;
    if (!enable) {
      const ok = await confirmAction({
        title: t('detail.disableTitle'), text: t('detail.disableText', current.email), yes: t('detail.disable'),
      });
      if (!ok) return;
    }
    await act($('user-toggle-active'), async (id) => {
      await api('PATCH', `/admin/users/${encodeURIComponent(id)}`, { is_active: enable });
      return enable ? t('detail.enabled') : t('detail.disabled');
    });
  });

  $('user-unlock').addEventListener('click', () => act($('user-unlock'), async (id) => {
    await api('POST', `/admin/users/${encodeURIComponent(id)}/unlock`);
    return t('detail.unlocked');
  }));

  $('user-reset-2fa').addEventListener('click', async () => {
    if (!current) return;
    const ok = await confirmAction({
      title: t('detail.reset2faTitle'), text: t('detail.reset2faText', current.email), yes: t('detail.reset2fa'),
    });
    if (!ok) return;
    await act($('user-reset-2fa'), async (id) => {
      await api('DELETE', `/admin/users/${encodeURIComponent(id)}/2fa`);
      return t('detail.reset2faDone');
    });
  });

  $('user-reset-password').addEventListener('click', async () => {
    if (!current) return;
    const ok = await confirmAction({
      title: t('detail.resetPasswordTitle'), text: t('detail.resetPasswordText', current.email), yes: t('detail.resetPassword'),
    });
    if (!ok) return;
    await act($('user-reset-password'), async (id) => {
      const res = await api('POST', `/admin/users/${encodeURIComponent(id)}/password`, {});
      $('temp-password').textContent = res.temporary_password || '';
      $('temp-password-box').hidden = false;
      return t('detail.tempDone');
    });
  });

  $('temp-password-copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText($('temp-password').textContent);
      message(t('common.copied'), true);
    } catch {
      message(t('common.copyFailed'));
    }
  });

  $('user-roles-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const roles = ROLES.filter((r) => $(`user-role-${r}`).checked);
    if (!roles.length) { message(t('create.noRole')); return; }
    await act($('user-save-roles'), async (id) => {
      await api('PATCH', `/admin/users/${encodeURIComponent(id)}`, { roles });
      return t('detail.rolesSaved');
    });
  });

  $('user-end-sessions').addEventListener('click', async () => {
    if (!current) return;
    const ok = await confirmAction({
      title: t('detail.endSessionsTitle'), text: t('detail.endSessionsText', current.email), yes: t('detail.endSessions'),
    });
    if (!ok) return;
    await act($('user-end-sessions'), async (id) => {
      const res = await api('DELETE', `/admin/tokens/sessions/${encodeURIComponent(id)}`);
      return t('detail.endedSessions', Number(res && res.revoked_sessions) || 0);
    });
  });

  // Create

  const createCheck = attachPolicyCheck({
    input: $('create-password'), list: $('create-reasons'), ok: $('create-reasons-ok'),
    email: () => $('create-email').value,
  });
  $('create-email').addEventListener('input', () => { if ($('create-password').value) createCheck.recheck(); });

  $('create-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const error = $('create-error');
    error.textContent = '';
    $('create-message').textContent = '';
    const email = $('create-email').value.trim();
    const password = $('create-password').value;
    const roles = ROLES.filter((r) => $(`create-role-${r}`).checked);
    if (!email || !password) {
      error.textContent = t('create.missing');
      (email ? $('create-password') : $('create-email')).focus();
      return;
    }
    if (!roles.length) { error.textContent = t('create.noRole'); $('create-role-user').focus(); return; }
    await busy($('create-submit'), null, async () => {
      try {
        const u = await api('POST', '/admin/users', { email, password, full_name: $('create-name').value.trim(), roles });
        $('create-form').reset();
        createCheck.reset();
        $('create-message').textContent = t('create.done', u.email || email);
        loadUsers();
      } catch (err) {
        if (err instanceof ApiError && err.status === 409) {
          error.textContent = t('create.conflict');
          $('create-email').focus();
          return;
        }
        const reasons = fieldReasons(err, 'password');
        if (reasons.length) createCheck.show(reasons);
        error.textContent = errorText(err, {
          email: t('create.email'), password: t('create.password'), full_name: t('create.name'), roles: t('create.roles'),
        });
      }
    });
  });

  return { loadUsers };
}
