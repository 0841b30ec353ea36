/**
 * `npm run sim:revocation`: replays the churn model of `scripts/bench/revocation-sim.ts` against
 * the previous release's flush-per-change and the coalesced flushes, and prints the figures.
 * `--write` also writes them, with a chart, into docs/revocation.md (between its markers) and
 * docs/revocation-staleness.svg. `--short` runs a smaller model (seconds, not minutes).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FULL_RUN,
  type SimulationFigures,
  type SimulationOptions,
  simulate,
} from './bench/revocation-sim.js';

const RATES = [0.1, 1, 10, 50] as const;
const CONTROL_PLANES = [
  { label: 'calm (1 other call/s)', backgroundPerSecond: 1 },
  { label: 'saturated (12 other calls/s)', backgroundPerSecond: 12 },
] as const;
const DESIGNS = ['flush-each', 'coalesced'] as const;

const SHORT = {
  ...FULL_RUN,
  keys: 2_000,
  requestsPerSecond: 200,
  seconds: 60,
  warmupSeconds: 30,
} satisfies typeof FULL_RUN;

const seconds = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 0);
const percent = (x: number) => `${(x * 100).toFixed(1)} %`;
const rate = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));

export function tableOf(figures: readonly SimulationFigures[]): string {
  const lines = [
    '| design | control plane | revocations/s | hit rate | authorizer calls/s | DynamoDB reads/s | lease writes/s | flush calls/s | throttled flushes/s | others throttled | staleness p50 / p99 / max (s) | quiet tenant p99 / max (s) |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const f of figures) {
    const plane = CONTROL_PLANES.find((p) => p.backgroundPerSecond === f.backgroundPerSecond);
    lines.push(
      `| ${f.design} | ${plane?.label ?? f.backgroundPerSecond} | ${f.revocationsPerSecond} | ${percent(f.hitRate)} | ${rate(f.authorizerPerSecond)} | ${rate(f.dynamoReadsPerSecond)} | ${rate(f.leaseWritesPerSecond)} | ${rate(f.flushCallsPerSecond)} | ${rate(f.flushThrottledPerSecond)} | ${percent(f.backgroundThrottled)} | ${seconds(f.staleness.p50)} / ${seconds(f.staleness.p99)} / ${seconds(f.staleness.max)} | ${seconds(f.quietTenant.p99)} / ${seconds(f.quietTenant.max)} |`,
    );
  }
  return lines.join('\n');
}

interface Panel {
  title: string;
  /** Maps a value to 0 (bottom) … 1 (top). */
  scale: (v: number) => number;
  ticks: readonly { value: number; label: string }[];
  series: readonly {
    label: string;
    color: string;
    dash: string;
    value: (f: SimulationFigures) => number;
    design: SimulationFigures['design'];
  }[];
}

