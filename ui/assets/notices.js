// Notices in #notice (aria-live=polite): each can be dismissed; the newest
// few are kept.

import { t } from './strings.js';

const KEEP = 5;

export function notify(text) {
  const box = document.getElementById('notice');
  if (!box || !text) return;
  const item = document.createElement('div');
  item.className = 'notice';
  const p = document.createElement('p');
  p.textContent = text;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'link';
  close.textContent = t('common.dismiss');
  close.addEventListener('click', () => {
    item.remove();
    const main = document.getElementById('main');
    if (main) main.focus();
  });
  item.append(p, close);
  box.prepend(item);
  while (box.children.length > KEEP) box.lastElementChild.remove();
}

export function clearNotices() {
  const box = document.getElementById('notice');
  if (box) box.replaceChildren();
}
