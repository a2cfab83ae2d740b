// Compare cities: a card per city with its current figures and charts of the same series on
// the same scales, side by side.
import { api, clearError, reportError } from './api.js';
import { drawChart } from './chart.js';
import { h } from './dom.js';
import { fmtPercent, fmtUnit, pickName, t } from './i18n.js';
import { severityBadge } from './panels.js';

const PERIODS = ['P1D', 'P7D'];
const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'];
const METRICS = [
  { key: 'parkingOccupancy', label: 'compare.parkingOccupancy', scale: 100,
    format: (v) => fmtUnit(v, 'P1'), axis: (v) => fmtUnit(v, 'P1'), color: '#1d4ed8' },
  { key: 'averageSpeed', label: 'compare.averageSpeed', scale: 1,
    format: (v) => fmtUnit(v, 'KMH'), color: '#4b5563' },
  { key: 'pm25', label: 'compare.pm25', scale: 1, format: (v) => fmtUnit(v, 'GQ'), color: '#0e7490' },
];
const state = { root: null, cities: [], period: 'P1D', charts: [], token: 0 };

export function initCompare(root, cities) {
  state.root = root;
  state.cities = cities;
}

function timeZoneOf(tenant) {
  return state.cities.find((c) => c.tenant === tenant)?.timeZone;
}

function scaled(points, scale) {
  return (points || []).map(([x, y]) => [x, y == null ? null : y * scale]);
}

// One y range per metric across the cities, so the charts can be compared by eye.
function ranges(cities) {
  const out = {};
  for (const m of METRICS) {
    let max = 0;
    for (const c of cities) {
      for (const [, y] of c.series?.[m.key] || []) if (y != null) max = Math.max(max, y * m.scale);
    }
    out[m.key] = [0, max > 0 ? Math.ceil(max * 1.1) : 1];
  }
  return out;
}

function alertsRow(alerts = {}) {
  const nonZero = SEVERITIES.filter((s) => alerts[s]);
  if (!nonZero.length) return h('span', { class: 'muted' }, t('compare.noAlerts'));
  return h('ul', { class: 'sev-counts' }, nonZero.map((s) => h('li', {},
    severityBadge(s), ' ', h('span', { class: 'count' }, t('compare.alertCount', { count: alerts[s] })))));
}

function card(city, yRanges) {
  const name = pickName(city.name, city.tenant);
  const now = city.now || {};
  const chartBoxes = METRICS.map((m) => h('div', { class: 'chart', 'data-testid': 'compare-chart', 'data-metric': m.key }));
  const el = h('article', { class: 'compare-card', 'data-testid': 'compare-card', 'data-tenant': city.tenant },
    h('h3', {}, name, ' ', city.simulated && h('span', { class: 'badge demo demo-simulated' }, t('demo.simulated'))),
    h('dl', { class: 'stats' },
      h('div', { class: 'stat' }, h('dt', {}, t('compare.parkingOccupancy')),
        h('dd', {}, h('span', { class: 'stat-value' }, fmtPercent(now.parkingOccupancy)))),
      h('div', { class: 'stat' }, h('dt', {}, t('compare.averageSpeed')),
        h('dd', {}, h('span', { class: 'stat-value' }, fmtUnit(now.averageSpeed, 'KMH')))),
      h('div', { class: 'stat' }, h('dt', {}, t('compare.pm25')),
        h('dd', {}, h('span', { class: 'stat-value' }, fmtUnit(now.pm25, 'GQ'))))),
    h('h4', {}, t('compare.alerts')), alertsRow(now.alerts),
    METRICS.map((m, i) => h('section', { class: 'compare-chart' },
      h('h4', {}, t(m.label)), chartBoxes[i])));
  return { el, draw: () => METRICS.forEach((m, i) => state.charts.push(drawChart(chartBoxes[i], {
    label: t(m.label), points: scaled(city.series?.[m.key], m.scale), format: m.format,
    axisFormat: m.axis,
    timeZone: timeZoneOf(city.tenant), height: 150, color: m.color, yRange: yRanges[m.key],
  }))) };
}

function periodButtons() {
  return h('div', { class: 'segmented', role: 'group', 'aria-label': t('details.period') },
    PERIODS.map((p) => h('button', {
      type: 'button', 'aria-pressed': String(p === state.period), 'data-testid': `compare-period-${p}`,
      onclick: () => { state.period = p; showCompare(); },
    }, t(`period.${p}`))));
}

/** Render the comparison view (fetching the figures for the chosen period). */
export async function showCompare() {
  const root = state.root;
  const token = ++state.token;
  const grid = h('div', { class: 'compare-grid', 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('details.loading')));
  const focused = document.activeElement?.dataset?.testid;
  root.replaceChildren(
    h('div', { class: 'compare-head' },
      h('h2', { id: 'compare-title', tabindex: '-1' }, t('compare.title')), periodButtons()),
    h('p', { class: 'muted' }, t('compare.intro')),
    grid);
  if (focused) root.querySelector(`[data-testid="${focused}"]`)?.focus();
  let data;
  try {
    data = await api.compare(state.period);
    clearError('compare');
  } catch (err) {
    if (token !== state.token) return;
    reportError('compare', err);
    grid.replaceChildren(h('p', {}, t('compare.failed')));
    grid.removeAttribute('aria-busy');
    return;
  }
  if (token !== state.token) return;
  for (const chart of state.charts.splice(0)) chart.destroy();
  const yRanges = ranges(data.cities);
  const cards = data.cities.map((c) => card(c, yRanges));
  grid.replaceChildren(...cards.map((c) => c.el));
  grid.removeAttribute('aria-busy');
  cards.forEach((c) => c.draw());
  root.dataset.ready = 'true';
}

export function leaveCompare() {
  state.token += 1;
  for (const chart of state.charts.splice(0)) chart.destroy();
  if (state.root) state.root.dataset.ready = 'false';
}
