/** One row of the HTTP chart. */
export interface ChartRow {
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const WIDTH = 900;
const LABEL_WIDTH = 290;
const PANEL_WIDTH = 200;
/** Room after a bar for its printed value. */
const VALUE_ROOM = 90;
const ROW_HEIGHT = 46;
const TOP = 64;
const COLOURS = { throughput: '#1a82e2', p50: '#2e7d32', p99: '#a5d6a7' };

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

function format(value: number, unit: string): string {
  const digits = Number.isInteger(value) || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

/** A bar from `x` scaled to `max`, with its value printed after it. */
function bar(
  x: number,
  y: number,
  height: number,
  value: number,
  max: number,
  colour: string,
  unit: string,
) {
  const width = max > 0 ? Math.max(1, (value / max) * PANEL_WIDTH) : 1;
  return [
    `<rect x="${x}" y="${y}" width="${width.toFixed(1)}" height="${height}" fill="${colour}" rx="2"/>`,
    `<text x="${(x + width + 6).toFixed(1)}" y="${y + height - 2}" class="value">${escapeXml(format(value, unit))}</text>`,
  ].join('');
}

/**
 * docs/performance.md's chart of `npm run bench`'s HTTP figures: requests per second, and p50 and p99
 * latency, one row per scenario, on linear scales with every value printed (no figure is read
 * off an axis). Self-contained SVG: no scripts, no external fonts or styles.
 */
export function httpChartSvg(rows: readonly ChartRow[], caption: string): string {
  const height = TOP + rows.length * ROW_HEIGHT + 40;
  const maxRps = Math.max(...rows.map((r) => r.requestsPerSecond));
  const maxMs = Math.max(...rows.map((r) => r.p99Ms));
  const throughputX = LABEL_WIDTH;
  const latencyX = LABEL_WIDTH + PANEL_WIDTH + VALUE_ROOM;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="title desc">`,
    `<title id="title">Keygate on npm start: HTTP throughput and latency</title>`,
    `<desc id="desc">${escapeXml(
      rows
        .map(
          (r) =>
            `${r.label}: ${format(r.requestsPerSecond, 'requests/s')}, p50 ${format(r.p50Ms, 'ms')}, p99 ${format(r.p99Ms, 'ms')}`,
        )
        .join('; '),
    )}</desc>`,
    '<style>text{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:13px;fill:#24292f}.head{font-weight:600}.value{font-size:12px;fill:#57606a}.caption{font-size:11px;fill:#57606a}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="26" class="head">Keygate on npm start (autocannon, median of runs)</text>`,
    `<text x="${throughputX}" y="52" class="head">requests / s (higher is better)</text>`,
    `<text x="${latencyX}" y="52" class="head">latency, ms: <tspan fill="${COLOURS.p50}">p50</tspan> / <tspan fill="#6a9f6d">p99</tspan> (lower is better)</text>`,
  ];
  rows.forEach((row, i) => {
    const y = TOP + i * ROW_HEIGHT;
    parts.push(
      `<text x="16" y="${y + 22}">${escapeXml(row.label)}</text>`,
      bar(throughputX, y + 8, 20, row.requestsPerSecond, maxRps, COLOURS.throughput, 'req/s'),
      bar(latencyX, y + 4, 14, row.p50Ms, maxMs, COLOURS.p50, 'ms'),
      bar(latencyX, y + 20, 14, row.p99Ms, maxMs, COLOURS.p99, 'ms'),
    );
  });
  parts.push(
    `<text x="16" y="${height - 14}" class="caption">${escapeXml(caption)}</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
