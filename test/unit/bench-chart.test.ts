import { describe, expect, it } from 'vitest';
import { httpChartSvg } from '../../scripts/bench/chart.js';

describe("the bench's HTTP chart", () => {
  const rows = [
    { label: 'GET /health', requestsPerSecond: 10_000, p50Ms: 0, p99Ms: 4 },
    { label: 'POST /v3/api_keys <create>', requestsPerSecond: 80, p50Ms: 120, p99Ms: 200 },
  ];

  it('prints every label and value, so no figure is read off an axis', () => {
    const svg = httpChartSvg(rows, 'caption & date');

    for (const text of [
      'GET /health',
      '10000 req/s',
      '0 ms',
      '4 ms',
      '80 req/s',
      '120 ms',
      '200 ms',
    ]) {
      expect(svg).toContain(text);
    }
    expect(svg).toContain('caption &amp; date');
  });

  it('escapes labels (a chart is markup) and stays self-contained', () => {
    const svg = httpChartSvg(rows, 'c');

    expect(svg).toContain('POST /v3/api_keys &lt;create&gt;');
    expect(svg).not.toContain('<create>');
    expect(svg).not.toMatch(/<script|href=|@import|url\(/);
    expect(svg.match(/<svg /g)).toHaveLength(1);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });

  it('draws bars on linear scales: the largest value gets the full width', () => {
    const svg = httpChartSvg(rows, 'c');
    const widths = [...svg.matchAll(/<rect x="\d+" y="\d+" width="([\d.]+)"/g)].map((m) =>
      Number(m[1]),
    );

    // Per row: throughput, p50, p99. Row 1's throughput is the maximum; row 2's p99 too.
    expect(widths[0]).toBe(200);
    expect(widths[3]).toBeCloseTo(200 * (80 / 10_000), 0);
    expect(widths[5]).toBe(200);
    expect(widths[4]).toBe(120);
  });
});
