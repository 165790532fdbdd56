// A tiny gRPC service for proxyless-client tests: one unary method with JSON messages, a backend
// that answers with its version, and a tally of which version served a batch of calls. Loopback
// only; it knows nothing of sluice or xDS.

import * as grpc from '@grpc/grpc-js';

export interface PredictReply {
  version: string;
}

const PREDICT_PATH = '/sluice.test.Predictor/Predict';
const serialize = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const deserialize = (bytes: Buffer): any => JSON.parse(bytes.toString());

const predictorService: grpc.ServiceDefinition = {
  Predict: {
    path: PREDICT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  },
};

export interface Backend {
  port: number;
  close(): Promise<void>;
}

/** A backend on 127.0.0.1 (port 0: any free port) answering every call with `version`. */
export async function startBackend(version: string): Promise<Backend> {
  const server = new grpc.Server();
  server.addService(predictorService, {
    Predict: (_call: grpc.ServerUnaryCall<unknown, PredictReply>, callback: grpc.sendUnaryData<PredictReply>) => callback(null, { version }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { port, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

export function predictOnce(client: grpc.Client, metadata = new grpc.Metadata(), timeoutMs = 5_000): Promise<PredictReply> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest<unknown, PredictReply>(
      PREDICT_PATH,
      serialize,
      deserialize,
      { features: [1, 2, 3] },
      metadata,
      { deadline: Date.now() + timeoutMs },
      (error, reply) => (error || !reply ? reject(error ?? new Error('empty reply')) : resolve(reply)),
    );
  });
}

export interface Tally {
  failures: string[];
  byVersion: Record<string, number>;
}

/** Makes `count` calls with `concurrency` in flight and tallies the serving versions. */
export async function callMany(client: grpc.Client, count: number, concurrency = 16, metadata?: grpc.Metadata): Promise<Tally> {
  const tally: Tally = { failures: [], byVersion: {} };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      try {
        const { version } = await predictOnce(client, metadata);
        tally.byVersion[version] = (tally.byVersion[version] ?? 0) + 1;
      } catch (error) {
        tally.failures.push(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tally;
}
