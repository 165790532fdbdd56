// Every operator command, in the order the usage text lists them. Adding a command means adding
// it here; `serve` and `demo` are not here (main.ts runs them in the foreground).

import { applyCommand } from './apply.js';
import type { Command } from './command.js';
import { deleteCommand } from './delete.js';
import { diffCommand } from './diff.js';
import { statusCommand } from './status.js';
import { rolloutCommand } from './rollout.js';
import { shadowCommand } from './shadow.js';
import { promoteCommand, rollbackCommand, setWeightsCommand } from './traffic.js';

export const COMMANDS: readonly Command[] = [statusCommand, setWeightsCommand, promoteCommand, rollbackCommand, deleteCommand, applyCommand, diffCommand, rolloutCommand, shadowCommand];