/** Two panels by revocation rate, control plane saturated: cache hit rate, and staleness. */
export function chartOf(figures: readonly SimulationFigures[]): string {
  const busy = figures.filter((f) => f.backgroundPerSecond === 12);
  const log = (lo: number, hi: number) => (v: number) =>
    (Math.log10(Math.max(lo, v)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
  const red = '#b42318';
  const blue = '#175cd3';
  const panels: Panel[] = [
    {
      title: 'Authorizer cache hit rate',
      scale: (v) => v,
      ticks: [0, 0.25, 0.5, 0.75, 1].map((v) => ({ value: v, label: `${v * 100} %` })),
      series: [
        {
          label: 'flush-each',
          color: red,
          dash: '',
          design: 'flush-each',
          value: (f) => f.hitRate,
        },
        { label: 'coalesced', color: blue, dash: '', design: 'coalesced', value: (f) => f.hitRate },
      ],
    },
    {
      title: 'Revocation staleness (p99 dashed, max solid)',
      scale: log(0.05, 10),
      ticks: [0.1, 1, 5, 10].map((v) => ({ value: v, label: `${v} s` })),
      series: [
        {
          label: 'flush-each max',
          color: red,
          dash: '',
          design: 'flush-each',
          value: (f) => f.staleness.max / 1000,
        },
        {
          label: 'flush-each p99',
          color: red,
          dash: '6 4',
          design: 'flush-each',
          value: (f) => f.staleness.p99 / 1000,
        },
        {
          label: 'coalesced max',
          color: blue,
          dash: '',
          design: 'coalesced',
          value: (f) => f.staleness.max / 1000,
        },
        {
          label: 'coalesced p99',
          color: blue,
          dash: '6 4',
          design: 'coalesced',
          value: (f) => f.staleness.p99 / 1000,
        },
      ],
    },
  ];
  const panelWidth = 360;
  const height = 320;
  const top = 50;
  const bottom = 60;
  const inner = 260;
  const draw = (panel: Panel, offset: number) => {
    const left = offset + 60;
    const x = (r: number) => left + ((Math.log10(r) + 1) / (Math.log10(50) + 1)) * inner;
    const y = (v: number) => top + (1 - panel.scale(v)) * (height - top - bottom);
    const parts = [
      `<text x="${left + inner / 2}" y="${top - 24}" text-anchor="middle" font-weight="bold">${panel.title}</text>`,
      ...panel.ticks.map(
        (t) =>
          `<line x1="${left}" x2="${left + inner}" y1="${y(t.value)}" y2="${y(t.value)}" stroke="#e4e7ec"/><text x="${left - 6}" y="${y(t.value) + 4}" text-anchor="end">${t.label}</text>`,
      ),
      ...RATES.map(
        (r) => `<text x="${x(r)}" y="${height - bottom + 18}" text-anchor="middle">${r}/s</text>`,
      ),
      ...panel.series.map((series) => {
        const points = RATES.map((r) => {
          const f = busy.find((b) => b.design === series.design && b.revocationsPerSecond === r);
          return `${x(r).toFixed(1)},${y(f ? series.value(f) : 0).toFixed(1)}`;
        });
        return `<polyline fill="none" stroke="${series.color}" stroke-width="2"${series.dash ? ` stroke-dasharray="${series.dash}"` : ''} points="${points.join(' ')}"/>`;
      }),
    ];
    return parts.join('\n');
  };
  const width = panelWidth * 2 + 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img" aria-label="Cache hit rate and revocation staleness by revocation rate, control plane saturated">
<rect width="100%" height="100%" fill="#fff"/>
${draw(panels[0] as Panel, 0)}
${draw(panels[1] as Panel, panelWidth + 20)}
<text x="${width / 2}" y="${height - 22}" text-anchor="middle">revocations per second (churning tenant); control plane saturated (12 other calls/s)</text>
<text x="${width / 2}" y="${height - 6}" text-anchor="middle"><tspan fill="${red}">red: flush-each (previous release)</tspan>   <tspan fill="${blue}">blue: coalesced (this release)</tspan></text>
</svg>
`;
}

export async function runAll(base: typeof FULL_RUN): Promise<SimulationFigures[]> {
  const figures: SimulationFigures[] = [];
  for (const plane of CONTROL_PLANES) {
    for (const design of DESIGNS) {
      for (const revocationsPerSecond of RATES) {
        const options: SimulationOptions = {
          ...base,
          design,
          revocationsPerSecond,
          backgroundPerSecond: plane.backgroundPerSecond,
        };
        figures.push(await simulate(options));
      }
    }
  }
  return figures;
}

async function main() {
  const args = new Set(process.argv.slice(2));
  const base = args.has('--short') ? SHORT : FULL_RUN;
  const began = performance.now();
  const figures = await runAll(base);
  const command = `npm run sim:revocation${args.has('--short') ? ' -- --short' : ''}`;
  const model = `${base.keys.toLocaleString('en-US')} keys, ${base.requestsPerSecond.toLocaleString('en-US')} requests/s (Zipf), cache TTL ${base.cacheTtlMs / 1000} s, flush latency ${base.flushLatencyMs} ms, ${base.seconds} s measured after ${base.warmupSeconds} s of warm-up, seed ${base.seed}`;
  const table = tableOf(figures);
  console.log(`Revocation simulation (${model})\n`);
  console.log(table);
  console.log(`\n${((performance.now() - began) / 1000).toFixed(1)} s of wall time`);
  if (args.has('--write')) {
    const docs = join(import.meta.dirname, '..', 'docs');
    const file = join(docs, 'revocation.md');
    const text = readFileSync(file, 'utf8');
    const startMarker = '<!-- sim:start -->';
    const endMarker = '<!-- sim:end -->';
    const from = text.indexOf(startMarker);
    const to = text.indexOf(endMarker);
    if (from < 0 || to < from) throw new Error(`${file} has no ${startMarker} … ${endMarker}`);
    const block = `${startMarker}\nCommand: \`${command} -- --write\` (${model}).\n\n${table}\n${endMarker}`;
    writeFileSync(file, text.slice(0, from) + block + text.slice(to + endMarker.length));
    writeFileSync(join(docs, 'revocation-staleness.svg'), chartOf(figures));
    console.log(`Wrote ${file} and docs/revocation-staleness.svg`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
