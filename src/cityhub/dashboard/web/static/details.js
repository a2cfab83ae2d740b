// The details drawer: an entity's current values with units, source and observation time,
// and a chart of one numeric attribute's history over a chosen period. A modal <dialog>:
// focus stays inside, Esc closes, focus returns to what opened it.
import { api, reportError } from './api.js';
import { drawChart } from './chart.js';
import { debounce, h, replaceKeepingFocus } from './dom.js';
import { fmtDateTime, fmtUnit, has, t, unitLabel } from './i18n.js';
import { categoryText, demoText, layerName, severityText } from './layers.js';

export const PERIODS = ['PT6H', 'P1D', 'P7D'];
// The attribute charted first, per layer.
const PREFERRED = {
  traffic: 'averageVehicleSpeed', parking: 'availableSpotNumber', air: 'pm25',
  crowding: 'peopleCount', weather: 'temperature', ev: 'availableCapacity',
  shelters: 'occupancy', hazards: 'severity',
};
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
// A postal address from the largest part to the smallest, as the demo cities write theirs.
const ADDRESS = ['addressRegion', 'addressLocality', 'streetAddress', 'postalCode'];
const LONG_TEXT = 160;
const DATED = ['dateObserved', 'observationDateTime', 'dateIssued', 'dateCreated'];

const state = {
  dialog: null, tenant: null, id: null, entity: null, attr: null, period: 'P1D',
  opener: null, chart: null, token: 0, timeZone: () => undefined,
};

export function initDetails(dialog, timeZone) {
  state.dialog = dialog;
  state.timeZone = timeZone;
  dialog.addEventListener('close', () => {
    state.chart?.destroy();
    state.chart = null;
    state.id = null;
    const back = state.opener;
    state.opener = null;
    // A live update may have redrawn the list: find the same item again by its key.
    const again = back?.isConnected ? back
      : back?.dataset?.key && document.querySelector(`[data-key="${CSS.escape(back.dataset.key)}"]`);
    again?.focus();
  });
  // A click on the backdrop (outside the drawer's box) closes it too.
  dialog.addEventListener('click', (e) => {
    if (e.target === dialog) dialog.close();
  });
}

