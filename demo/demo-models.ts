// The two demo model versions of the seed scenario (blue and green): their linear models and
// default ports. Owns only these constants; the HTTP serving lives in model-server.ts.

import type { LinearModel } from './model-server.js';

export interface DemoModel {
  port: number;
  model: LinearModel;
}

export const DEMO_MODELS: Readonly<Record<string, DemoModel>> = {
  blue: { port: 5001, model: { coefficients: [0.5, -0.25, 0.1], intercept: 1 } },
  green: { port: 5002, model: { coefficients: [0.55, -0.2, 0.12], intercept: 0.9 } },
};

/** The same two versions served over gRPC (Open Inference Protocol), on their own ports. */
export const DEMO_GRPC_PORTS: Readonly<Record<string, number>> = { blue: 5011, green: 5012 };
