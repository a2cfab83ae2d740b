// Boot: the catalog the server put in the page, the hub's config, then the city view or
// the comparison (#compare); language and city pickers; live changes into map and panels.
import { api, clearError, reportError } from './api.js';
import { initCompare, leaveCompare, showCompare } from './compare.js';
import { h, debounce, translateStatic } from './dom.js';
import { initDetails, openDetails, refreshIfOpen } from './details.js';
import { initFeatureList, renderFeatureList } from './featurelist.js';
import { initI18n, pickName, setTimeZone, t } from './i18n.js';
import { LAYER_ACCENTS, LEVEL_COLORS, layerName } from './layers.js';
import { followCity, initLive } from './live.js';
import { applyDiffs, beginCity, createMap, focusFeature, setVisible, showLayers } from './map.js';
import { initPanels, renderSummary, resetPanels } from './panels.js';
import * as store from './store.js';

const boot = JSON.parse(document.getElementById('boot').textContent || '{}');
initI18n(boot.lang || document.documentElement.lang || 'en', boot.messages);
translateStatic(document.body, t);
document.title = t('app.title');
window.cityhubDashboard = { map: null, lastChangeAt: 0 };

const $ = (id) => document.getElementById(id);
const state = { config: null, city: null, loading: false, pending: [] };
const LAST_CITY = 'cityhub.city';

function chooseLanguage(tag) {
  document.cookie = `cityhub_lang=${encodeURIComponent(tag)}; path=/; max-age=31536000; SameSite=Lax`;
  const url = new URL(location.href);
  url.searchParams.set('lang', tag);
  location.assign(url);
}

function setupPickers(config) {
  const languages = config.languages?.length ? config.languages : (boot.languages || []);
  const langSelect = $('lang-select');
  langSelect.replaceChildren(...languages.map((l) => h('option', {
    value: l.tag, lang: l.tag, selected: l.tag === boot.lang,
  }, l.name)));
  langSelect.addEventListener('change', () => chooseLanguage(langSelect.value));
  const citySelect = $('city-select');
  citySelect.replaceChildren(...config.cities.map((c) => h('option', { value: c.tenant },
    c.simulated
      ? t('picker.citySimulated', { name: pickName(c.name, c.tenant) })
      : pickName(c.name, c.tenant))));
  citySelect.addEventListener('change', () => {
    location.hash = `city/${encodeURIComponent(citySelect.value)}`;
  });
}

function setupLayers(config) {
  const row = $('layer-toggles');
  for (const { id } of config.layers) {
    const input = h('input', { type: 'checkbox', checked: true, 'data-testid': `layer-toggle-${id}`, id: `toggle-${id}` });
    input.addEventListener('change', () => {
      setVisible(id, input.checked);
      renderFeatureList();
    });
    row.append(h('label', { class: 'toggle', for: `toggle-${id}` }, input,
      h('span', { class: 'toggle-swatch', style: `--accent:${LAYER_ACCENTS[id] || '#374151'}`, 'aria-hidden': 'true' }),
      layerName(id)));
  }
  $('legend').replaceChildren(h('span', { class: 'legend-title' }, t('legend.title')),
    h('ul', {}, LEVEL_COLORS.map((color, level) => h('li', {},
      h('span', { class: `swatch level-${level}`, 'aria-hidden': 'true' }), t(`level.${level}`)))),
    h('span', { class: 'muted' }, t('legend.size')));
}

async function openEntity(id, opener) {
  focusFeature(id);
  await openDetails(state.city.tenant, id, opener);
}

const refreshSummary = async () => {
  const city = state.city;
  try {
    const summary = await api.summary(city.tenant);
    if (city !== state.city) return;
    renderSummary(summary, city.timeZone);
    clearError('summary');
  } catch (err) {
    reportError('summary', err);
  }
};

const refreshSoon = debounce(() => {
  refreshSummary();
  renderFeatureList();
}, 250);

function onChanges(events) {
  if (state.loading) {
    state.pending.push(...events);
    return;
  }
  const diffs = store.applyChanges(events);
  applyDiffs(diffs).catch((err) => console.error('live update', err));
  refreshIfOpen(new Set(events.map((e) => e.id ?? e.properties?.id)));
  refreshSoon();
}

async function loadLayers(city) {
  const results = await Promise.allSettled(
    state.config.layers.map(({ id }) => api.layer(city.tenant, id)));
  if (city !== state.city) return false;
  results.forEach((result, i) => {
    const { id } = state.config.layers[i];
    if (result.status === 'fulfilled') store.setLayer(id, result.value);
    else {
      store.setLayer(id, null);
      reportError('layer', result.reason);
    }
  });
  return true;
}

async function loadCity(city) {
  state.city = city;
  state.loading = true;
  state.pending = [];
  localStorage.setItem(LAST_CITY, city.tenant);
  $('city-select').value = city.tenant;
  setTimeZone(city.timeZone);
  store.clearAll();
  resetPanels();
  const token = beginCity(city);
  followCity(city.tenant, onChanges, () => reloadData(city));
  // The summary is asked for once the layers are in: on a busy hub the map comes first.
  const loaded = await loadLayers(city);
  performance.mark('cityhub:layers-loaded');
  if (!loaded) return;
  state.loading = false;
  if (state.pending.length) store.applyChanges(state.pending.splice(0));
  // The list and the panels are built while MapLibre's worker cuts the data into tiles.
  await showLayers(token, () => {
    renderFeatureList();
    refreshSummary();
  });
}

/** After a new live connection: changes may have been missed, fetch everything again. */
async function reloadData(city) {
  if (city !== state.city || state.loading) return;
  await loadCity(city);
}

function parseHash() {
  const hash = decodeURIComponent(location.hash.slice(1));
  if (hash === 'compare') return { view: 'compare' };
  const match = /^city\/(.+)$/.exec(hash);
  return { view: 'city', tenant: match?.[1] };
}

async function route() {
  const { view, tenant } = parseHash();
  const compare = view === 'compare';
  $('nav-city').toggleAttribute('aria-current', !compare);
  $('nav-compare').toggleAttribute('aria-current', compare);
  if (!compare) $('nav-city').setAttribute('aria-current', 'page');
  else $('nav-compare').setAttribute('aria-current', 'page');
  $('city-view').hidden = compare;
  $('compare-view').hidden = !compare;
  $('live-status').hidden = compare;
  if (compare) {
    await showCompare();
    return;
  }
  leaveCompare();
  window.cityhubDashboard.map?.resize();
  const cities = state.config.cities;
  const saved = localStorage.getItem(LAST_CITY);
  const city = cities.find((c) => c.tenant === tenant)
    || cities.find((c) => c.tenant === saved) || cities[0];
  $('nav-city').setAttribute('href', `#city/${encodeURIComponent(city.tenant)}`);
  if (city !== state.city) await loadCity(city);
}

async function main() {
  try {
    state.config = await api.config();
  } catch (err) {
    reportError('config', err);
    $('notices').append(h('button', { type: 'button', onclick: () => location.reload() }, t('action.retry')));
    return;
  }
  const config = state.config;
  setupPickers(config);
  setupLayers(config);
  initLive($('live-status'));
  initDetails($('details'), () => state.city?.timeZone);
  initPanels(openEntity);
  initFeatureList($('features'), config.layers.map((l) => l.id), openEntity);
  initCompare($('compare-view'), config.cities);
  window.cityhubDashboard.map = createMap($('map'), config,
    (id) => openEntity(id, window.cityhubDashboard.map.getCanvas()));
  addEventListener('hashchange', route);
  await route();
}

main();
