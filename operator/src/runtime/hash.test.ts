// The hashes the operator writes on live objects, pinned to the values of operator 0.1.0. A pod
// template's revision (hello.dev/revision) and config checksum (hello.dev/config-checksum) are part of
// the template, so a different value after an upgrade would restart every user's pods, and a revision
// no longer matching status.stableRevision would look like a new rollout; the desired-hash annotation
// (hello.dev/desired-hash) would make every child look changed once. If one of these fails, the change
// alters what users' clusters run: make it on purpose, or not at all.
import { describe, expect, it } from '@jest/globals';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloWorld } from '../crd/types.js';
import { buildPodTemplate, configChecksum, desiredState } from '../builders/index.js';
import { REVISION_ANNOTATION, revisionOf } from '../rollout/revision.js';
import { DESIRED_HASH_ANNOTATION as ANNOTATION_DESIRED_HASH } from '../crd/labels.js';
import { withDesiredHash } from './apply-diff.js';
import { canonicalJson, hashObject, sha256Hex, sortedJson } from './hash.js';

/** Every corner the serializers treat differently: key order, integer-like keys, empties, null, Date. */
const awkward = {
  b: 1,
  a: { d: [], c: null, e: undefined, f: { y: 2, x: 1 }, g: {} },
  '10': 'ten',
  '9': 'nine',
  '1a': 'one-a',
  '01': 'leading zero',
  '4294967294': 'largest array index',
  '4294967295': 'not an array index',
  Z: [null, undefined, 0, '', false, [], {}, { k: undefined }],
  when: new Date('2026-01-02T03:04:05.000Z'),
  s: 'é"\\\n',
  n: -1.5e-7,
};

const template: V1PodTemplateSpec = {
  metadata: {
    labels: { app: 'hello', tier: 'api' },
    annotations: { '10': 'a', '9': 'b', 'x/y': '', [REVISION_ANNOTATION]: 'ignored' },
  },
  spec: {
    containers: [{ name: 'api', image: 'hello:1', env: [], ports: [{ containerPort: 8080 }], resources: {} }],
    volumes: [{ name: 'tmp', emptyDir: {} }],
  },
};

const hw: HelloWorld = {
  apiVersion: 'hello.dev/v1alpha1',
  kind: 'HelloWorld',
  metadata: { name: 'demo', namespace: 'team-a', uid: 'uid-1', generation: 3 },
  spec: {
    image: 'hello/api:1.0.0',
    podAnnotations: { '2': 'two', '10': 'ten', team: 'a' },
    podLabels: { team: 'a' },
    env: [{ name: 'GREETING', value: 'hi' }],
  },
};

describe('the serializers behind the hashes', () => {
  it('canonicalJson (revisions) sorts keys, integer-like keys first, and drops empties', () => {
    expect(canonicalJson(awkward)).toBe(
      '{"9":"nine","10":"ten","4294967294":"largest array index","01":"leading zero","1a":"one-a","4294967295":"not an array index","Z":[null,null,0,"",false,null,null,null],"a":{"f":{"x":1,"y":2}},"b":1,"n":-1.5e-7,"s":"é\\"\\\\\\n","when":"2026-01-02T03:04:05.000Z"}',
    );
  });

  it('sortedJson (desired-hash) sorts keys by code unit and keeps empties and nulls', () => {
    expect(sortedJson(awkward)).toBe(
      '{"01":"leading zero","10":"ten","1a":"one-a","4294967294":"largest array index","4294967295":"not an array index","9":"nine","Z":[null,null,0,"",false,[],{},{}],"a":{"c":null,"d":[],"f":{"x":1,"y":2},"g":{}},"b":1,"n":-1.5e-7,"s":"é\\"\\\\\\n","when":{}}',
    );
  });
});

describe('canonicalJson and sortedJson', () => {
  it('ignore key order', () => {
    const [a, b] = [
      { b: 1, a: { y: [2, 1], x: 1 } },
      { a: { x: 1, y: [2, 1] }, b: 1 },
    ];
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(sortedJson(a)).toBe('{"a":{"x":1,"y":[2,1]},"b":1}');
  });

  it('treat null, undefined and empties alike only in canonicalJson: the API server omits them', () => {
    expect(canonicalJson({ annotations: {}, env: [], name: null, x: undefined })).toBe('null');
    expect(canonicalJson([undefined, null])).toBe('[null,null]');
    expect(sortedJson({ annotations: {}, env: [], name: null, x: undefined })).toBe(
      '{"annotations":{},"env":[],"name":null}',
    );
    expect(sortedJson(undefined)).toBe('null');
  });
});

describe('sha256Hex and hashObject', () => {
  it('cut sha256 to the digits asked for', () => {
    // printf abc | sha256sum
    expect(sha256Hex('abc', 64)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abc', 10)).toBe('ba7816bf8f');
    expect(hashObject({ a: 1, b: 2 })).toBe(hashObject({ b: 2, a: 1 }));
    expect(hashObject({ a: 1 })).toBe(sha256Hex('{"a":1}', 16));
  });
});

describe('hashes written on live objects', () => {
  it('revision of a pod template', () => {
    expect(revisionOf(template)).toBe('3ad6699ef3');
  });

  it('config checksum', () => {
    expect(configChecksum('requirepass pA55-word\nport 6379\n')).toBe('aff3024b6a58424d');
    expect(configChecksum('redis://:pw@redis.example:6379/0')).toBe('f9f8427d294b8016');
  });

  it('desired hash', () => {
    expect(hashObject(awkward)).toBe('6afafec6d142f3c9');
    expect(
      withDesiredHash({ kind: 'Service', metadata: { name: 'demo' } }, ANNOTATION_DESIRED_HASH).metadata
        .annotations,
    ).toEqual({
      [ANNOTATION_DESIRED_HASH]: 'f5b4a2209231fcc9',
    });
  });

  it('what the builders produce for a HelloWorld', () => {
    const spec = resolveSpec(hw.spec);
    const podTemplate = buildPodTemplate(hw, spec, configChecksum('redis://demo-redis:6379'));
    const state = desiredState(hw, spec, {
      redis: { password: 'pA55-word_0123456789abcdef', checksum: configChecksum('redis://demo-redis:6379') },
      prometheusOperatorInstalled: false,
    });
    expect(state.specRevision).toBe(podTemplate.revision);
    expect({
      revision: podTemplate.template.metadata?.annotations?.[REVISION_ANNOTATION],
      desired: Object.fromEntries(
        state.apply.map((o) => [
          `${o.kind ?? ''}/${o.metadata?.name ?? ''}`,
          withDesiredHash(o, ANNOTATION_DESIRED_HASH).metadata.annotations[ANNOTATION_DESIRED_HASH],
        ]),
      ),
    }).toEqual({
      revision: 'e0d9283a87',
      desired: {
        'Deployment/demo': '3321ff0be10cd716',
        'NetworkPolicy/demo-redis': '5510781c8f31504d',
        'PodDisruptionBudget/demo': 'c20e086325c86e97',
        'Secret/demo-redis-auth': 'fb48aac692d34133',
        'Service/demo': '9222ade964ab9a27',
        'Service/demo-redis': '3bae0ecddb7927d4',
        'StatefulSet/demo-redis': 'c4f69107302f56b0',
      },
    });
  });
});
