/**
 * The test-side SigV4 verifier (test/helpers/sigv4.ts) is proven against AWS's documented presigned-URL
 * example before it is trusted to check the server's links, and it refuses tampered and expired URLs.
 */
import { describe, expect, it } from 'vitest';
import { expectedSignature, verifyPresigned } from '../helpers/sigv4.js';

// "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)", Amazon S3 API reference.
const AK = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DOCUMENTED =
  'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
  '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
  '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
  '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
const during = new Date('2013-05-24T12:00:00Z');
const opts = { method: 'GET', accessKeyId: AK, secretAccessKey: SECRET, region: 'us-east-1', now: during };

describe('SigV4 presigned-URL verifier', () => {
  it("computes AWS's documented signature for examplebucket/test.txt", () => {
    expect(expectedSignature(new URL(DOCUMENTED), 'GET', SECRET, {})).toBe(
      'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
    expect(verifyPresigned(DOCUMENTED, opts)).toMatchObject({ ok: true, signedHeaders: ['host'] });
  });

  it.each([
    ['another key', DOCUMENTED.replace('/test.txt', '/test2.txt')],
    ['a longer expiry', DOCUMENTED.replace('X-Amz-Expires=86400', 'X-Amz-Expires=86401')],
    ['another bucket', DOCUMENTED.replace('examplebucket.', 'otherbucket.')],
    ['a changed signature', DOCUMENTED.replace(/d404$/, 'd405')],
    ['an added parameter', `${DOCUMENTED}&x-id=GetObject`],
  ])('refuses a tampered URL: %s', (_what, url) => {
    expect(verifyPresigned(url, opts)).toMatchObject({ ok: false });
  });

  it('refuses another method, another secret, another access key id, and an expired URL', () => {
    expect(verifyPresigned(DOCUMENTED, { ...opts, method: 'PUT' })).toMatchObject({ ok: false });
    expect(verifyPresigned(DOCUMENTED, { ...opts, secretAccessKey: `${SECRET}x` })).toMatchObject({ ok: false });
    expect(verifyPresigned(DOCUMENTED, { ...opts, accessKeyId: 'AKIAOTHER' })).toMatchObject({
      ok: false,
      reason: 'another access key id',
    });
    expect(verifyPresigned(DOCUMENTED, { ...opts, now: new Date('2013-05-25T00:00:01Z') })).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('refuses a link scoped to another region, and one dated in the future', () => {
    expect(verifyPresigned(DOCUMENTED, { ...opts, region: 'eu-west-1' })).toEqual({
      ok: false,
      reason: 'another region',
    });
    expect(verifyPresigned(DOCUMENTED, { ...opts, now: new Date('2013-05-23T23:59:59Z') })).toEqual({
      ok: false,
      reason: 'X-Amz-Date is in the future',
    });
  });
});
