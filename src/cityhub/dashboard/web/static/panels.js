// The panels beside the map, filled from the city summary: active alerts, parking, traffic,
// air quality, crowding hotspots and weather. Each item that is an entity opens its details.
import { h, replaceKeepingFocus } from './dom.js';
import { fmtDateTime, fmtInteger, fmtPercent, fmtUnit, t } from './i18n.js';
import { categoryText, levelText, severityIcon, severityText } from './layers.js';

const ALERTS_SHOWN = 30;
const state = { onOpen: () => {}, allAlerts: false, summary: null, timeZone: undefined };

export function initPanels(onOpen) {
  state.onOpen = onOpen;
}

const body = (name) => document.querySelector(`[data-testid="panel-${name}"] .panel-body`);

function stat(label, value, extra) {
  return h('div', { class: 'stat' },
    h('dt', {}, label), h('dd', {}, h('span', { class: 'stat-value' }, value), extra || ''));
}

function openButton(id, className, ...content) {
  return h('button', {
    type: 'button', class: className, 'data-key': id,
    onclick: (e) => state.onOpen(id, e.currentTarget),
  }, ...content);
}

function levelChip(layer, level) {
  const cls = level == null ? 'level-unknown' : `level-${level}`;
  return h('span', { class: `chip ${cls}` }, levelText(layer, level));
}

export function severityBadge(severity) {
  return h('span', { class: `badge sev sev-${severity || 'unknown'}` },
    h('span', { 'aria-hidden': 'true', class: 'sev-icon' }, severityIcon(severity)), ' ',
    severityText(severity));
}

function renderAlerts(alerts = [], timeZone) {
  const shown = state.allAlerts ? alerts : alerts.slice(0, ALERTS_SHOWN);
  const items = shown.map((a) => h('li', {
    class: `alert sev-border-${a.severity || 'unknown'}`, 'data-testid': 'alert-item',
    'data-severity': a.severity || 'unknown',
  }, openButton(a.id, 'alert-button',
    h('span', { class: 'alert-top' }, severityBadge(a.severity),
      h('time', { datetime: a.issued || '' }, a.issued ? fmtDateTime(a.issued, timeZone) : '')),
    h('strong', { class: 'alert-name' }, a.name || a.id),
    h('span', { class: 'muted' }, [categoryText(a.category, a.subCategory), a.area]
      .filter(Boolean).join(' · ')),
    a.description && h('span', { class: 'alert-text' }, a.description))));
  const more = alerts.length > shown.length && h('button', {
    type: 'button', class: 'link-button', 'data-key': 'alerts-more',
    onclick: () => { state.allAlerts = true; renderAll(); },
  }, t('panel.alerts.showAll', { count: alerts.length }));
  replaceKeepingFocus(body('alerts'),
    h('p', { class: 'panel-lead' }, t('panel.alerts.count', { count: alerts.length })),
    alerts.length ? h('ul', { class: 'alert-list' }, items) : h('p', { class: 'muted' }, t('panel.alerts.none')),
    more);
}

function renderParking(p) {
  if (!p || !p.lots) {
    replaceKeepingFocus(body('parking'), h('p', { class: 'muted' }, t('panel.empty')));
    return;
  }
  const occupancy = p.total ? (p.occupancy ?? 1 - p.free / p.total) : null;
  replaceKeepingFocus(body('parking'), h('dl', { class: 'stats' },
    stat(t('panel.parking.free'), p.total ? t('panel.parking.freeOfTotal', {
      free: fmtInteger(p.free), total: fmtInteger(p.total),
    }) : t('value.none')),
    stat(t('panel.parking.occupancy'), fmtPercent(occupancy),
      occupancy != null && h('meter', {
        min: 0, max: 1, low: 0.7, high: 0.9, optimum: 0.3, value: occupancy,
        'aria-label': t('panel.parking.occupancy'),
      })),
    stat(t('panel.parking.lots'), fmtInteger(p.lots))));
}

function renderTraffic(tr) {
  if (!tr || !tr.segments) {
    replaceKeepingFocus(body('traffic'), h('p', { class: 'muted' }, t('panel.empty')));
    return;
  }
  replaceKeepingFocus(body('traffic'), h('dl', { class: 'stats' },
    stat(t('panel.traffic.congested'), fmtPercent(tr.congestedShare),
      h('span', { class: 'stat-note' }, t('panel.traffic.congestedOf', {
        congested: fmtInteger(tr.congested), count: tr.segments,
      }))),
    stat(t('panel.traffic.speed'), fmtUnit(tr.averageSpeed, 'KMH'))));
}

function renderAir(air) {
  if (!air || !air.stations) {
    replaceKeepingFocus(body('air'), h('p', { class: 'muted' }, t('panel.empty')));
    return;
  }
  const worst = air.worst && openButton(air.worst.id, 'row-button',
    h('span', {}, air.worst.name || air.worst.id),
    h('span', {}, fmtUnit(air.worst.pm25, 'GQ')), levelChip('air', air.worst.level));
  replaceKeepingFocus(body('air'), h('dl', { class: 'stats' },
    stat(t('panel.air.pm25'), fmtUnit(air.pm25, 'GQ')),
    stat(t('panel.air.pm10'), fmtUnit(air.pm10, 'GQ')),
    stat(t('panel.air.stations'), fmtInteger(air.stations))),
  worst && h('p', { class: 'panel-sub' }, t('panel.air.worst')), worst);
}

function renderCrowding(spots = []) {
  if (!spots.length) {
    replaceKeepingFocus(body('crowding'), h('p', { class: 'muted' }, t('panel.empty')));
    return;
  }
  replaceKeepingFocus(body('crowding'), h('ol', { class: 'rank-list' }, spots.map((s) => h('li', {},
    openButton(s.id, 'row-button',
      h('span', {}, s.name || s.id),
      h('span', {}, s.people == null ? t('value.none') : t('feature.people', { count: s.people })),
      levelChip('crowding', s.level))))));
}

function renderWeather(w) {
  if (!w || !w.stations) {
    replaceKeepingFocus(body('weather'), h('p', { class: 'muted' }, t('panel.empty')));
    return;
  }
  replaceKeepingFocus(body('weather'), h('dl', { class: 'stats' },
    stat(t('panel.weather.temperature'), fmtUnit(w.temperature, 'CEL')),
    stat(t('panel.weather.humidity'), w.humidity == null ? t('value.none') : fmtPercent(w.humidity)),
    stat(t('panel.weather.wind'), fmtUnit(w.wind, 'MTS')),
    stat(t('panel.weather.stations'), fmtInteger(w.stations))));
}

function renderAll() {
  const s = state.summary;
  if (!s) return;
  renderAlerts(s.alerts, state.timeZone);
  renderParking(s.parking);
  renderTraffic(s.traffic);
  renderAir(s.air);
  renderCrowding(s.crowding);
  if (body('weather')) renderWeather(s.weather);
  const updated = document.getElementById('summary-updated');
  if (updated) {
    updated.textContent = s.updatedAt
      ? t('panel.updated', { time: fmtDateTime(s.updatedAt, state.timeZone) }) : '';
  }
}

/** Fill every panel from a summary (GET …/summary). */
export function renderSummary(summary, timeZone) {
  state.summary = summary;
  state.timeZone = timeZone;
  renderAll();
}

/** A new city: alerts start folded again and panels say they are loading. */
export function resetPanels() {
  state.allAlerts = false;
  state.summary = null;
  for (const el of document.querySelectorAll('.panel .panel-body')) {
    el.replaceChildren(h('p', { class: 'muted' }, t('details.loading')));
  }
}
