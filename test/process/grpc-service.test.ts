// The service field `protocol` through the real process: `sluice apply -f` a resource file (YAML)
// declaring a grpc service to `sluice serve` (bin/sluice.js), and a real Envoy carries ModelInfer
// calls to the gRPC model servers; the same file as http1 leaves Envoy unable to reach them.

import type * as grpc from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { infer, inferenceClient } from '../../demo/grpc-inference-client.js';
import { INFERENCE_SERVICE, startGrpcModelServer, type GrpcModelServer } from '../../demo/grpc-model-server.js';
import { startProcessStack, type ProcessStack } from '../support/process-stack.js';
import { runSluice } from '../support/sluice-process.js';

let stack: ProcessStack;
let models: GrpcModelServer[];
let client: grpc.Client;

function resourceFile(protocol: string): string {
  const [blue, green] = models;
  const file = join(stack.dir, `infer-${protocol}.yaml`);
  writeFileSync(
    file,
    [
      'name: infer',
      `protocol: ${protocol}`,
      `match: {prefix: /${INFERENCE_SERVICE}/}`,
      'versions:',
      `  - {name: blue, endpoints: [{address: 127.0.0.1, port: ${blue!.port}}]}`,
      `  - {name: green, endpoints: [{address: 127.0.0.1, port: ${green!.port}}]}`,
      'weights: {blue: 0, green: 100}',
      '',
    ].join('\n'),
  );
  return file;
}

async function apply(protocol: string): Promise<void> {
  const applied = await runSluice(['apply', '-f', resourceFile(protocol), '--server', stack.sluice.adminUrl]);
  expect(applied.stderr).toBe('');
  expect(applied.code).toBe(0);
  await stack.waitApplied((await stack.http('GET', '/v1/services/infer')).json.revision);
}

beforeAll(async () => {
  stack = await startProcessStack('grpc-process-envoy');
  models = [
    await startGrpcModelServer({ version: 'blue', model: DEMO_MODELS['blue']!.model }),
    await startGrpcModelServer({ version: 'green', model: DEMO_MODELS['green']!.model }),
  ];
  client = inferenceClient(new URL(stack.predictUrl).host);
}, 60_000);

afterAll(async () => {
  client?.close();
  await stack?.stop();
  for (const model of models ?? []) await model.close();
});

it('apply -f with protocol grpc: Envoy carries ModelInfer to the gRPC models; as http1 it cannot', async () => {
  await apply('grpc');
  expect((await stack.http('GET', '/v1/services/infer')).json).toMatchObject({ protocol: 'grpc' });
  const answer = await vi.waitFor(() => infer(client, [1, 2, 3]), { timeout: 10_000, interval: 50 });
  expect(answer).toMatchObject({ version: 'green', served: 'green' });

  await apply('http1');
  // Envoy now speaks HTTP/1.1 to servers that take only HTTP/2: the call fails (UNAVAILABLE).
  const refused = await infer(client, [1, 2, 3]).then(
    () => undefined,
    (error: grpc.ServiceError) => error,
  );
  expect(refused?.code).toBe(14);
});
