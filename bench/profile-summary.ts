// Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench:convergence -- --cpu-prof`):
// the functions with the most self time, and the most inclusive time of the project's own
// functions (src/), so "what dominates" reads off one table.
//
//   node dist/bench/profile-summary.js bench/results/profiles/<file>.cpuprofile [--top 25]

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Args, REPO_ROOT, fmt, runMain, table } from './lib/util.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FrameTime {
  frame: string;
  selfMs: number;
  totalMs: number;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (url === '') return `(${functionName || 'anonymous'})`;
  let where = url.startsWith('file://') ? url.slice('file://'.length) : url;
  if (where.startsWith(REPO_ROOT)) where = relative(REPO_ROOT, where);
  where = where.replace(/^.*node_modules\//, '');
  return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
}

/** Self and inclusive time per frame (a recursive frame counts once per sample). */
export function summariseProfile(profile: CpuProfile): { totalMs: number; idleMs: number; frames: FrameTime[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const node = byId.get(id);
    if (!node) return;
    const name = frameName(node);
    if (name === '(idle)') idleMs += ms;
    self.set(name, (self.get(name) ?? 0) + ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = frameName(byId.get(at)!);
      if (seen.has(frame)) continue;
      seen.add(frame);
      total.set(frame, (total.get(frame) ?? 0) + ms);
    }
  });
  const frames = [...total.entries()].map(([frame, totalFrameMs]) => ({ frame, selfMs: self.get(frame) ?? 0, totalMs: totalFrameMs }));
  return { totalMs, idleMs, frames };
}

async function main(argv: string[]): Promise<void> {
  const file = argv[0];
  if (!file || file.startsWith('--')) throw new Error('usage: profile-summary <file.cpuprofile> [--top N]');
  const args = new Args(argv.slice(1), ['top']);
  const top = args.number('top', 25);
  const { totalMs, idleMs, frames } = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const busyMs = totalMs - idleMs;
  const pct = (ms: number): string => `${fmt((100 * ms) / busyMs, 1)}%`;
  process.stdout.write(`profile ${file}: ${fmt(totalMs / 1000, 2)} s sampled, ${fmt(busyMs / 1000, 2)} s busy (percentages of busy time)\n\n`);
  const bySelf = [...frames].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  process.stdout.write(`self time\n${table(['frame', 'self ms', 'self %', 'total ms'], bySelf.map((f) => [f.frame, fmt(f.selfMs), pct(f.selfMs), fmt(f.totalMs)]))}\n\n`);
  const own = frames.filter((f) => / (\S*\/)?src\//.test(f.frame)).sort((a, b) => b.totalMs - a.totalMs).slice(0, top);
  process.stdout.write(`inclusive time, sluice's own functions\n${table(['frame', 'total ms', 'total %', 'self ms'], own.map((f) => [f.frame, fmt(f.totalMs), pct(f.totalMs), fmt(f.selfMs)]))}\n`);
}

runMain(import.meta.url, main);
