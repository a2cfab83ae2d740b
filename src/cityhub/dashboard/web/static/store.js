// The features of the city being shown, per layer, kept up to date by the live stream. The
// map sources, the feature list and the popups all read from here.

const byLayer = new Map(); // layer id → Map(entity id → Feature)
const layerOf = new Map(); // entity id → layer id

export function clearAll() {
  byLayer.clear();
  layerOf.clear();
}

/** Replace a layer's features with a FeatureCollection from the API. */
export function setLayer(layer, collection) {
  for (const id of byLayer.get(layer)?.keys() ?? []) layerOf.delete(id);
  const features = new Map();
  for (const feature of collection?.features ?? []) {
    const id = feature.id ?? feature.properties?.id;
    if (id == null) continue;
    feature.properties = { ...feature.properties, id, layer };
    features.set(id, feature);
    layerOf.set(id, layer);
  }
  byLayer.set(layer, features);
}

export function collection(layer) {
  return { type: 'FeatureCollection', features: [...(byLayer.get(layer)?.values() ?? [])] };
}

export const features = (layer) => byLayer.get(layer)?.values() ?? [];

export const get = (id) => byLayer.get(layerOf.get(id))?.get(id);

/** Features that are drawn (have a geometry) in a layer. */
export function drawnCount(layer) {
  let n = 0;
  for (const f of features(layer)) if (f.geometry) n += 1;
  return n;
}

/**
 * Apply live change events ({Feature} or {id, deleted: true}) and say what changed per
 * layer, as MapLibre source diffs: Map(layer → {add: [Feature], remove: [id]}).
 */
export function applyChanges(events) {
  // Per layer and entity the last event wins: id → Feature (add) or null (remove).
  const last = new Map();
  const diff = (layer) => {
    if (!last.has(layer)) last.set(layer, new Map());
    const changes = last.get(layer);
    return { add: { push: (f) => changes.set(f.id, f) }, remove: { push: (id) => changes.set(id, null) } };
  };
  for (const event of events) {
    const id = event.id ?? event.properties?.id;
    if (id == null) continue;
    const before = layerOf.get(id);
    const layer = event.deleted ? before : event.properties?.layer;
    if (before && before !== layer) {
      byLayer.get(before)?.delete(id);
      diff(before).remove.push(id);
      layerOf.delete(id);
    }
    if (event.deleted) {
      if (before) {
        byLayer.get(before)?.delete(id);
        layerOf.delete(id);
        diff(before).remove.push(id);
      }
      continue;
    }
    if (!layer) continue;
    const feature = { ...event, id, properties: { ...event.properties, id, layer } };
    if (!byLayer.has(layer)) byLayer.set(layer, new Map());
    byLayer.get(layer).set(id, feature);
    layerOf.set(id, layer);
    if (feature.geometry) diff(layer).add.push(feature);
    else diff(layer).remove.push(id);
  }
  const diffs = new Map();
  for (const [layer, changes] of last) {
    const add = [];
    const remove = [];
    for (const [id, feature] of changes) {
      if (feature) add.push(feature);
      else remove.push(id);
    }
    diffs.set(layer, { add, remove });
  }
  return diffs;
}