function attrLabel(name) {
  if (has(`attr.${name}`)) return t(`attr.${name}`);
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

function valueText(attr) {
  const { value } = attr;
  if (value == null) return t('value.none');
  if (typeof value === 'string') {
    if (attr.name === 'demoData') return demoText(value);
    if (attr.name === 'severity') return severityText(value);
    if (attr.name === 'category' && has(`category.${value}`)) return categoryText(value);
  }
  if (typeof value === 'boolean') return t(value ? 'value.yes' : 'value.no');
  if (typeof value === 'number') return fmtUnit(value, attr.unitCode, attr.name);
  if (typeof value === 'string') {
    if (ISO_DATE.test(value)) return fmtDateTime(value, state.timeZone());
    // Codes the catalog knows (categories, hazard kinds) in words, anything else as it is.
    if (has(`enum.${value}`)) return t(`enum.${value}`);
    return has(`subCategory.${value}`) ? t(`subCategory.${value}`) : value;
  }
  if (Array.isArray(value)) return value.map((v) => valueText({ ...attr, value: v })).join(', ');
  if (typeof value === 'object') {
    if ('@value' in value) return valueText({ ...attr, value: value['@value'] });
    if (attr.name === 'address') {
      return ADDRESS.map((k) => value[k]).filter(Boolean).join(' ') || t('value.none');
    }
    return Object.entries(value)
      .map(([k, v]) => `${attrLabel(k)}: ${valueText({ name: k, value: v })}`).join('; ');
  }
  return String(value);
}

function sourceNode(source) {
  if (!source) return t('value.none');
  if (/^https?:\/\//.test(source)) {
    return h('a', { href: source, target: '_blank', rel: 'noopener noreferrer' }, source);
  }
  return source;
}

// The newest observedAt, else the entity's own date of observation or issue.
function latestObserved(entity) {
  const times = entity.attributes.map((a) => a.observedAt).filter(Boolean).sort();
  if (times.length) return times[times.length - 1];
  const dated = entity.attributes.find((a) => DATED.includes(a.name));
  const value = dated?.value;
  return (value && typeof value === 'object' ? value['@value'] : value) ?? null;
}

function chartable(entity) {
  return entity.attributes.filter((a) => a.numeric);
}

function defaultAttr(entity) {
  const numeric = chartable(entity);
  const preferred = numeric.find((a) => a.name === PREFERRED[entity.layer]);
  return (preferred || numeric.find((a) => a.observedAt) || numeric[0])?.name ?? null;
}

/** Open the drawer on an entity; `opener` gets focus back when it closes. */
export async function openDetails(tenant, id, opener) {
  const token = ++state.token;
  Object.assign(state, { tenant, id, entity: null, attr: null });
  state.opener = opener || document.activeElement;
  const dialog = state.dialog;
  dialog.replaceChildren(header(t('details.loading')), h('p', { class: 'muted' }, t('details.loading')));
  dialog.setAttribute('aria-busy', 'true');
  if (!dialog.open) dialog.showModal();
  dialog.querySelector('h2').focus();
  try {
    const entity = await api.entity(tenant, id);
    if (token !== state.token) return;
    state.entity = entity;
    state.attr = defaultAttr(entity);
    render();
    dialog.querySelector('h2').focus();
  } catch (err) {
    if (token !== state.token) return;
    reportError('details', err);
    dialog.replaceChildren(header(t('details.title')), h('p', {}, t('details.failed')));
  } finally {
    dialog.removeAttribute('aria-busy');
  }
}

function header(title) {
  return h('div', { class: 'drawer-head' },
    h('h2', { id: 'details-title', tabindex: '-1' }, title),
    h('button', {
      type: 'button', class: 'icon-button', 'aria-label': t('action.close'),
      'data-testid': 'details-close', onclick: () => state.dialog.close(),
    }, h('span', { 'aria-hidden': 'true' }, '×')));
}

function render() {
  const e = state.entity;
  const badge = e.demoData && h('span', { class: `badge demo demo-${e.demoData}` }, demoText(e.demoData));
  const typeLabel = has(`type.${e.type}`) ? t(`type.${e.type}`) : e.type;
  state.dialog.replaceChildren(
    header(e.name || e.id),
    h('p', { class: 'meta' }, typeLabel, e.layer ? ` · ${layerName(e.layer)}` : '', ' ', badge),
    h('dl', { class: 'facts' },
      h('dt', {}, t('details.source')), h('dd', {}, sourceNode(e.source)),
      h('dt', {}, t('details.observed')), h('dd', {}, fmtDateTime(latestObserved(e), state.timeZone())),
      h('dt', {}, t('details.id')), h('dd', { class: 'id' }, e.id)),
    h('h3', {}, t('details.values')),
    h('div', { class: 'table-wrap', id: 'details-values' }, valuesTable(e)),
    historySection());
  drawHistory();
}

// Long structured values (feed payloads) fold away behind their first words.
function valueCell(attr) {
  const text = valueText(attr);
  if (text.length <= LONG_TEXT) return h('td', {}, text);
  return h('td', {}, h('details', { class: 'long-value' },
    h('summary', {}, `${text.slice(0, LONG_TEXT / 2)}…`), h('p', {}, text)));
}

function valuesTable(e) {
  const attrs = e.attributes.filter((a) => a.name !== 'location');
  const timed = attrs.some((a) => a.observedAt);
  const rows = attrs.map((a) => h('tr', {},
    h('th', { scope: 'row' }, attrLabel(a.name)),
    valueCell(a),
    timed && h('td', { class: 'muted when' }, a.observedAt ? fmtDateTime(a.observedAt, state.timeZone()) : ''),
    h('td', {}, a.numeric && h('button', {
      type: 'button', class: 'small', 'data-key': `chart-${a.name}`,
      'aria-pressed': String(a.name === state.attr),
      'aria-label': t('details.chartOf', { attr: attrLabel(a.name) }),
      onclick: () => chooseAttr(a.name),
    }, t('details.chart')))));
  return h('table', { class: 'values' },
    h('caption', { class: 'sr-only' }, t('details.values')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('details.attribute')),
      h('th', { scope: 'col' }, t('details.value')),
      timed && h('th', { scope: 'col', class: 'when' }, t('details.observedAt')),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('details.chart'))))),
    h('tbody', {}, rows));
}

