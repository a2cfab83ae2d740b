// A time series chart (uPlot) labelled in the chosen language and the city's time zone, with
// a text summary for screen readers.
import uPlot from '/dashboard/vendor/uplot/dist/uPlot.esm.js';
import { h } from './dom.js';
import { fmtAxisTime, fmtDateTime, fmtNumber, t } from './i18n.js';

const AXIS = { stroke: '#374151', grid: { stroke: '#e5e7eb', width: 1 }, ticks: { stroke: '#9ca3af' } };

/**
 * Draw points ([[epochMillis, value], …]) into container. format(value) gives the value with
 * its unit; returns a handle with destroy(). An empty series shows a sentence instead.
 */
export function drawChart(container, options) {
  const { label, points, timeZone, height = 180, color = '#1d4ed8', yRange } = options;
  const format = options.format || fmtNumber;
  const axisFormat = options.axisFormat || fmtNumber;
  container.replaceChildren();
  const clean = (points || []).filter(([x, y]) => x != null && y != null && !Number.isNaN(+y));
  if (!clean.length) {
    container.removeAttribute('role');
    container.append(h('p', { class: 'muted' }, t('chart.empty')));
    return { destroy() {} };
  }
  const xs = clean.map(([x]) => x);
  const ys = clean.map(([, y]) => Number(y));
  const min = Math.min(...ys);
  const max = Math.max(...ys);
  container.setAttribute('role', 'img');
  container.setAttribute('aria-label', t('chart.summary', {
    label, count: ys.length, min: format(min), max: format(max), latest: format(ys[ys.length - 1]),
    from: fmtDateTime(xs[0], timeZone), to: fmtDateTime(xs[xs.length - 1], timeZone),
  }));
  const width = Math.max(240, container.clientWidth || 320);
  const plotOptions = {
    width,
    height,
    ms: 1,
    tzDate: timeZone ? (ts) => uPlot.tzDate(new Date(ts), timeZone) : undefined,
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: yRange ? { range: yRange } : {} },
    series: [
      { label: t('chart.time'), value: (u, v) => (v == null ? '—' : fmtDateTime(v, timeZone)) },
      {
        label, stroke: color, width: 2, fill: `${color}1f`,
        points: { show: ys.length < 60 },
        value: (u, v) => (v == null ? '—' : format(v)),
      },
    ],
    axes: [
      { ...AXIS, values: (u, splits, axis, space, step) => splits.map((v) => fmtAxisTime(v, step, timeZone)) },
      { ...AXIS, size: 56, values: (u, splits) => splits.map((v) => axisFormat(v)) },
    ],
  };
  const plot = new uPlot(plotOptions, [xs, ys], container);
  const resize = new ResizeObserver(() => {
    const w = container.clientWidth;
    if (w > 0 && Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height });
  });
  resize.observe(container);
  return {
    destroy() {
      resize.disconnect();
      plot.destroy();
    },
  };
}
