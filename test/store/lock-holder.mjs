// Child process for two-process.test.ts: creates a rollback-journal SQLite file, holds its write lock
// (BEGIN IMMEDIATE) for <ms> milliseconds, then releases it and exits.
// Usage (via child_process.fork): node lock-holder.mjs <file> <ms>
import process from 'node:process';
import { setTimeout } from 'node:timers';
import Database from 'better-sqlite3';

const [file, msText] = process.argv.slice(2);
const db = new Database(file);
db.exec('CREATE TABLE IF NOT EXISTS holder (x INTEGER)');
db.exec('BEGIN IMMEDIATE');
process.send({ type: 'locked' });
setTimeout(() => {
  db.exec('ROLLBACK');
  db.close();
  process.disconnect();
}, Number(msText));
