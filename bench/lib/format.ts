/** Numbers as the report prints them: enough digits to compare, no false precision. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';

  const size = Math.abs(value);
  if (Number.isInteger(value) || size >= 1000) return Math.round(value).toLocaleString('en-US');
  if (size >= 100) return value.toFixed(0);
  if (size >= 10) return value.toFixed(1);
  if (size >= 0.01 || size === 0) return value.toFixed(2).replace(/\.?0+$/, '') || '0';
  return value.toPrecision(2);
}

/** A ratio as "2.31×". */
export function formatRatio(value: number | undefined): string {
  return value === undefined ? '–' : `${formatNumber(value)}×`;
}
