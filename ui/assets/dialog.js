// The in-page confirm dialog (#confirm-dialog) instead of window.confirm.

import { t } from './strings.js';

/**
 * Asks `text` under `title`; resolves true when #confirm-yes is chosen.
 * Focus starts on Cancel and returns to where it was.
 */
export function confirmAction({ title, text, yes }) {
  const dlg = document.getElementById('confirm-dialog');
  const yesBtn = document.getElementById('confirm-yes');
  const noBtn = document.getElementById('confirm-no');
  document.getElementById('confirm-title').textContent = title || t('dialog.title');
  document.getElementById('confirm-text').textContent = text || '';
  yesBtn.textContent = yes || t('common.confirm');
  noBtn.textContent = t('common.cancel');
  const back = document.activeElement;
  return new Promise((resolve) => {
    const finish = (answer) => {
      yesBtn.removeEventListener('click', onYes);
      noBtn.removeEventListener('click', onNo);
      dlg.removeEventListener('cancel', onCancel);
      if (dlg.open) dlg.close();
      if (back && typeof back.focus === 'function' && document.contains(back)) back.focus();
      resolve(answer);
    };
    const onYes = () => finish(true);
    const onNo = () => finish(false);
    const onCancel = (ev) => { ev.preventDefault(); finish(false); };
    yesBtn.addEventListener('click', onYes);
    noBtn.addEventListener('click', onNo);
    dlg.addEventListener('cancel', onCancel);
    if (typeof dlg.showModal === 'function') dlg.showModal();
    else dlg.setAttribute('open', '');
    noBtn.focus();
  });
}
