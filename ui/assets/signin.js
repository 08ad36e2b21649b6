// The signed-out views of /ui/: sign in, the second step, and the forced
// password change that follows an administrator's reset.

import { api, ApiError, errorText, fieldReasons } from './api.js';
import { t } from './strings.js';
import { formatWhen } from './format.js';
import { shortDescription } from './ua.js';
import { attachPolicyCheck } from './pwcheck.js';

const $ = (id) => document.getElementById(id);

/** Disables a submit button while `work` runs, showing `busyText`. */
export async function busy(button, busyText, work) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (busyText) button.textContent = busyText;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = label;
  }
}

/** The message for a failed login or second step. */
function loginError(err, invalidKey) {
  if (!(err instanceof ApiError)) return t('error.generic');
  switch (err.code) {
    case 'invalid_credentials': return t(invalidKey);
    case 'account_locked': {
      const until = err.details && formatWhen(err.details.locked_until);
      return until ? t('signin.locked', until) : t('signin.lockedNoTime');
    }
    case 'account_disabled': return t('signin.disabled');
    default:
      return errorText(err, { email: t('signin.email'), password: t('signin.password'), code: t('twofa.code') });
  }
}

/**
 * Wires the three views. `app` gives `showView(id, focusEl)` and
 * `signedIn(tokenResponse)`; returns `{ showSignin(notice), showForced(email) }`.
 */
export function initSignin(app) {
  let challenge = null;

  const showSignin = (notice = '') => {
    challenge = null;
    $('signin-notice').textContent = notice;
    $('signin-error').textContent = '';
    $('signin-password').value = '';
    $('twofa-code').value = '';
    $('twofa-error').textContent = '';
    $('twofa-remember').checked = false;
    app.showView('view-signin', $('signin-email').value ? $('signin-password') : $('signin-email'));
  };

  // Step 1: email and password.
  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const email = $('signin-email').value.trim();
    const password = $('signin-password').value;
    const error = $('signin-error');
    error.textContent = '';
    if (!email || !password) {
      error.textContent = t('signin.missing');
      (email ? $('signin-password') : $('signin-email')).focus();
      return;
    }
    await busy($('signin-submit'), t('signin.busy'), async () => {
      try {
        const resp = await api('POST', '/auth/login', {
          email,
          password,
          cookie: true,
          device_name: t('ua.deviceName', shortDescription(navigator.userAgent)).slice(0, 100),
        }, { retry: false });
        $('signin-notice').textContent = '';
        if (resp && resp.two_factor_required) {
          challenge = {
            token: resp.challenge_token,
            until: Date.now() + (Number(resp.expires_in) || 300) * 1000,
          };
          $('twofa-code').value = '';
          $('twofa-error').textContent = '';
          $('signin-password').value = '';
          app.showView('view-twofa', $('twofa-code'));
          return;
        }
        $('signin-password').value = '';
        $('forced-username').value = email;
        await app.signedIn(resp);
      } catch (err) {
        error.textContent = loginError(err, 'signin.invalid');
        $('signin-password').focus();
        $('signin-password').select();
      }
    });
  });

  // Step 2: the code.
  $('twofa-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const error = $('twofa-error');
    const code = $('twofa-code').value.trim();
    error.textContent = '';
    if (!challenge || Date.now() > challenge.until) {
      showSignin(t('twofa.expired'));
      return;
    }
    if (!code) {
      error.textContent = t('twofa.missing');
      $('twofa-code').focus();
      return;
    }
    await busy($('twofa-submit'), t('twofa.busy'), async () => {
      try {
        const resp = await api('POST', '/auth/verify-2fa', {
          challenge_token: challenge.token,
          code,
          remember_device: $('twofa-remember').checked,
          cookie: true,
        }, { retry: false });
        challenge = null;
        $('twofa-code').value = '';
        await app.signedIn(resp);
      } catch (err) {
        if (err instanceof ApiError && err.status === 401 && err.code !== 'invalid_credentials') {
          // The challenge is gone (expired, used up or unknown).
          showSignin(t('twofa.expired'));
          return;
        }
        error.textContent = loginError(err, 'twofa.invalid');
        $('twofa-code').focus();
        $('twofa-code').select();
      }
    });
  });
  $('twofa-back').addEventListener('click', () => showSignin(''));

  // The forced change.
  const forcedCheck = attachPolicyCheck({
    input: $('forced-new'),
    list: $('forced-reasons'),
    ok: $('forced-reasons-ok'),
    email: () => $('forced-username').value,
  });
  $('forced-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const error = $('forced-error');
    error.textContent = '';
    const current = $('forced-current').value;
    const next = $('forced-new').value;
    if (!current || !next) {
      error.textContent = t('pw.missing');
      (current ? $('forced-new') : $('forced-current')).focus();
      return;
    }
    await busy($('forced-submit'), null, async () => {
      try {
        await api('POST', '/auth/password', { current_password: current, new_password: next });
        $('forced-current').value = '';
        $('forced-new').value = '';
        forcedCheck.reset();
        await app.passwordChanged();
      } catch (err) {
        if (err instanceof ApiError && err.code === 'invalid_credentials') {
          error.textContent = t('pw.wrongCurrent');
          $('forced-current').focus();
          return;
        }
        const reasons = fieldReasons(err, 'new_password');
        if (reasons.length) {
          forcedCheck.show(reasons);
          error.textContent = t('pw.rejected');
          $('forced-new').focus();
          return;
        }
        error.textContent = errorText(err);
      }
    });
  });

  const showForced = (email) => {
    if (email) $('forced-username').value = email;
    $('forced-error').textContent = '';
    app.showView('view-forced', $('forced-current'));
  };

  return { showSignin, showForced };
}
