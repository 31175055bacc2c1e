/**
 * The media settings: the background worker, the output store, uploads and the public URL. Flags beat the
 * environment; a bad value stops start-up with one line naming the setting.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, USAGE } from '../../src/config.js';
import { keepsOutputs } from '../../src/config-media.js';
import { StartupError } from '../../src/errors.js';

const cfg = (argv: string[] = [], env: Record<string, string> = {}) => loadConfig(argv, env).config;

describe('media settings', () => {
  it('defaults: the worker on with 4 polls at once, a local store, outputs kept only with s3, 24 h links', () => {
    const c = cfg();
    expect(c).toMatchObject({
      worker: true,
      workerConcurrency: 4,
      outputStore: { kind: 'local' },
      outputUrlTtl: 86_400,
    });
    expect(keepsOutputs(c)).toBe(false);
    expect(c.publicUrl).toBeUndefined();
    expect(c.inputDir).toBeUndefined();
  });

  it('turns the worker off by flag or by MEDIAGEN_WORKER=0', () => {
    expect(cfg(['--no-worker']).worker).toBe(false);
    expect(cfg([], { MEDIAGEN_WORKER: '0' }).worker).toBe(false);
    expect(cfg([], { MEDIAGEN_WORKER: '1' }).worker).toBe(true);
    expect(cfg(['--worker-concurrency', '9']).workerConcurrency).toBe(9);
    expect(() => cfg(['--worker-concurrency', '0'])).toThrow(StartupError);
    expect(() => cfg(['--worker-concurrency', '65'])).toThrow(/workerConcurrency/);
  });

  it('reads s3://BUCKET[/PREFIX]; keeping outputs defaults on with it and can be turned off', () => {
    const c = cfg(['--output-store', 's3://acme-media/mediagen/out/']);
    expect(c.outputStore).toEqual({ kind: 's3', bucket: 'acme-media', prefix: 'mediagen/out' });
    expect(keepsOutputs(c)).toBe(true);
    expect(keepsOutputs(cfg(['--output-store', 's3://acme-media', '--no-keep-outputs']))).toBe(false);
    expect(keepsOutputs(cfg(['--keep-outputs']))).toBe(true);
    expect(cfg([], { MEDIAGEN_OUTPUT_STORE: 's3://b12' }).outputStore).toEqual({
      kind: 's3',
      bucket: 'b12',
      prefix: '',
    });
    // The flag beats the environment.
    expect(cfg(['--output-store', 'local'], { MEDIAGEN_OUTPUT_STORE: 's3://b12' }).outputStore).toEqual({
      kind: 'local',
    });
  });

  it('refuses a store that is neither local nor a plain s3 bucket and prefix', () => {
    for (const bad of [
      's3://',
      's3://A_Bucket',
      'gs://bucket',
      's3://bucket/../x',
      's3://bucket/a/./b',
      's3://b/x\\y',
      'file:///tmp',
    ]) {
      expect(() => cfg(['--output-store', bad]), bad).toThrow(/invalid outputStore/);
    }
  });

  it('bounds presigned links to SigV4’s 7 days and takes the AWS region and endpoint variables', () => {
    expect(cfg(['--output-url-ttl', '604800']).outputUrlTtl).toBe(604_800);
    expect(() => cfg(['--output-url-ttl', '604801'])).toThrow(/outputUrlTtl/);
    const c = cfg([], {
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9000',
      MEDIAGEN_S3_FORCE_PATH_STYLE: '1',
    });
    expect(c).toMatchObject({ s3Region: 'eu-west-1', s3Endpoint: 'http://127.0.0.1:9000', s3ForcePathStyle: true });
    expect(cfg([], { AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_S3: 'http://b' }).s3Endpoint).toBe('http://b');
    // Credentials are read where the bucket client is made, never copied into the settings.
    const keyed = cfg([], { AWS_ACCESS_KEY_ID: 'AKIDX', AWS_SECRET_ACCESS_KEY: 'SECRETX' });
    expect(JSON.stringify({ ...keyed, env: undefined })).not.toMatch(/AKIDX|SECRETX/);
  });

  it('takes a public URL (http or https, no trailing slash) and refuses anything else', () => {
    expect(cfg(['--public-url', 'https://mcp.example.com/']).publicUrl).toBe('https://mcp.example.com');
    expect(() => cfg(['--public-url', 'ftp://mcp.example.com'])).toThrow(/publicUrl/);
    expect(() => cfg(['--public-url', 'mcp.example.com'])).toThrow(/publicUrl/);
  });

  it('documents every media flag in --help', () => {
    for (const flag of [
      '--no-worker',
      '--worker-concurrency',
      '--output-store',
      '--keep-outputs',
      '--output-url-ttl',
      '--input-dir',
      '--public-url',
    ])
      expect(USAGE, flag).toContain(flag);
  });
});

describe('the state folder in sandbox mode', () => {
  it('is the per-user folder’s sandbox sub-folder unless one is named, so fake jobs never meet real ones', () => {
    const env = { XDG_STATE_HOME: '/home/u/.state' };
    const real = cfg([], env).stateDir;
    expect(cfg(['--sandbox'], env).stateDir).toBe(`${real}/sandbox`);
    expect(cfg([], { ...env, MEDIAGEN_SANDBOX: '1' }).stateDir).toBe(`${real}/sandbox`);
    expect(cfg([], { ...env, MEDIAGEN_SANDBOX: '0' }).stateDir).toBe(real);
    expect(cfg(['--sandbox', '--state-dir', '/tmp/both'], env).stateDir).toBe('/tmp/both');
    expect(cfg(['--sandbox'], { ...env, MEDIAGEN_STATE_DIR: '/tmp/both' }).stateDir).toBe('/tmp/both');
  });
});
