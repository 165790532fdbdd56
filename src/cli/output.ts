// Where the CLI writes and how it looks: lines and JSON on stdout, `sluice: …` lines on stderr,
// compact aligned tables, and colour only when stdout is a terminal (and NO_COLOR is unset).
// Formatting only; no command logic and no I/O beyond the streams it is given.

import type { Weights } from '../model/types.js';

/** The streams and environment a CLI run uses; tests pass their own. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
}

export type Paint = (text: string) => string;

const plain: Paint = (text) => text;
const sgr =
  (code: number): Paint =>
  (text) =>
    `\u001b[${code}m${text}\u001b[0m`;

export class Output {
  readonly green: Paint;
  readonly red: Paint;
  readonly yellow: Paint;

  constructor(
    private readonly io: CliIo,
    /** `--json`: commands print the server's JSON instead of tables. */
    readonly json: boolean,
  ) {
    const colour = io.stdout.isTTY === true && !io.env['NO_COLOR'] && io.env['TERM'] !== 'dumb';
    this.green = colour ? sgr(32) : plain;
    this.red = colour ? sgr(31) : plain;
    this.yellow = colour ? sgr(33) : plain;
  }

  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** Text as it is (e.g. terminal control sequences and a whole screen). */
  raw(text: string): void {
    this.io.stdout.write(text);
  }

  lines(texts: string[]): void {
    for (const text of texts) this.line(text);
  }

  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  error(text: string): void {
    this.io.stderr.write(`sluice: ${text}\n`);
  }
}

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function table(headers: string[], rows: string[][]): string[] {
  const all = [headers, ...rows];
  const widths = headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** `blue 90, green 10`, in the service's version order. */
export function formatWeights(weights: Weights): string {
  return Object.entries(weights)
    .map(([version, weight]) => `${version} ${weight}`)
    .join(', ');
}
