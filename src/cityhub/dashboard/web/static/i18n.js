// Messages from the catalog the server put in the page, and every number, date and unit
// formatted for the chosen language (and the city's time zone).

const state = { lang: 'en', messages: {}, timeZone: undefined };
const cache = new Map();

// Attributes that hold a fraction (0–1) whatever unit code they carry, shown as a percentage.
const FRACTIONS = new Set([
  'relativeHumidity', 'humidity', 'occupancy', 'precipitationProbability',
  'congestedShare', 'parkingOccupancy',
]);

export function initI18n(lang, messages) {
  state.lang = lang;
  state.messages = messages || {};
  cache.clear();
}

export const currentLang = () => state.lang;

/** Time zone used when a formatter is not given one (the city being shown). */
export function setTimeZone(timeZone) {
  state.timeZone = timeZone || undefined;
}

function formatter(kind, options) {
  const key = `${kind}|${JSON.stringify(options)}`;
  let f = cache.get(key);
  if (!f) {
    if (kind === 'number') f = new Intl.NumberFormat(state.lang, options);
    else if (kind === 'date') f = new Intl.DateTimeFormat(state.lang, options);
    else f = new Intl.PluralRules(state.lang, options);
    cache.set(key, f);
  }
  return f;
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(state.messages, key);
}

/**
 * t('panel.parking.free', {free: 12, total: 40}) → the catalog text with {placeholders}
 * filled. A message that is an object holds plural forms ({"one": …, "other": …}) chosen by
 * params.count. Numbers in params are formatted for the language.
 */
export function t(key, params = {}) {
  let message = state.messages[key];
  if (message == null) {
    console.warn('missing message', key);
    return key;
  }
  if (typeof message === 'object') {
    const form = formatter('plural', {}).select(Number(params.count ?? 0));
    message = message[form] ?? message.other;
  }
  return message.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in params)) return whole;
    const value = params[name];
    return typeof value === 'number' ? fmtNumber(value) : String(value ?? '');
  });
}

export function fmtNumber(value, options = { maximumFractionDigits: 1 }) {
  if (value == null || Number.isNaN(Number(value))) return t('value.none');
  return formatter('number', options).format(Number(value));
}

export function fmtInteger(value) {
  return fmtNumber(value, { maximumFractionDigits: 0 });
}

/** 0.42 → "42%" in the language's style. */
export function fmtPercent(fraction) {
  if (fraction == null) return t('value.none');
  return formatter('number', { style: 'percent', maximumFractionDigits: 0 }).format(fraction);
}

function toDate(value) {
  if (value == null || value === '') return null;
  const date = typeof value === 'number' ? new Date(value) : new Date(String(value));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A moment as date and time in the given (or the city's) time zone. */
export function fmtDateTime(value, timeZone = state.timeZone) {
  const date = toDate(value);
  if (!date) return t('value.none');
  return formatter('date', { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(date);
}

/**
 * Axis labels: the date for day-sized steps and at midnight, else the 24-hour time (short
 * enough for every language).
 */
export function fmtAxisTime(ms, stepMs, timeZone = state.timeZone) {
  const date = toDate(ms);
  if (!date) return '';
  const day = { month: 'numeric', day: 'numeric', timeZone };
  if (stepMs >= 86400e3) return formatter('date', day).format(date);
  const time = formatter('date', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone })
    .format(date);
  return /^0?0:00$/.test(time) ? formatter('date', day).format(date) : time;
}

/** The unit's name from the catalog ("km/h"), or the code itself when it has none. */
export function unitLabel(unitCode) {
  const code = unitCode === 'DEG' ? 'DD' : unitCode;
  return code && has(`unit.${code}`) ? t(`unit.${code}`) : (unitCode || '');
}

/**
 * A value with its unit: fmtUnit(42.5, 'KMH') → "42.5 km/h". Units are UN/CEFACT codes; the
 * catalog holds a pattern per code ("unit.KMH": "{value} km/h").
 */
export function fmtUnit(value, unitCode, attrName) {
  if (value == null) return t('value.none');
  if (typeof value !== 'number') return String(value);
  if (FRACTIONS.has(attrName) && value <= 1) return fmtPercent(value);
  const key = `unit.${unitCode === 'DEG' ? 'DD' : unitCode}.value`;
  if (unitCode && has(key)) return t(key, { value: fmtNumber(value) });
  return unitCode ? `${fmtNumber(value)} ${unitCode}` : fmtNumber(value);
}

/** A city's name in the chosen language: the language, then English, then any. */
export function pickName(names, fallback = '') {
  if (!names) return fallback;
  if (typeof names === 'string') return names;
  return names[state.lang] ?? names.en ?? Object.values(names)[0] ?? fallback;
}
