// The MapLibre map: the base, one GeoJSON source and its layers per dashboard layer, the
// layer toggles' effect, hover popups and clicks that open details. The map container says
// when it is ready (data-ready) and how many features it draws (data-features).
import * as maplibregl from '/dashboard/vendor/maplibre-gl/dist/maplibre-gl.mjs';
import { baseStyle, roadLayer, showOfflineBase } from './basemap.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { headline, layerName, levelText, mapLayers, pickableLayerIds } from './layers.js';
import * as store from './store.js';

const EMPTY = { type: 'FeatureCollection', features: [] };
const state = {
  map: null, container: null, layers: [], visible: new Set(), offline: true,
  basemap: false, loading: 0, styleReady: null,
};

function mapLocale() {
  const keys = {
    'NavigationControl.ZoomIn': 'map.zoomIn',
    'NavigationControl.ZoomOut': 'map.zoomOut',
    'NavigationControl.ResetBearing': 'map.resetBearing',
    'AttributionControl.ToggleAttribution': 'map.attribution',
    'Map.Title': 'map.label',
    'ScaleControl.Meters': 'map.meters',
    'ScaleControl.Kilometers': 'map.kilometers',
  };
  return Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, t(v)]));
}

/** Make the map in `container`; onPick(entityId) is called when a feature is clicked. */
export function createMap(container, config, onPick) {
  const { style, offline } = baseStyle(config.map);
  state.container = container;
  state.layers = config.layers.map((layer) => layer.id);
  state.visible = new Set(state.layers);
  state.offline = offline;
  state.basemap = config.basemap;
  const first = config.cities[0];
  const map = new maplibregl.Map({
    container,
    style,
    center: first?.center ?? [0, 0],
    zoom: first?.zoom ?? 2,
    attributionControl: false,
    locale: mapLocale(),
    fadeDuration: 0,
  });
  state.map = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({}), 'bottom-left');
  map.addControl(new maplibregl.AttributionControl({
    compact: true,
    customAttribution: offline ? t('map.naturalEarth') : (config.map?.attribution || undefined),
  }), 'bottom-right');
  state.styleReady = new Promise((resolve) => map.once('load', () => {
    addDataLayers(map);
    bindPointer(map, onPick);
    resolve();
  }));
  return map;
}

function addDataLayers(map) {
  for (const id of state.layers) {
    map.addSource(id, { type: 'geojson', data: EMPTY, promoteId: 'id' });
  }
  if (state.layers.includes('traffic')) map.addLayer(roadLayer('traffic'));
  // Areas first, then lines, then points, so that small symbols stay on top of big areas.
  const specs = state.layers.map(mapLayers);
  for (const index of specs[0].keys()) {
    for (const layerSpecs of specs) map.addLayer(layerSpecs[index]);
  }
}

function pickable() {
  return state.layers.flatMap(pickableLayerIds);
}

function bindPointer(map, onPick) {
  const popup = new maplibregl.Popup({
    closeButton: false, closeOnClick: false, className: 'hover-popup', maxWidth: '280px',
  });
  const ids = pickable();
  map.on('mousemove', ids, (e) => {
    const id = e.features?.[0]?.properties?.id;
    const feature = id && store.get(id);
    if (!feature) return;
    map.getCanvas().style.cursor = 'pointer';
    popup.setLngLat(e.lngLat).setDOMContent(popupContent(feature)).addTo(map);
  });
  map.on('mouseleave', ids, () => {
    map.getCanvas().style.cursor = '';
    popup.remove();
  });
  map.on('click', ids, (e) => {
    const id = e.features?.[0]?.properties?.id;
    if (id) {
      popup.remove();
      onPick(id);
    }
  });
}

function popupContent(feature) {
  const p = feature.properties;
  return h('div', { class: 'popup' },
    h('strong', {}, p.name || p.id),
    h('div', {}, layerName(p.layer), ' · ', levelText(p.layer, p.level)),
    h('div', {}, headline(p)),
    h('div', { class: 'muted' }, t('map.clickForDetails')));
}

function drawnFeatures() {
  let n = 0;
  for (const id of state.visible) n += store.drawnCount(id);
  return n;
}

function publishCount() {
  state.container.dataset.features = String(drawnFeatures());
}

/** Wait until MapLibre has drawn everything pending (its 'idle' after a repaint). */
function settle(timeoutMs = 10000) {
  const map = state.map;
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    map.once('idle', () => {
      clearTimeout(timer);
      resolve();
    });
    map.triggerRepaint();
  });
}

/** Start showing a city: not ready until showLayers() has put all its layers on the map. */
export function beginCity(city) {
  state.loading += 1;
  state.container.dataset.ready = 'false';
  state.map.jumpTo({ center: city.center, zoom: city.zoom ?? 12 });
  if (state.offline && state.basemap) {
    state.styleReady.then(() => showOfflineBase(state.map, city.tenant));
  }
  return state.loading;
}

/**
 * Put every layer of the store on the map and, once drawn, mark the map ready. `token` is
 * beginCity's answer: an older city's load that finishes late does not mark the map ready.
 * whileDrawing() runs once the data is handed to MapLibre.
 */
export async function showLayers(token, whileDrawing = () => {}) {
  await state.styleReady;
  for (const id of state.layers) state.map.getSource(id)?.setData(store.collection(id));
  whileDrawing();
  await settle();
  performance.mark('cityhub:drawn');
  if (token !== state.loading) return;
  publishCount();
  state.container.dataset.ready = 'true';
}

export function setVisible(layer, visible) {
  if (visible) state.visible.add(layer);
  else state.visible.delete(layer);
  const value = visible ? 'visible' : 'none';
  for (const spec of mapLayers(layer)) {
    if (state.map.getLayer(spec.id)) state.map.setLayoutProperty(spec.id, 'visibility', value);
  }
  // The data's own roads stay as a grey base when the traffic colours are off.
  if (layer === 'traffic' && state.map.getLayer('base-roads')) {
    state.map.setLayoutProperty('base-roads', 'visibility', visible ? 'none' : 'visible');
  }
  publishCount();
}

export const isVisible = (layer) => state.visible.has(layer);

/**
 * Apply live diffs (store.applyChanges' answer) to the sources; when they are drawn, note
 * the moment in window.cityhubDashboard.lastChangeAt.
 */
export async function applyDiffs(diffs) {
  await state.styleReady;
  const updates = [];
  for (const [layer, diff] of diffs) {
    const source = state.map.getSource(layer);
    if (source) updates.push(source.updateData(diff));
  }
  if (!updates.length) return;
  await Promise.all(updates);
  publishCount();
  await settle(1000);
  window.cityhubDashboard.lastChangeAt = performance.now();
}

/** Centre the map on a feature (from the lists), without animation when motion is reduced. */
export function focusFeature(id) {
  const feature = store.get(id);
  const geometry = feature?.geometry;
  if (!geometry) return;
  let point = geometry.coordinates;
  while (Array.isArray(point[0])) point = point[0];
  const reduce = matchMedia('(prefers-reduced-motion: reduce)').matches;
  state.map[reduce ? 'jumpTo' : 'easeTo']({ center: point.slice(0, 2) });
}
