// A small user-agent reader: browser (with major version) and operating
// system, enough to tell a person's sessions apart. Not exhaustive.

import { t } from './strings.js';

// [name, pattern with the version in group 1]; the first match wins, so
// browsers built on Chrome come before Chrome and Chrome before Safari.
const BROWSERS = [
  ['Edge', /\bEdg(?:e|A|iOS)?\/(\d+)/],
  ['Opera', /\b(?:OPR|Opera)\/(\d+)/],
  ['Samsung Internet', /\bSamsungBrowser\/(\d+)/],
  ['Vivaldi', /\bVivaldi\/(\d+)/],
  ['Yandex Browser', /\bYaBrowser\/(\d+)/],
  ['Headless Chrome', /\bHeadlessChrome\/(\d+)/],
  ['Firefox', /\b(?:Firefox|FxiOS)\/(\d+)/],
  ['Chrome', /\b(?:Chrome|CriOS)\/(\d+)/],
  ['Chromium', /\bChromium\/(\d+)/],
  ['Safari', /\bVersion\/(\d+)(?:\.\d+)*.*\bSafari\//],
  ['Internet Explorer', /\b(?:MSIE |rv:)(\d+).*Trident\//],
  // Programs rather than browsers.
  ['curl', /^curl\/(\d+)/],
  ['Python', /\bpython-(?:requests|httpx|urllib\d?)\/(\d+)/i],
  ['Go', /\bGo-http-client\/(\d+)/],
  ['okhttp', /\bokhttp\/(\d+)/],
  ['Postman', /\bPostmanRuntime\/(\d+)/],
  ['Node.js', /\b(?:node-fetch|undici|axios)\/(\d+)/],
  ['Wget', /^Wget\/(\d+)/],
];

const SYSTEMS = [
  ['iPadOS', /\biPad\b.*OS (\d+)/],
  ['iOS', /\b(?:iPhone|iPod)\b.*OS (\d+)/],
  ['Android', /\bAndroid (\d+)/],
  ['Android', /\bAndroid\b()/],
  ['ChromeOS', /\bCrOS\b()/],
  ['Windows', /\bWindows NT (\d+)/],
  ['Windows', /\bWindows\b()/],
  ['macOS', /\bMac OS X\b()/],
  ['Ubuntu', /\bUbuntu\b()/],
  ['Fedora', /\bFedora\b()/],
  ['FreeBSD', /\bFreeBSD\b()/],
  ['Linux', /\bLinux\b()/],
];

/** `{ browser, version, os, osVersion }`; unknown parts are ''. */
export function parseUserAgent(ua) {
  const s = String(ua || '');
  const out = { browser: '', version: '', os: '', osVersion: '' };
  for (const [name, re] of BROWSERS) {
    const m = re.exec(s);
    if (m) { out.browser = name; out.version = m[1] || ''; break; }
  }
  for (const [name, re] of SYSTEMS) {
    const m = re.exec(s);
    if (m) { out.os = name; out.osVersion = m[1] || ''; break; }
  }
  // Windows NT 10 covers 10 and 11; older numbers are named.
  if (out.os === 'Windows') {
    const names = { 6: '7/8', 5: 'XP' };
    out.osVersion = out.osVersion === '10' ? '' : (names[out.osVersion] || '');
  }
  return out;
}

/** "Firefox 133 on Linux" (or as much of it as is known). */
export function describeUserAgent(ua) {
  const p = parseUserAgent(ua);
  const browser = p.browser ? (p.version ? `${p.browser} ${p.version}` : p.browser) : t('ua.unknownBrowser');
  const os = p.os ? (p.osVersion ? `${p.os} ${p.osVersion}` : p.os) : t('ua.unknownOs');
  if (!p.browser && !p.os) return ua ? String(ua).slice(0, 60) : t('ua.unknownBrowser');
  // Programs such as curl name no system.
  if (!p.os) return browser;
  return t('ua.on', browser, os);
}

/** Browser and system without versions, for the session's device name. */
export function shortDescription(ua) {
  const p = parseUserAgent(ua);
  if (p.browser && !p.os) return p.browser;
  return t('ua.on', p.browser || t('ua.unknownBrowser'), p.os || t('ua.unknownOs'));
}
