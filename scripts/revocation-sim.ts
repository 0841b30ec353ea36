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

/** Staleness p99 and max by revocation rate, log scales, both designs, saturated control plane. */
export function chartOf(figures: readonly SimulationFigures[]): string {
  const width = 640;
  const height = 360;
  const left = 70;
  const right = 20;
  const top = 40;
  const bottom = 50;
  const xs = RATES.map((r) => Math.log10(r));
  const x = (r: number) =>
    left +
    ((Math.log10(r) - (xs[0] as number)) / ((xs.at(-1) as number) - (xs[0] as number))) *
      (width - left - right);
  const yMin = Math.log10(0.1);
  const yMax = Math.log10(1000);
  const y = (s: number) =>
    top + (1 - (Math.log10(Math.max(0.1, s)) - yMin) / (yMax - yMin)) * (height - top - bottom);
  const series = [
    { design: 'flush-each', stat: 'max', color: '#b42318', dash: '' },
    { design: 'flush-each', stat: 'p99', color: '#b42318', dash: '6 4' },
    { design: 'coalesced', stat: 'max', color: '#175cd3', dash: '' },
    { design: 'coalesced', stat: 'p99', color: '#175cd3', dash: '6 4' },
  ] as const;
  const busy = figures.filter((f) => f.backgroundPerSecond === 12);
  const paths = series.map((s) => {
    const points = RATES.map((r) => {
      const f = busy.find((b) => b.design === s.design && b.revocationsPerSecond === r);
      return `${x(r).toFixed(1)},${y((f?.staleness[s.stat] ?? 0) / 1000).toFixed(1)}`;
    });
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${points.join(' ')}"/>`;
  });
  const yTicks = [0.1, 1, 10, 100, 1000].map(
    (s) =>
      `<line x1="${left}" x2="${width - right}" y1="${y(s)}" y2="${y(s)}" stroke="#e4e7ec"/><text x="${left - 8}" y="${y(s) + 4}" text-anchor="end">${s} s</text>`,
  );
  const xTicks = RATES.map(
    (r) => `<text x="${x(r)}" y="${height - bottom + 20}" text-anchor="middle">${r}/s</text>`,
  );
  const legend = series.map(
    (s, i) =>
      `<line x1="${left + 10 + i * 140}" x2="${left + 40 + i * 140}" y1="22" y2="22" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${left + 46 + i * 140}" y="26">${s.design} ${s.stat}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img" aria-label="Revocation staleness by revocation rate, saturated control plane">
<rect width="100%" height="100%" fill="#fff"/>
${yTicks.join('\n')}
${xTicks.join('\n')}
<text x="${(left + width - right) / 2}" y="${height - 10}" text-anchor="middle">revocations per second (churning tenant), control plane saturated (12 other calls/s)</text>
${paths.join('\n')}
${legend.join('\n')}
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
