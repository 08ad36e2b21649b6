// The account page's two-step verification card: enrol (QR, typed key,
// code + password), recovery codes shown once, renew codes, turn off.

import { api, ApiError, errorText } from './api.js';
import { t } from './strings.js';
import { groupSecret } from './format.js';
import { notify } from './notices.js';
import { busy } from './signin.js';

const $ = (id) => document.getElementById(id);

function codeError(err) {
  if (err instanceof ApiError && err.code === 'invalid_credentials') return t('tf.wrong');
  return errorText(err, { code: t('tf.code'), password: t('tf.password') });
}

/** `onChange(enabled)` runs after the state changed. Returns `{ render(enabled), reset() }`. */
export function initTwoFactor({ onChange }) {
  let enabled = false;
  let codes = [];

  const panels = {
    off: $('twofa-off-panel'),
    setup: $('twofa-setup-panel'),
    codes: $('twofa-codes-panel'),
    on: $('twofa-on-panel'),
  };
  const showPanel = (name) => {
    for (const [k, p] of Object.entries(panels)) p.hidden = k !== name;
  };

  const render = (on) => {
    enabled = Boolean(on);
    const state = $('twofa-state');
    state.textContent = enabled ? t('tf.on') : t('tf.off');
    state.classList.toggle('badge-on', enabled);
    state.classList.toggle('badge-off', !enabled);
    if (!panels.codes.hidden || !panels.setup.hidden) return;
    showPanel(enabled ? 'on' : 'off');
  };

  const clearForms = () => {
    for (const id of ['twofa-enrol-code', 'twofa-enrol-password', 'twofa-renew-password',
      'twofa-renew-code', 'twofa-disable-password', 'twofa-disable-code']) $(id).value = '';
    for (const id of ['twofa-enrol-error', 'twofa-renew-error', 'twofa-disable-error', 'twofa-message',
      'recovery-status']) $(id).textContent = '';
  };

  const showCodes = (list) => {
    codes = list.filter((c) => typeof c === 'string');
    $('recovery-codes').replaceChildren(...codes.map((c) => {
      const li = document.createElement('li');
      li.textContent = c;
      return li;
    }));
    $('recovery-status').textContent = '';
    showPanel('codes');
    $('recovery-heading').focus();
  };

  $('twofa-enrol').addEventListener('click', async () => {
    $('twofa-message').textContent = '';
    await busy($('twofa-enrol'), null, async () => {
      try {
        const setup = await api('POST', '/auth/2fa/setup');
        $('twofa-qr').src = `data:image/png;base64,${setup.qr_png_base64}`;
        $('twofa-secret').textContent = groupSecret(setup.secret);
        clearForms();
        showPanel('setup');
        $('twofa-enrol-code').focus();
      } catch (err) {
        $('twofa-message').textContent = errorText(err);
      }
    });
  });

  $('twofa-enrol-cancel').addEventListener('click', () => {
    $('twofa-qr').removeAttribute('src');
    $('twofa-secret').textContent = '';
    clearForms();
    showPanel(enabled ? 'on' : 'off');
    $('twofa-enrol').focus();
  });

  $('twofa-enrol-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const code = $('twofa-enrol-code').value.replace(/\s+/g, '');
    const password = $('twofa-enrol-password').value;
    const error = $('twofa-enrol-error');
    error.textContent = '';
    if (!code || !password) {
      error.textContent = t('tf.missing');
      (code ? $('twofa-enrol-password') : $('twofa-enrol-code')).focus();
      return;
    }
    await busy($('twofa-enrol-submit'), null, async () => {
      try {
        const res = await api('POST', '/auth/2fa/enable', { code, password });
        $('twofa-qr').removeAttribute('src');
        $('twofa-secret').textContent = '';
        clearForms();
        enabled = true;
        render(true);
        showCodes(res.recovery_codes || []);
        notify(t('tf.enabled'));
        onChange(true);
      } catch (err) {
        error.textContent = codeError(err);
        $('twofa-enrol-code').focus();
      }
    });
  });

  $('recovery-copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      $('recovery-status').textContent = t('common.copied');
    } catch {
      $('recovery-status').textContent = t('common.copyFailed');
    }
  });

  $('recovery-download').addEventListener('click', () => {
    const text = `${t('tf.codesFileHeader')}\n\n${codes.join('\n')}\n`;
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'tokenward-recovery-codes.txt';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });

  $('recovery-done').addEventListener('click', () => {
    codes = [];
    $('recovery-codes').replaceChildren();
    $('recovery-status').textContent = '';
    showPanel(enabled ? 'on' : 'off');
    $('tf-heading').focus();
  });

  $('twofa-renew-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const password = $('twofa-renew-password').value;
    const code = $('twofa-renew-code').value.trim();
    const error = $('twofa-renew-error');
    error.textContent = '';
    if (!code || !password) {
      error.textContent = t('tf.missing');
      (password ? $('twofa-renew-code') : $('twofa-renew-password')).focus();
      return;
    }
    await busy($('twofa-renew-submit'), null, async () => {
      try {
        const res = await api('POST', '/auth/2fa/recovery-codes', { password, code });
        clearForms();
        showCodes(res.recovery_codes || []);
      } catch (err) {
        error.textContent = codeError(err);
      }
    });
  });

  $('twofa-disable-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const password = $('twofa-disable-password').value;
    const code = $('twofa-disable-code').value.trim();
    const error = $('twofa-disable-error');
    error.textContent = '';
    if (!code || !password) {
      error.textContent = t('tf.missing');
      (password ? $('twofa-disable-code') : $('twofa-disable-password')).focus();
      return;
    }
    await busy($('twofa-disable-submit'), null, async () => {
      try {
        await api('POST', '/auth/2fa/disable', { password, code });
        clearForms();
        enabled = false;
        showPanel('off');
        render(false);
        notify(t('tf.disabled'));
        onChange(false);
        $('tf-heading').focus();
      } catch (err) {
        error.textContent = codeError(err);
      }
    });
  });

  const reset = () => {
    codes = [];
    $('recovery-codes').replaceChildren();
    $('twofa-qr').removeAttribute('src');
    $('twofa-secret').textContent = '';
    clearForms();
    for (const p of Object.values(panels)) p.hidden = true;
  };

  return { render, reset };
}
