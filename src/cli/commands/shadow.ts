// `sluice shadow SERVICE`: how the service's shadow candidate answers compared with the answers
// users got — agreement with its interval, the candidate's errors, both sides' latency and the
// last disagreements. Read-only: GET /v1/services/{name}/shadow.

import type { ShadowReport } from '../../api/shadow.js';
import { EXIT_OK, usageError } from '../cli-error.js';
import { table } from '../output.js';
import type { Command, CommandContext } from './command.js';

function percentText(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

function msText(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(1)} ms`;
}

function reportLines(report: ShadowReport): string[] {
  const { agreement } = report;
  const compare = [report.compare.kind, report.compare.path, report.compare.absolute !== undefined ? `absolute ${report.compare.absolute}` : undefined, report.compare.relative !== undefined ? `relative ${report.compare.relative}` : undefined]
    .filter((part) => part !== undefined && part !== '')
    .join(', ');
  return [
    `${report.service}: shadow ${report.to} at ${report.percent}% (${compare})${report.active ? '' : ', not copying now'}, since ${report.since}`,
    agreement === null
      ? `  no answers compared yet (${report.incomparable} incomparable)`
      : `  agreed on ${percentText(agreement.rate)} (${report.agreed} of ${report.samples}; ${percentText(agreement.low)}–${percentText(agreement.high)} at ${percentText(agreement.confidence)}), ${report.disagreed} disagreed, ${report.candidateErrors} candidate error(s), ${report.incomparable} incomparable`,
    ...(report.difference ? [`  numeric difference: mean ${report.difference.mean}, max ${report.difference.max}`] : []),
    ...(report.servedByCandidate + report.unpaired.userOnly + report.unpaired.candidateOnly > 0
      ? [`  not compared: ${report.servedByCandidate} served by ${report.to} itself, ${report.unpaired.userOnly} without the candidate's answer, ${report.unpaired.candidateOnly} without the user's`]
      : []),
    '',
    ...table(
      ['side', 'answers', 'p50', 'p99'],
      [
        ['user', String(report.latencyMs.user.samples), msText(report.latencyMs.user.p50), msText(report.latencyMs.user.p99)],
        [report.to, String(report.latencyMs.candidate.samples), msText(report.latencyMs.candidate.p50), msText(report.latencyMs.candidate.p99)],
      ],
    ),
    ...(report.disagreements.length === 0
      ? []
      : ['', `last disagreements (${report.disagreements.length}):`, ...report.disagreements.map((d) => `  ${d.at} ${d.requestId}: ${d.detail}`)]),
  ];
}

export const shadowCommand: Command = {
  name: 'shadow',
  synopsis: 'shadow SERVICE',
  summary: "how the shadow candidate's answers compare with the answers users got (agreement, errors, latency, last disagreements)",
  options: [],
  async run({ args, client, out }: CommandContext) {
    const [name] = args;
    if (name === undefined || args.length > 1) throw usageError('shadow needs exactly one service');
    const report = await client.request<ShadowReport>('GET', `/v1/services/${encodeURIComponent(name)}/shadow`);
    if (out.json) out.printJson(report);
    else out.lines(reportLines(report));
    return EXIT_OK;
  },
};
