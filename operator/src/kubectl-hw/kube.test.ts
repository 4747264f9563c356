import { describe, expect, it } from '@jest/globals';
import { notFoundText } from './kube.js';

describe('notFoundText', () => {
  it('tells a missing HelloWorld from a cluster without the CRD', () => {
    expect(notFoundText('GET /apis/...: 404 NotFound: helloworlds.hello.dev "x" not found', 'x', 'ns')).toBe(
      'helloworld x not found in namespace ns',
    );
    expect(
      notFoundText(
        'GET /apis/...: 404 NotFound: the server could not find the requested resource',
        'x',
        'ns',
      ),
    ).toBe('the API server does not serve helloworlds.hello.dev/v1alpha1: is the HelloWorld CRD installed?');
    expect(notFoundText('GET /apis/...: 404 : 404 page not found', 'x', 'ns')).toContain('CRD installed?');
  });
});
