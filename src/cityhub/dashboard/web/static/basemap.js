// The map's base: an online style or raster tiles when the hub's config names one, else an
// offline style: land, coastlines and borders around the city, cut by the hub from Natural
// Earth (GET /dashboard/api/cities/{tenant}/basemap) and parsed by MapLibre's worker. No
// glyphs, so no text on the map.
import { perFeature } from './layers.js';

const EMPTY = { type: 'FeatureCollection', features: [] };

const BASE_COLORS = {
  water: '#c9dcea',
  land: '#f3f1ea',
  coast: '#6f8fa8',
  border: '#8b8b8b',
  road: '#b9b4a8',
};

/** The style to start the map with: {style, offline} (offline: land still to be loaded). */
export function baseStyle(mapConfig) {
  if (mapConfig?.style) return { style: mapConfig.style, offline: false };
  const style = {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': BASE_COLORS.water } }],
  };
  if (mapConfig?.tiles) {
    style.sources.tiles = {
      type: 'raster', tiles: [mapConfig.tiles], tileSize: 256,
      attribution: mapConfig.attribution || undefined,
    };
    style.layers.push({ id: 'tiles', type: 'raster', source: 'tiles' });
    return { style, offline: false };
  }
  style.sources.base = { type: 'geojson', data: EMPTY, tolerance: 0.5 };
  const kind = (k) => ['==', ['get', 'kind'], k];
  style.layers.push(
    {
      id: 'base-land', type: 'fill', source: 'base', filter: kind('land'),
      paint: { 'fill-color': perFeature(BASE_COLORS.land) },
    },
    {
      id: 'base-coast', type: 'line', source: 'base', filter: kind('coast'),
      paint: { 'line-color': perFeature(BASE_COLORS.coast), 'line-width': perFeature(1) },
    },
    {
      id: 'base-border', type: 'line', source: 'base', filter: kind('border'),
      paint: { 'line-color': perFeature(BASE_COLORS.border), 'line-width': perFeature(1.5) },
    },
  );
  return { style, offline: true };
}

/** The data's own roads in grey: shown in place of the traffic colours when those are off. */
export function roadLayer(sourceId) {
  return {
    id: 'base-roads', type: 'line', source: sourceId,
    filter: ['in', ['geometry-type'], ['literal', ['LineString', 'MultiLineString']]],
    layout: { 'line-cap': 'round', 'line-join': 'round', visibility: 'none' },
    paint: { 'line-color': perFeature(BASE_COLORS.road), 'line-width': perFeature(4) },
  };
}

/** Put land, coastlines and borders around the city on the offline map (MapLibre fetches). */
export function showOfflineBase(map, tenant) {
  map.getSource('base')?.setData(`/dashboard/api/cities/${encodeURIComponent(tenant)}/basemap`);
}
