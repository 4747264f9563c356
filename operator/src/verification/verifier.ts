/**
 * The Verifier the rollout logic uses: smoke checks and metric samples of the new revision's pods, over
 * whichever PodHttp reaches them (the API server's proxy in the operator).
 */
import type { HelloSample } from '../crd/types.js';
import { parseHelloSample, sumSamples } from './analysis.js';
import { PodHttpError, podName, type PodHttp } from './pod-http.js';
import { runSmokeChecks, type SmokeOptions } from './smoke.js';
import type { PodRef, Verifier } from './types.js';

export const METRICS_PATH = '/metrics';
export const METRICS_TIMEOUT_MS = 5000;
/** Pods read per measurement: the first ones by name, so consecutive samples cover the same pods. */
export const MAX_SAMPLED_PODS = 10;
/** /metrics requests in flight at once for one sample. */
export const SAMPLE_CONCURRENCY = 4;
/** One sample ends after this long at the latest, however many pods hang. */
export const SAMPLE_DEADLINE_MS = 20_000;

/** A pod whose metrics could not be read; the rollout logic counts it as a failed measurement. */
export class SampleError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SampleError';
  }
}

export interface SampleOptions {
  deadlineMs?: number;
}

export function createVerifier(
  http: PodHttp,
  smokeOptions: SmokeOptions = {},
  sampleOptions: SampleOptions = {},
): Verifier {
  return {
    smoke: (pods, checks) => runSmokeChecks(http, pods, checks, smokeOptions),
    sample: (pods) => samplePods(http, pods, sampleOptions.deadlineMs ?? SAMPLE_DEADLINE_MS),
  };
}

/** The pods a measurement reads: at most MAX_SAMPLED_PODS, the same ones each time while they live. */
export function podsToSample(pods: readonly PodRef[]): PodRef[] {
  return [...pods].sort((a, b) => podName(a).localeCompare(podName(b))).slice(0, MAX_SAMPLED_PODS);
}

/** SAMPLE_CONCURRENCY pods at a time; the first failure stops the rest (the measurement has failed). */
async function samplePods(http: PodHttp, pods: readonly PodRef[], deadlineMs: number): Promise<HelloSample> {
  const deadline = AbortSignal.timeout(deadlineMs);
  const queue = podsToSample(pods);
  const samples: HelloSample[] = [];
  const worker = async (): Promise<void> => {
    for (let pod = queue.shift(); pod !== undefined; pod = queue.shift()) {
      if (deadline.aborted) {
        throw new SampleError(
          `sampling /metrics did not finish within its deadline of ${deadlineMs / 1000}s`,
        );
      }
      try {
        samples.push(await samplePod(http, pod, deadline));
      } catch (error) {
        queue.length = 0;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SAMPLE_CONCURRENCY, queue.length) }, worker));
  return sumSamples(samples);
}

async function samplePod(http: PodHttp, pod: PodRef, deadline: AbortSignal): Promise<HelloSample> {
  let response;
  try {
    response = await http.request(pod, {
      method: 'GET',
      path: METRICS_PATH,
      timeoutMs: METRICS_TIMEOUT_MS,
      signal: deadline,
    });
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
