// Entry point of a client worker process (forked by fleet.ts): runs a FleetCore and answers the
// coordinator's commands over the IPC channel. Exits when the coordinator goes away.

import { FleetCore, type ConnectCommand } from './fleet-core.js';

export type WorkerRequest = { cmd: 'connect'; args: ConnectCommand } | { cmd: 'mark' | 'report' | 'drop' | 'reconnect' | 'churn' | 'close' };
export type WorkerCommand = WorkerRequest & { id: number };

export interface WorkerAnswer {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

const core = new FleetCore();

async function handle(command: WorkerCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'connect':
      return core.connect(command.args);
    case 'mark':
      return core.mark();
    case 'report':
      return core.report();
    case 'drop':
      return core.drop();
    case 'reconnect':
      return core.reconnect();
    case 'churn':
      return core.churn();
    case 'close':
      core.close();
      setTimeout(() => process.exit(0), 50);
      return undefined;
  }
}

process.on('message', (command: WorkerCommand) => {
  handle(command).then(
    (result) => process.send?.({ id: command.id, ok: true, result } satisfies WorkerAnswer),
    (error: unknown) => process.send?.({ id: command.id, ok: false, error: String(error) } satisfies WorkerAnswer),
  );
});
process.on('disconnect', () => process.exit(0));
