// How each dashboard layer looks on the map and how one of its features is described in
// words (popups, lists). Colour follows properties.level (0 good … 3 bad); size and line
// width grow with the level too, and every list/popup says the level in text, so colour is
// never the only signal.
import { fmtInteger, fmtPercent, fmtUnit, has, t } from './i18n.js';

// Good → bad; dark enough for a 3:1 contrast against the light basemap.
export const LEVEL_COLORS = ['#1b7a3a', '#9a6b00', '#d2540b', '#b3121b'];

// Each layer's own colour: the outline of its symbols and the swatch of its toggle.
export const LAYER_ACCENTS = {
  traffic: '#4b5563',
  hazards: '#7a1020',
  parking: '#1d4ed8',
  air: '#0e7490',
  crowding: '#7c3aed',
  shelters: '#166534',
  ev: '#0f766e',
  weather: '#475569',
};

const level = ['coalesce', ['get', 'level'], -1];

/**
 * A constant written as a per-feature expression. Every fill, line and circle layer then has
 * the same kind of paint (colour and size per feature) and MapLibre compiles one shader per
 * layer type: in a software-rendered browser each extra shader costs a tenth of a second.
 */
export const perFeature = (value) => ['coalesce', ['get', '_unset'], value];

function levelColor(fallback) {
  return ['match', level, 0, LEVEL_COLORS[0], 1, LEVEL_COLORS[1], 2, LEVEL_COLORS[2],
    3, LEVEL_COLORS[3], fallback];
}

const isPolygon = ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon']]];
const isLine = ['in', ['geometry-type'], ['literal', ['LineString', 'MultiLineString']]];
const isPoint = ['in', ['geometry-type'], ['literal', ['Point', 'MultiPoint']]];

/** MapLibre layers drawing one dashboard layer's GeoJSON source (no symbol layers). */
export function mapLayers(id) {
  const accent = LAYER_ACCENTS[id] || '#374151';
  const color = levelColor(accent);
  const weight = ['max', 0, level];
  return [
    {
      id: `${id}-fill`, type: 'fill', source: id, filter: isPolygon,
      paint: { 'fill-color': color, 'fill-opacity': 0.18 },
    },
    {
      id: `${id}-outline`, type: 'line', source: id, filter: isPolygon,
      paint: { 'line-color': color, 'line-width': perFeature(2) },
    },
    {
      id: `${id}-line`, type: 'line', source: id, filter: isLine,
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': color, 'line-width': ['+', 2.5, ['*', 1.5, weight]] },
    },
    {
      id: `${id}-circle`, type: 'circle', source: id, filter: isPoint,
      paint: {
        'circle-color': color,
        'circle-radius': ['+', id === 'hazards' ? 7 : 5, ['*', 1.5, weight]],
        'circle-stroke-color': id === 'hazards' ? '#ffffff' : accent,
        'circle-stroke-width': 2,
        'circle-opacity': 0.9,
      },
    },
  ];
}

/** Layer ids of the map layers a pointer can pick. */
export function pickableLayerIds(id) {
  return [`${id}-fill`, `${id}-line`, `${id}-circle`];
}

/** The words for a feature's level ("Congested", "Almost full"…). */
export function levelText(layer, value) {
  if (value == null) return t('level.unknown');
  const key = `level.${layer}.${value}`;
  return has(key) ? t(key) : t(`level.${value}`);
}

export function severityText(severity) {
  const key = `severity.${severity}`;
  return severity && has(key) ? t(key) : t('severity.unknown');
}

// A shape per severity, beside its name (not instead of it).
const SEVERITY_ICONS = {
  informational: 'ℹ', low: '●', medium: '▲', high: '◆', critical: '✖',
};
export const severityIcon = (severity) => SEVERITY_ICONS[severity] || '?';

/** One line saying the feature's main value ("12 of 40 free", "43 km/h"…). */
export function headline(p) {
  switch (p.layer) {
    case 'traffic':
      return p.speed == null
        ? (p.congested ? t('feature.congested') : t('value.none'))
        : fmtUnit(p.speed, 'KMH');
    case 'hazards':
      return categoryText(p.category, p.subCategory) || severityText(p.severity);
    case 'parking':
    case 'ev':
      return p.total == null
        ? t('feature.free', { free: fmtInteger(p.free) })
        : t('feature.freeOfTotal', { free: fmtInteger(p.free), total: fmtInteger(p.total) });
    case 'air':
      return p.pm25 == null
        ? (p.aqi == null ? t('value.none') : t('feature.aqi', { aqi: fmtInteger(p.aqi) }))
        : t('feature.pm25', { value: fmtUnit(p.pm25, 'GQ') });
    case 'crowding':
      return p.people == null ? t('value.none') : t('feature.people', { count: p.people });
    case 'shelters': {
      const kinds = (p.hazards || []).map((k) => categoryText(null, k)).join(', ');
      const capacity = p.capacity != null && t('feature.capacity', { count: p.capacity });
      return [capacity, kinds && t('feature.shelterFor', { hazards: kinds })]
        .filter(Boolean).join(' · ') || t('value.none');
    }
    case 'weather':
      return [p.temperature != null && fmtUnit(p.temperature, 'CEL'),
        p.humidity != null && fmtPercent(p.humidity),
        p.wind != null && fmtUnit(p.wind, 'MTS')].filter(Boolean).join(' · ')
        || t('value.none');
    default:
      return '';
  }
}

/** The alert's kind in words: its subcategory when the catalog knows it, else its category. */
export function categoryText(category, subCategory) {
  if (subCategory && has(`subCategory.${subCategory}`)) return t(`subCategory.${subCategory}`);
  if (category && has(`category.${category}`)) return t(`category.${category}`);
  return subCategory || category || '';
}

export function demoText(demoData) {
  return demoData ? t(`demo.${demoData}`) : '';
}

export function layerName(id) {
  return t(`layer.${id}`);
}
