/**
 * The output store's part of the composition root (app.ts): the store the configuration names, the
 * keeper of succeeded jobs' outputs (when outputs are kept), the links results show, and media_upload
 * (s3 only). Nothing here touches stdio or process state.
 */
import type { Config } from './config.js';
import { keepsOutputs } from './config-media.js';
import type { DownloadPolicy } from './jobs/ssrf.js';
import type { Logger } from './log.js';
import { Keeper, KEEP_MS } from './outputs/keep.js';
import { linkMaker, type LinkMaker } from './outputs/links.js';
import { openOutputStore } from './outputs/open.js';
import { S3Store } from './outputs/s3.js';
import { Previewer } from './previews/previews.js';
import type { JobRecord, Store } from './store/store.js';
import type { ServerTool } from './tools/handler.js';
import { uploadTool } from './tools/upload-tool.js';

export interface AppOutputs {
  links: LinkMaker;
  /** Where kept outputs are fetched from (an s3 store's origin); undefined for a local folder. */
  origin?: string;
  /** App.keepOutputs: for the worker; throws only for transient trouble. */
  keepOutputs?: (job: JobRecord, signal: AbortSignal) => Promise<JobRecord>;
  /** For jobs_get / jobs_wait: keeps within the caller's time; never throws for trouble (the worker retries). */
  keepWhileReading?: (job: JobRecord, signal: AbortSignal, budgetMs: number) => Promise<JobRecord>;
  /** media_upload, with an s3 store (and, over stdio, an input folder). */
  tools: ServerTool[];
  /** Thumbnails and audio clips of succeeded jobs' outputs (always made: media_thumbnail uses it too). */
  previewer: Previewer;
  close(): Promise<void>;
}

export function appOutputs(
  config: Config,
  d: { store: Store; now: () => number; logger: Logger; policy: DownloadPolicy; uploads: 'path' | 'presign' },
): AppOutputs {
  const { logger } = d;
  const outputStore = openOutputStore(config);
  const keeper = keepsOutputs(config)
    ? new Keeper(
        outputStore,
        {
          maxBytes: config.downloadMaxMb * 1024 * 1024,
          maxOutputs: config.downloadMaxOutputs,
          policy: d.policy,
          outputDir: config.outputDir,
        },
        { store: d.store, now: d.now, logger },
      )
    : undefined;
  const previewer = new Previewer(
    outputStore,
    {
      policy: d.policy,
      maxSourceBytes: Math.min(config.downloadMaxMb, 50) * 1024 * 1024,
      outputDir: config.outputDir,
      keeps: keeper !== undefined,
    },
    logger,
  );
  const upload =
    outputStore instanceof S3Store
      ? uploadTool({
          s3: outputStore,
          mode: d.uploads,
          inputDir: config.inputDir,
          maxBytes: config.uploadMaxMb * 1024 * 1024,
          outputUrlTtl: config.outputUrlTtl,
        })
      : undefined;
  return {
    // Over HTTP (uploads are presigned there) callers are remote: no path on the server's disk is shown.
    links: linkMaker(outputStore, config.outputUrlTtl, d.uploads === 'presign'),
    origin: outputStore instanceof S3Store ? outputStore.objectUrl('origin').origin : undefined,
    keepOutputs: keeper
      ? async (job, signal) => {
          const r = await keeper.keep(job, signal, KEEP_MS + 5_000);
          if (r.transient) throw r.transient;
          if (r.running) throw new Error(`keeping the outputs of ${job.id} is still running`);
          return r.job;
        }
      : undefined,
    keepWhileReading: keeper
      ? async (job, signal, budgetMs) => {
          if (!keeper.pending(job)) return job;
          try {
            const r = await keeper.keep(job, signal, budgetMs);
            if (r.transient) logger.warn(`job ${job.id}: keeping outputs will be retried: ${r.transient.message}`);
            return r.job;
          } catch (err) {
            if (signal.aborted) throw err;
            logger.warn(`job ${job.id}: keeping outputs failed: ${err instanceof Error ? err.message : String(err)}`);
            return job;
          }
        }
      : undefined,
    tools: upload ? [upload] : [],
    previewer,
    close: async () => {
      await previewer.close();
      await keeper?.close();
      await outputStore.close();
    },
  };
}
