/**
 * The Verifier the rollout logic uses: smoke checks and metric samples of the new revision's pods, over
 * whichever PodHttp reaches them (the API server's proxy in the operator).
 */
import { parseHelloSample, sumSamples } from './analysis.js';
import { PodHttpError, podName, type PodHttp } from './pod-http.js';
import { runSmokeChecks, type SmokeOptions } from './smoke.js';
import type { HelloSample, PodRef, Verifier } from './types.js';

export const METRICS_PATH = '/metrics';
export const METRICS_TIMEOUT_MS = 5000;

/** A pod whose metrics could not be read; the rollout logic counts it as a failed measurement. */
export class SampleError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SampleError';
  }
}

export function createVerifier(http: PodHttp, smokeOptions: SmokeOptions = {}): Verifier {
  return {
    smoke: (pods, checks) => runSmokeChecks(http, pods, checks, smokeOptions),
    sample: async (pods) => sumSamples(await Promise.all(pods.map((pod) => samplePod(http, pod)))),
  };
}

async function samplePod(http: PodHttp, pod: PodRef): Promise<HelloSample> {
  let response;
  try {
    response = await http.request(pod, { method: 'GET', path: METRICS_PATH, timeoutMs: METRICS_TIMEOUT_MS });
  } catch (error) {
    const why = error instanceof PodHttpError ? error.reason : String(error);
    throw new SampleError(`pod ${podName(pod)} did not answer ${METRICS_PATH}: ${why}`, { cause: error });
  }
  if (response.status !== 200) {
    const by = response.proxyError !== undefined ? ` from the API server (${response.proxyError})` : '';
    throw new SampleError(`pod ${podName(pod)} answered ${METRICS_PATH} with status ${response.status}${by}`);
  }
  try {
    // Keyed by namespace/name: pods of one HelloWorld share a namespace, but the key must be unique anyway.
    return parseHelloSample(response.body, podName(pod));
  } catch (error) {
    throw new SampleError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}
