// Everything on the map as a list of buttons, so the map's features can be reached and
// opened with the keyboard (and read by screen readers). Filter by layer and by name.
import { h, replaceKeepingFocus } from './dom.js';
import { t } from './i18n.js';
import { demoText, headline, layerName, levelText } from './layers.js';
import { isVisible } from './map.js';
import * as store from './store.js';

const SHOWN = 50;
const state = { layers: [], onOpen: () => {}, list: null, count: null, layer: null, filter: null };

export function initFeatureList(root, layers, onOpen) {
  state.layers = layers;
  state.onOpen = onOpen;
  state.list = root.querySelector('[data-testid="feature-list"]');
  state.count = root.querySelector('#feature-count');
  state.layer = root.querySelector('#feature-layer');
  state.filter = root.querySelector('#feature-filter');
  state.layer.replaceChildren(
    h('option', { value: '' }, t('features.allVisible')),
    ...layers.map((id) => h('option', { value: id }, layerName(id))));
  state.layer.addEventListener('change', renderFeatureList);
  state.filter.addEventListener('input', renderFeatureList);
}

function candidates() {
  const chosen = state.layer.value;
  const layers = chosen ? [chosen] : state.layers.filter(isVisible);
  const needle = state.filter.value.trim().toLocaleLowerCase();
  const out = [];
  for (const layer of layers) {
    for (const f of store.features(layer)) {
      const name = f.properties.name || f.properties.id;
      if (needle && !String(name).toLocaleLowerCase().includes(needle)) continue;
      out.push(f);
    }
  }
  return out;
}

function rank(a, b) {
  const la = a.properties.level ?? -1;
  const lb = b.properties.level ?? -1;
  if (la !== lb) return lb - la;
  return String(a.properties.name || '').localeCompare(String(b.properties.name || ''));
}

function item(f) {
  const p = f.properties;
  const level = p.level == null ? 'unknown' : p.level;
  return h('li', {}, h('button', {
    type: 'button', class: 'feature-button', 'data-key': p.id, 'data-layer': p.layer,
    onclick: (e) => state.onOpen(p.id, e.currentTarget),
  },
  h('span', { class: `swatch level-${level}`, 'aria-hidden': 'true' }),
  h('span', { class: 'feature-text' },
    h('strong', {}, p.name || p.id),
    h('span', { class: 'muted' }, `${layerName(p.layer)} · ${levelText(p.layer, p.level)}`),
    h('span', {}, headline(p)),
    p.demoData && h('span', { class: `badge demo demo-${p.demoData}` }, demoText(p.demoData)))));
}

export function renderFeatureList() {
  if (!state.list) return;
  const all = candidates();
  const shown = all.length > SHOWN ? all.sort(rank).slice(0, SHOWN) : all.sort(rank);
  state.count.textContent = all.length > SHOWN
    ? t('features.showing', { shown: SHOWN, count: all.length })
    : t('features.count', { count: all.length });
  replaceKeepingFocus(state.list, shown.map(item));
}
