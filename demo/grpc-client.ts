// `npm run demo:grpc-client`: ModelInfer calls to the demo's gRPC model through Envoy (h2c on
// 127.0.0.1:8080 by default), one line per call with the version that answered. Options:
// --count N, --pin VERSION (the pin header as metadata), --user KEY (x-user-id metadata), --address HOST:PORT.

import { parseArgs } from 'node:util';
import { SERVED_VERSION_HEADER } from '../src/model/types.js';
import { infer, inferenceClient } from './grpc-inference-client.js';

const FEATURES = [1, 2, 3];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1' },
      pin: { type: 'string' },
      user: { type: 'string' },
      address: { type: 'string', default: '127.0.0.1:8080' },
    },
  });
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new Error('--count must be a whole number from 1 to 10000');
  const metadata: Record<string, string> = {
    ...(values.pin ? { [SERVED_VERSION_HEADER]: values.pin } : {}),
    ...(values.user ? { 'x-user-id': values.user } : {}),
  };
  const client = inferenceClient(values.address);
  let failed = 0;
  for (let i = 0; i < count; i++) {
    try {
      const answer = await infer(client, FEATURES, metadata);
      process.stdout.write(`ModelInfer ${JSON.stringify(FEATURES)} → ${answer.prediction} from ${answer.version} (${SERVED_VERSION_HEADER}: ${answer.served ?? 'none'})\n`);
    } catch (error) {
      failed++;
      const { code, details } = error as { code?: number; details?: string };
      process.stdout.write(`ModelInfer failed: status ${code ?? '?'} ${details ?? String(error)}\n`);
    }
  }
  client.close();
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
