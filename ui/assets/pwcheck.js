// Live password-policy reasons: asks POST /auth/password/check ~300 ms after
// typing stops and lists the reasons; on any error the last list stays.

import { api } from './api.js';
import { debounce } from './format.js';

/**
 * `input`: the new-password field; `list`: its <ul> of reasons; `ok`: the
 * element shown when the password is acceptable; `email()`: optional.
 */
export function attachPolicyCheck({ input, list, ok, email }) {
  let seq = 0;

  const render = (reasons, acceptable) => {
    list.replaceChildren(...reasons.map((r) => {
      const li = document.createElement('li');
      li.textContent = r;
      return li;
    }));
    list.dataset.acceptable = acceptable ? 'true' : 'false';
    if (ok) ok.hidden = !acceptable;
  };

  const check = async () => {
    const password = input.value;
    const mine = ++seq;
    if (!password) { render([], false); return; }
    const body = { password };
    const mail = email ? String(email() || '').trim() : '';
    if (mail) body.email = mail;
    try {
      const res = await api('POST', '/auth/password/check', body, { retry: false });
      if (mine !== seq || !res) return;
      const reasons = Array.isArray(res.reasons) ? res.reasons.filter((r) => typeof r === 'string') : [];
      render(reasons, res.acceptable === true);
    } catch {
      // Keep the last list.
    }
  };

  const later = debounce(check, 300);
  input.addEventListener('input', later);

  return {
    /** Empties the list (after the form was sent). */
    reset() { seq++; render([], false); },
    /** Shows reasons the server gave on a 422. */
    show(reasons) { seq++; render(reasons, false); },
    /** Checks again now (e.g. the email beside it changed). */
    recheck: later,
  };
}