// "PM2.5 (µg/m³)": the attribute with the unit its values are in.
function chartTitle(name) {
  const unit = state.entity.attributes.find((a) => a.name === name)?.unitCode;
  return unit ? `${attrLabel(name)} (${unitLabel(unit)})` : attrLabel(name);
}

function historySection() {
  if (!state.attr) return h('p', { class: 'muted' }, t('details.noNumeric'));
  return h('section', { class: 'history', 'aria-labelledby': 'history-title' },
    h('h3', { id: 'history-title' }, t('details.history', { attr: chartTitle(state.attr) })),
    h('div', { class: 'segmented', role: 'group', 'aria-label': t('details.period') },
      PERIODS.map((p) => h('button', {
        type: 'button', 'data-testid': `period-${p}`, 'data-key': `period-${p}`,
        'aria-pressed': String(p === state.period), onclick: () => choosePeriod(p),
      }, t(`period.${p}`)))),
    h('div', { class: 'chart', 'data-testid': 'details-chart', 'data-state': 'loading' }));
}

function chooseAttr(name) {
  state.attr = name;
  refreshHistorySection();
}

function choosePeriod(period) {
  state.period = period;
  refreshHistorySection();
}

function refreshHistorySection() {
  const old = state.dialog.querySelector('.history');
  const focusedKey = document.activeElement?.dataset?.key;
  const fresh = historySection();
  if (old) old.replaceWith(fresh);
  for (const button of state.dialog.querySelectorAll('#details-values button[aria-pressed]')) {
    button.setAttribute('aria-pressed', String(button.dataset.key === `chart-${state.attr}`));
  }
  if (focusedKey) state.dialog.querySelector(`[data-key="${CSS.escape(focusedKey)}"]`)?.focus();
  drawHistory();
}

async function drawHistory() {
  const box = state.dialog.querySelector('[data-testid="details-chart"]');
  if (!box || !state.attr) return;
  const { tenant, id, attr, period } = state;
  const token = state.token;
  state.chart?.destroy();
  box.replaceChildren(h('p', { class: 'muted' }, t('details.loading')));
  try {
    const history = await api.history(tenant, id, attr, period);
    if (token !== state.token || attr !== state.attr || period !== state.period) return;
    const unit = history.unitCode ?? state.entity.attributes.find((a) => a.name === attr)?.unitCode;
    state.chart = drawChart(box, {
      label: attrLabel(attr), points: history.points, timeZone: state.timeZone(),
      format: (v) => fmtUnit(v, unit, attr),
    });
    box.dataset.state = 'ready';
    box.dataset.points = String(history.points?.length ?? 0);
    box.dataset.period = period;
  } catch (err) {
    if (token !== state.token) return;
    box.dataset.state = 'error';
    box.replaceChildren(h('p', {}, t('details.historyFailed')));
    reportError('history', err);
  }
}

/** Live: reload the open entity when it changed (values and chart). */
const changed = new Set();

export function refreshIfOpen(ids) {
  for (const id of ids) changed.add(id);
  reloadOpen();
}

const reloadOpen = debounce(async () => {
  const hit = changed.has(state.id);
  changed.clear();
  if (!state.dialog?.open || !state.entity || !hit) return;
  const token = state.token;
  try {
    const entity = await api.entity(state.tenant, state.id);
    if (token !== state.token || !state.dialog.open) return;
    state.entity = entity;
    replaceKeepingFocus(state.dialog.querySelector('#details-values'), valuesTable(entity));
    drawHistory();
  } catch (err) {
    reportError('details', err);
  }
}, 300);
