// TEMPORARY stand-in until the real module lands (not committed).
import type { ShadowCompare } from '../model/types.js';
export interface Answer { status: number; grpcStatus?: number; contentType?: string; body: Buffer }
export type Comparison =
  | { outcome: 'agree'; difference?: number }
  | { outcome: 'disagree'; difference?: number; detail: string }
  | { outcome: 'candidate-error'; detail: string }
  | { outcome: 'incomparable'; detail: string };
export function compareAnswers(compare: ShadowCompare, user: Answer, candidate: Answer): Comparison {
  if (user.status !== 200) return { outcome: 'incomparable', detail: 'user failed' };
  if (candidate.status !== 200) return { outcome: 'candidate-error', detail: 'candidate failed' };
  const key = (compare.path ?? '').slice(1);
  const a = JSON.parse(user.body.toString())[key];
  const b = JSON.parse(candidate.body.toString())[key];
  const d = Math.abs(a - b);
  return d <= (compare.absolute ?? 0) ? { outcome: 'agree', difference: d } : { outcome: 'disagree', difference: d, detail: `${a} vs ${b}` };
}
