/** The output store a configuration names: the --output-dir folder, or an S3-compatible bucket. */
import type { Config } from '../config.js';
import { keepsOutputs } from '../config-media.js';
import { StartupError } from '../errors.js';
import { LocalStore } from './local.js';
import { S3Store } from './s3.js';
import type { OutputStore } from './store.js';

/**
 * Refuses (at start, exit code 2) an s3 store without credentials: AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN with temporary ones) in the environment.
 */
export function openOutputStore(config: Config): OutputStore {
  const s = config.outputStore;
  const { accessKeyId, secretAccessKey } = checkOutputStore(config);
  if (s.kind === 'local') return new LocalStore(config.outputDir);
  return s3Store(config, { accessKeyId, secretAccessKey });
}

/** The s3 store (the constructor refuses an endpoint the bucket cannot be addressed under). */
function s3Store(config: Config, creds: { accessKeyId: string; secretAccessKey: string }): S3Store {
  const s = config.outputStore;
  if (s.kind !== 's3') throw new Error('not an s3 output store');
  const sessionToken = config.env.AWS_SESSION_TOKEN?.trim();
  return new S3Store({
    bucket: s.bucket,
    prefix: s.prefix,
    region: config.s3Region,
    endpoint: config.s3Endpoint,
    forcePathStyle: config.s3ForcePathStyle,
    ...creds,
    ...(sessionToken ? { sessionToken } : {}),
  });
}

/**
 * The s3 store's credentials, or the start-up refusal (HTTP calls this at start: apps are built lazily).
 * Outputs kept in a local store need its folder.
 */
export function checkOutputStore(config: Config): { accessKeyId: string; secretAccessKey: string } {
  const s = config.outputStore;
  if (s.kind === 'local') {
    if (keepsOutputs(config) && !config.outputDir)
      throw new StartupError(
        'NOT_CONFIGURED: --keep-outputs with the local output store needs an output folder (--output-dir or MEDIAGEN_OUTPUT_DIR)',
      );
    return { accessKeyId: '', secretAccessKey: '' };
  }
  const accessKeyId = config.env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = config.env.AWS_SECRET_ACCESS_KEY?.trim();
  if (!accessKeyId || !secretAccessKey)
    throw new StartupError(
      `NOT_CONFIGURED: --output-store s3://${s.bucket}${s.prefix ? `/${s.prefix}` : ''} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment (AWS_SESSION_TOKEN too for temporary credentials; AWS_REGION, AWS_ENDPOINT_URL_S3 for another endpoint)`,
    );
  s3Store(config, { accessKeyId, secretAccessKey }); // the bucket's addressing, refused now rather than later
  return { accessKeyId, secretAccessKey };
}
