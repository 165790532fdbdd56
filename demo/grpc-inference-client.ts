// A client of the demo's gRPC model through any address (Envoy's listener or a model server):
// one ModelInfer call with its features and metadata, answered with the prediction, the version
// and replica that computed it, and the version Envoy says served it. No retries, no state.

import * as grpc from '@grpc/grpc-js';
import { SERVED_VERSION_HEADER } from '../src/model/types.js';
import { loadDemoProtos, type InferResponse } from './grpc-model-server.js';

export interface InferAnswer {
  prediction: number;
  /** The version that computed the prediction (its own `model_version`). */
  version: string;
  replica?: string;
  /** The version Envoy stamped on the response metadata (`x-sluice-version`). */
  served?: string;
}

export function inferenceClient(address: string): grpc.Client {
  const { inference } = loadDemoProtos();
  return new inference(address, grpc.credentials.createInsecure());
}

/** One ModelInfer call; rejects with the gRPC error (its `code`, `details` and `metadata`). */
export function infer(client: grpc.Client, features: number[], metadata: Record<string, string> = {}, timeoutMs = 5_000): Promise<InferAnswer> {
  const headers = new grpc.Metadata();
  for (const [key, value] of Object.entries(metadata)) headers.set(key, value);
  const request = { model_name: 'linear', id: `call-${Date.now()}`, inputs: [{ name: 'features', datatype: 'FP64', shape: [1, features.length], contents: { fp64_contents: features } }] };
  return new Promise((resolve, reject) => {
    let served: string | undefined;
    const call = (client as any).ModelInfer(request, headers, { deadline: Date.now() + timeoutMs }, (error: grpc.ServiceError | null, reply?: InferResponse) => {
      if (error || !reply) return reject(error ?? new Error('empty reply'));
      const replica = reply.parameters['replica']?.string_param;
      resolve({
        prediction: reply.outputs[0]?.contents.fp64_contents?.[0] ?? NaN,
        version: reply.model_version,
        ...(replica === undefined ? {} : { replica }),
        ...(served === undefined ? {} : { served }),
      });
    }) as grpc.ClientUnaryCall;
    call.on('metadata', (received: grpc.Metadata) => {
      const value = received.get(SERVED_VERSION_HEADER)[0];
      if (value !== undefined) served = String(value);
    });
  });
}
