/**
 * Private temporary folders that say who made them, so that a later start can tell a folder left
 * by a killed process from one another thread of this process is still writing.
 *
 * A folder is named `<base>-<pid>-<process start, ms>-<random>`. It is stale when that process is
 * gone, or when the pid is ours but the start time is not: on Lambda a restarted runtime process
 * often gets the same pid in the sandbox's pid namespace. Threads of one process (serverless-offline
 * runs handlers in worker threads) share pid and start time, so they never remove each other's.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';

/** This process's start (ms since the epoch), the same in every thread of the process. */
export const PROCESS_STARTED_MS = Math.round(Date.now() - process.uptime() * 1000);
/** Two readings of the start time can differ by clock rounding; a restart is further apart. */
const SAME_PROCESS_TOLERANCE_MS = 1_000;

/** Creates `<parent>/<base>-<pid>-<start>-XXXXXX` with mode 0700 (mkdtemp's), parent included. */
export async function createOwnedTempFolder(parent: string, base: string): Promise<string> {
  await mkdir(parent, { recursive: true });
  return mkdtemp(path.join(parent, `${base}-${process.pid}-${PROCESS_STARTED_MS}-`));
}

/** Parses an owned folder's name: its pid and process start, or null when it is not one. */
export function ownerOf(name: string, base: string): { pid: number; started: number } | null {
  if (!name.startsWith(`${base}-`)) return null;
  const m = /^(\d+)-(\d+)-[A-Za-z0-9]{6}$/.exec(name.slice(base.length + 1));
  return m ? { pid: Number(m[1]), started: Number(m[2]) } : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is someone else's; it is not ours to clean.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the folder's owner process is gone (dead pid, or our pid from an earlier process). */
export function isStale(owner: { pid: number; started: number }): boolean {
  if (owner.pid === process.pid) return Math.abs(owner.started - PROCESS_STARTED_MS) > SAME_PROCESS_TOLERANCE_MS;
  return !alive(owner.pid);
}

/**
 * Removes `<parent>/<base>-*` folders whose owner is gone; returns the names removed. Never throws:
 * cleaning is a courtesy to /tmp, and a folder that cannot be removed must not stop a model load.
 */
export async function removeStaleFolders(parent: string, base: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const owner = ownerOf(name, base);
    if (!owner || !isStale(owner)) continue;
    try {
      await rm(path.join(parent, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Left for the next start.
    }
  }
  return removed;
}

/** Name prefix of the loader's spill folders under `MODEL_SPILL_DIR`. */
export const SPILL_FOLDER_BASE = 'qa-model-load';

/**
 * The private folder of one load attempt, created on first use: every spilled body or archive of
 * the attempt goes there, so one `remove()` cleans up after a failure, a retry or a success.
 */
export class SpillFolder {
  private dir: Promise<string> | undefined;
  private files = 0;

  constructor(private readonly parent: string) {}

  /** The folder, created now if needed. */
  ensure(): Promise<string> {
    this.dir ??= createOwnedTempFolder(this.parent, SPILL_FOLDER_BASE);
    return this.dir;
  }

  /** A new file path inside the folder (created now if needed), named after `name`. */
  async file(name: string): Promise<string> {
    const dir = await this.ensure();
    this.files += 1;
    return path.join(dir, `${this.files}-${path.basename(name)}`);
  }

  /** The folder, if one was created. */
  async path(): Promise<string | undefined> {
    return this.dir?.catch(() => undefined);
  }

  /** Removes the folder and everything in it; never throws. */
  async remove(): Promise<void> {
    const dir = await this.path();
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
