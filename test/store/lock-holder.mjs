// Child process for two-process.test.ts: creates a rollback-journal SQLite file, holds its write lock
// (BEGIN IMMEDIATE) for <ms> milliseconds, then releases it and exits.
// Usage (via child_process.fork): node lock-holder.mjs <file> <ms>
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { openDatabase } from '../../dist/store/sqlite-driver.js';

const [file, msText] = process.argv.slice(2);
const db = openDatabase(file); // the runtime's driver, as the store uses
db.exec('CREATE TABLE IF NOT EXISTS holder (x INTEGER)');
db.exec('BEGIN IMMEDIATE');
process.send({ type: 'locked' });
setTimeout(() => {
  db.exec('ROLLBACK');
  db.close();
  process.disconnect();
}, Number(msText));
