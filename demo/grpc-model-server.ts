// The demo's gRPC model server: one version of the linear model behind the Open Inference
// Protocol's ModelInfer (demo/proto/open-inference.proto) and gRPC's health service, on
// @grpc/grpc-js without TLS. Owns only its own listening socket; knows nothing about sluice or Envoy.

import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { MODEL_NAME, inputPlace, predict, type LinearModel } from './model-server.js';
import { repoRoot } from './repo-root.js';

/** The method a gRPC inference client calls, and the path prefix that routes the service. */
export const INFERENCE_SERVICE = 'inference.GRPCInferenceService';
const PROTO_OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

export interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
  contents: { fp32_contents?: number[]; fp64_contents?: number[] };
}

export interface InferRequest {
  id: string;
  inputs: Tensor[];
}

export interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, { string_param?: string }>;
  outputs: Tensor[];
}

/** The generated-at-load-time definitions of the demo's two gRPC services. */
export function loadDemoProtos(): { inference: grpc.ServiceClientConstructor; health: grpc.ServiceClientConstructor } {
  const dir = join(repoRoot(), 'demo', 'proto');
  const definition = grpc.loadPackageDefinition(loadSync([join(dir, 'open-inference.proto'), join(dir, 'health.proto')], PROTO_OPTIONS)) as any;
  return { inference: definition.inference.GRPCInferenceService, health: definition.grpc.health.v1.Health };
}

export interface GrpcModelServerOptions {
  version: string;
  /** 0 (the default) picks any free port. */
  port?: number;
  model: LinearModel;
  /** Names this instance when a version runs several replicas; answered as the `replica` parameter. */
  replica?: string;
  /** Share of calls answered with INTERNAL (an HTTP 200 carrying grpc-status 13), to play a broken model. */
  failureRate?: number;
  /** Share of inputs on which the prediction is off by one, as the HTTP model server's `quirkShare`. */
  quirkShare?: number;
}

export interface GrpcModelServer {
  version: string;
  port: number;
  /** `calls` counts every ModelInfer call, `failed` the INTERNAL answers it chose. */
  stats: { calls: number; failed: number };
  setFailureRate(rate: number): void;
  close(): Promise<void>;
}

function features(request: InferRequest, expected: number): number[] | string {
  const input = request.inputs[0];
  const values = input?.contents.fp32_contents?.length ? input.contents.fp32_contents : input?.contents.fp64_contents;
  if (!values || values.length !== expected) return `the first input must hold ${expected} FP32 or FP64 numbers`;
  return values;
}

export async function startGrpcModelServer(options: GrpcModelServerOptions): Promise<GrpcModelServer> {
  const { version, model, replica, quirkShare = 0 } = options;
  const stats = { calls: 0, failed: 0 };
  let failureRate = options.failureRate ?? 0;
  const protos = loadDemoProtos();
  const server = new grpc.Server();
  server.addService(protos.inference.service, {
    ServerLive: (_call: unknown, done: grpc.sendUnaryData<unknown>) => done(null, { live: true }),
    ServerReady: (_call: unknown, done: grpc.sendUnaryData<unknown>) => done(null, { ready: true }),
    ModelInfer: (call: grpc.ServerUnaryCall<InferRequest, InferResponse>, done: grpc.sendUnaryData<InferResponse>) => {
      stats.calls += 1;
      // Lets a test or a demo user play any failure: `x-demo-status: 14` answers UNAVAILABLE.
      const asked = Number(call.metadata.get('x-demo-status')[0]);
      if (Number.isInteger(asked) && asked > 0 && asked <= 16) return done({ code: asked, details: `${version} answers status ${asked} as asked` });
      const input = features(call.request, model.coefficients.length);
      if (typeof input === 'string') return done({ code: grpc.status.INVALID_ARGUMENT, details: input });
      if (Math.random() < failureRate) {
        stats.failed += 1;
        return done({ code: grpc.status.INTERNAL, details: `${version} is failing on purpose (failureRate ${failureRate})` });
      }
      done(null, {
        model_name: MODEL_NAME,
        model_version: version,
        id: call.request.id,
        parameters: replica === undefined ? {} : { replica: { string_param: replica } },
        outputs: [
          {
            name: 'prediction',
            datatype: 'FP64',
            shape: [1],
            contents: { fp64_contents: [predict(model, input) + (quirkShare > 0 && inputPlace(input) < quirkShare ? 1 : 0)] },
          },
        ],
      });
    },
  });
  server.addService(protos.health.service, {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, done: grpc.sendUnaryData<unknown>) => {
      if (call.request.service !== '' && call.request.service !== INFERENCE_SERVICE) {
        return done({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
      }
      done(null, { status: 'SERVING' });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    version,
    port,
    stats,
    setFailureRate(rate) {
      if (!(rate >= 0 && rate <= 1)) throw new Error('failureRate must be a number from 0 to 1');
      failureRate = rate;
    },
    // At once, like a crashed replica: open calls fail, Envoy sees connections refused.
    close: async () => server.forceShutdown(),
  };
}
