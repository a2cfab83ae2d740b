// The dashboard's JSON API (docs/dashboard.md) and the notice that tells the user when a
// request failed.
import { currentLang, t } from './i18n.js';
import { h } from './dom.js';

const BASE = '/dashboard/api';

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

async function getJSON(path, params = {}) {
  const url = new URL(BASE + path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value != null) url.searchParams.set(name, value);
  }
  let response;
  try {
    response = await (window.cityhubPrefetch?.take(url)
      ?? fetch(url, { headers: { Accept: 'application/json' } }));
  } catch (err) {
    throw new ApiError(0, err.message);
  }
  if (!response.ok) {
    let detail;
    try {
      const body = await response.json();
      detail = body.detail || body.title;
    } catch {
      detail = response.statusText;
    }
    throw new ApiError(response.status, detail);
  }
  return response.json();
}

const city = (tenant) => `/cities/${encodeURIComponent(tenant)}`;

export const api = {
  config: () => getJSON('/config'),
  layer: (tenant, layer) =>
    getJSON(`${city(tenant)}/layers/${encodeURIComponent(layer)}`, { lang: currentLang() }),
  summary: (tenant) => getJSON(`${city(tenant)}/summary`, { lang: currentLang() }),
  entity: (tenant, id) =>
    getJSON(`${city(tenant)}/entities/${encodeURIComponent(id)}`, { lang: currentLang() }),
  history: (tenant, id, attr, period) =>
    getJSON(`${city(tenant)}/entities/${encodeURIComponent(id)}/history`, { attr, period }),
  compare: (period) => getJSON('/compare', { period, lang: currentLang() }),
};

// The live stream's features carry names too, so it takes the language like the others.
export const liveUrl = (tenant) =>
  `${BASE}${city(tenant)}/live?lang=${encodeURIComponent(currentLang())}`;

/**
 * Show that something could not be loaded (what, and why), in the page's notice area.
 * The same notice is replaced rather than stacked.
 */
export function reportError(what, err) {
  console.error(what, err);
  const area = document.getElementById('notices');
  if (!area) return;
  const key = `notice-${what}`;
  area.querySelector(`[data-notice="${CSS.escape(key)}"]`)?.remove();
  const reason = err instanceof ApiError && err.status === 0
    ? t('error.network')
    : (err?.detail || err?.message || '');
  const close = h('button', { type: 'button', class: 'notice-close' }, t('action.dismiss'));
  const notice = h('div', { class: 'notice', 'data-notice': key },
    h('span', { class: 'notice-icon', 'aria-hidden': 'true' }, '!'),
    h('span', {}, t('error.load', { what: t(`what.${what}`), reason })),
    close);
  close.addEventListener('click', () => notice.remove());
  area.append(notice);
}

export function clearError(what) {
  document.querySelector(`[data-notice="notice-${CSS.escape(what)}"]`)?.remove();
}
