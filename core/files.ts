// Files the user names on the command line (objects, modules, captures, configs, outputs):
// read and written here so that every failure is one UserError line naming the path and
// the cause, never a stack trace.

import { closeSync, constants, fstatSync, openSync, readFileSync, writeFileSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from './errors.js';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
};

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (!code) return (e as Error).message;
  return REASONS[code] ? `${code}: ${REASONS[code]}` : code;
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The whole of a regular file. Anything else is refused before reading: a device such as
 * /dev/zero never ends, and a FIFO blocks until a writer comes (it is opened non-blocking,
 * so even the open returns at once).
 */
export function readInputFile(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new UserError(`${path}: cannot read (${reason(e)})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UserError(`${path}: cannot read (${kind(st)}; expected a regular file)`);
    return new Uint8Array(readFileSync(fd));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${path}: cannot read (${reason(e)})`);
  } finally {
    closeSync(fd);
  }
}

export function readInputText(path: string): string {
  return new TextDecoder().decode(readInputFile(path));
}

/** Write an output file whole; a missing directory, a directory or a read-only place is one line. */
export function writeOutputFile(path: string, bytes: Uint8Array): void {
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    const missingDirectory = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new UserError(`${path}: cannot write (${missingDirectory ? `ENOENT: no directory ${dirname(path)}` : reason(e)})`);
  }
}
