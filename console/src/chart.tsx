// Time-series charts on uPlot. The chart is created once per set of series and fed new data
// with setData; it follows its container's width.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';

export interface ChartSeries {
  label: string;
  color: string;
  values: Array<number | null>;
  /** Fill under the line. */
  fill?: boolean;
  /** Draw each sample as a dot too (series with gaps, whose lone samples have no line). */
  points?: boolean;
}

export interface TimeChartProps {
  title: string;
  /** Sample times in ms. */
  times: number[];
  series: ChartSeries[];
  format: (v: number) => string;
  height?: number;
  testId?: string;
  /** Whole numbers only on the y axis (counts such as lag). */
  integer?: boolean;
}

const INTEGER_INCRS = [1, 2, 5].flatMap((m) => Array.from({ length: 16 }, (_, e) => m * 10 ** e)).sort((a, b) => a - b);

function withAlpha(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

export function TimeChart({ title, times, series, format, height = 170, testId, integer = false }: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const formatRef = useRef(format);
  formatRef.current = format;
  const shape = series.map((s) => `${s.label}|${s.color}|${s.fill ? 1 : 0}|${s.points ? 1 : 0}`).join(',');

  // a line needs two samples (uPlot would stretch one sample's time axis over years)
  const enough = times.length >= 2;
  const data = (): uPlot.AlignedData => (enough ? [times.map((t) => t / 1000), ...series.map((s) => s.values)] : [[], ...series.map(() => [])]) as uPlot.AlignedData;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : integer ? 5 : 1] } },
      axes: [
        { stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e5e7eb' } },
        {
          stroke: '#6b7280',
          grid: { stroke: '#eef0f3' },
          ticks: { stroke: '#e5e7eb' },
          size: 84,
          ...(integer ? { incrs: INTEGER_INCRS } : {}),
          values: (_u, splits) => splits.map((v) => formatRef.current(v)),
        },
      ],
      series: [
        { label: 'time' },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          fill: s.fill ? withAlpha(s.color, 0.12) : undefined,
          points: s.points ? { show: true, size: 5, fill: s.color } : { show: false },
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : formatRef.current(v)),
        })),
      ],
    };
    const u = new uPlot(opts, data(), el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // the chart is rebuilt only when the series change; data flows through setData below
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, height, integer]);

  useEffect(() => {
    plot.current?.setData(data());
  });

  return (
    <div class="chart" data-testid={testId}>
      <div class="chart-title">{title}</div>
      <div ref={box} class="chart-plot" />
      {!enough ? <div class="chart-empty muted">collecting samples…</div> : null}
    </div>
  );
}
