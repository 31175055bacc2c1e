/**
 * A throwaway PostgreSQL cluster of a test's own (.ci/pg.sh), for tests that stop and start the database
 * under a running server. The shared cluster of DATABASE_URL is never stopped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { ROOT } from './paths.js';

export interface OwnCluster {
  /** postgres://… of the cluster, on the port it really took. */
  url: string;
  stop(): void;
  start(): void;
  /** Stops it for good and removes its folder. */
  remove(): void;
}

/** Starts a cluster in `dir`, on `portGuess` or the next free port (.ci/pg.sh moves on when it is taken). */
export function startOwnCluster(dir: string, portGuess: number): OwnCluster {
  const url = execFileSync('bash', [`${ROOT}.ci/pg.sh`, 'start', dir, String(portGuess)], { encoding: 'utf8' }).trim();
  const port = Number(new URL(url).port);
  const ctl = (action: 'start' | 'stop'): void => {
    const bin = readdirSync('/usr/lib/postgresql').sort().at(-1);
    const pgCtl = `/usr/lib/postgresql/${bin}/bin/pg_ctl`;
    const args = ['-D', `${dir}/data`, '-w', '-l', `${dir}/server.log`];
    if (action === 'start') args.push('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`);
    else args.push('-m', 'fast');
    execFileSync('runuser', ['-u', 'postgres', '--', pgCtl, ...args, action], { stdio: 'ignore' });
  };
  return {
    url,
    stop: () => ctl('stop'),
    start: () => ctl('start'),
    remove: () => {
      if (existsSync(dir)) execFileSync('bash', [`${ROOT}.ci/pg.sh`, 'stop', dir], { stdio: 'ignore' });
    },
  };
}
