// The operator CLI as a function: `runCli(argv, {stdout, stderr, env})` → exit code, so tests run
// it in-process. Reads the command line, runs the command against the admin API and turns every
// error into one `sluice: …` line and its exit code. `serve` and `demo` are main.ts's.

import { CliError, EXIT_FAILED, EXIT_OK, RejectedError, type ExitCode } from './cli-error.js';
import { commandOptions, readCommandLine } from './cli-args.js';
import type { Command } from './commands/command.js';
import { AdminClient, readCaFile, readClientCertificate } from './http-client.js';
import { Output, type CliIo } from './output.js';
import { USAGE, shortUsage } from './usage.js';

function report(error: unknown, io: CliIo, out: Output, command: Command | undefined): ExitCode {
  if (!(error instanceof CliError)) {
    out.error(error instanceof Error ? error.message : String(error));
    return command?.failureExit ?? EXIT_FAILED;
  }
  if (error instanceof RejectedError && out.json) out.printJson(error.body);
  out.error(error.message);
  if (error.showUsage) io.stderr.write(`\n${shortUsage(command)}`);
  return command?.failureExit ?? error.exitCode;
}

export async function runCli(argv: string[], io: CliIo): Promise<ExitCode> {
  let command: Command | undefined;
  let out = new Output(io, false);
  try {
    const line = readCommandLine(argv);
    command = line.command;
    if (line.help || command === undefined) {
      out.line(command ? `${command.summary}\n${shortUsage(command)}`.trimEnd() : USAGE.trimEnd());
      return EXIT_OK;
    }
    const { json, server, token, caCert, clientCert, ...options } = commandOptions(command, line.values, io.env);
    out = new Output(io, json);
    const client = new AdminClient(server, token, {
      ...(caCert === undefined ? {} : { ca: readCaFile(caCert) }),
      ...(clientCert === undefined ? {} : readClientCertificate(clientCert.certFile, clientCert.keyFile)),
    });
    return await command.run({ args: line.args, ...options, terminal: io.stdout.isTTY === true, client, out });
  } catch (error) {
    return report(error, io, out, command);
  }
}
