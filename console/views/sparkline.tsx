// A small inline SVG line of values with an optional threshold line (dashed), scaled to fit; the
// numbers themselves are in its label for screen readers. No chart library.

export interface SparklineProps {
  values: readonly number[];
  threshold?: number;
  label: string;
  width?: number;
  height?: number;
}

export function Sparkline({ values, threshold, label, width = 240, height = 48 }: SparklineProps) {
  const all = threshold === undefined ? [...values] : [...values, threshold];
  const top = Math.max(...all, 0);
  const bottom = Math.min(...all, 0);
  const span = top - bottom || 1;
  const pad = 3;
  const x = (index: number): number => (values.length <= 1 ? width / 2 : pad + (index * (width - 2 * pad)) / (values.length - 1));
  const y = (value: number): number => height - pad - ((value - bottom) / span) * (height - 2 * pad);
  const points = values.map((value, index) => `${x(index).toFixed(1)},${y(value).toFixed(1)}`).join(' ');
  return (
    <svg class="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      {threshold === undefined ? null : <line class="threshold" x1={0} x2={width} y1={y(threshold)} y2={y(threshold)} />}
      {values.length > 1 ? <polyline class="line" points={points} /> : null}
      {values.map((value, index) => (
        <circle key={index} cx={x(index)} cy={y(value)} r={1.8} class="point" />
      ))}
    </svg>
  );
}
